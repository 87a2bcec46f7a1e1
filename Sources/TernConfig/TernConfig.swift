// TernConfig
