// TernSMTP
