// TernMaps
