/// RFC 3461 §4.1 `NOTIFY=`. Raw values are Postfix's DSN_NOTIFY_* bits (dsn_mask.h), which is what
/// queue files store and postcat prints.
public struct DSNNotify: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let never = DSNNotify(rawValue: 1)
    public static let success = DSNNotify(rawValue: 2)
    public static let failure = DSNNotify(rawValue: 4)
    public static let delay = DSNNotify(rawValue: 8)
}

/// RFC 3461 §4.3 `RET=`: how much of the message a DSN returns.
public enum DSNReturn: String, Sendable, Hashable {
    case full = "FULL"
    case headers = "HDRS"
}

/// RFC 6152 / RFC 3030 `BODY=`.
public enum BodyType: String, Sendable, Hashable {
    case sevenBit = "7BIT"
    case eightBitMIME = "8BITMIME"
    case binaryMIME = "BINARYMIME"
}
