// TernDelivery
