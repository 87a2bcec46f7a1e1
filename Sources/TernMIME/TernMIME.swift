// TernMIME
