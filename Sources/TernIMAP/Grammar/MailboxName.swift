import TernCore
/// A mailbox name as it travels on the wire: modified UTF-7 (RFC 3501 §5.1.3) in the bytes of an astring.
/// INBOX is case-insensitive (RFC 3501 §5.1), so every spelling of it compares equal to `.inbox`.
public struct MailboxName: Sendable, Hashable {
    /// The wire bytes (modified UTF-7, or whatever the client sent).
    public var bytes: [UInt8]

    public static let inbox = MailboxName(bytes: Array("INBOX".utf8))

    public init(bytes: [UInt8]) {
        self.bytes = Self.isInboxSpelling(bytes) ? Array("INBOX".utf8) : bytes
    }

    /// The name for a Unicode mailbox name, encoded in modified UTF-7.
    public init(_ name: String) {
        self.init(bytes: Array(ModifiedUTF7.encode(name).utf8))
    }

    public var isInbox: Bool { bytes == Array("INBOX".utf8) }

    /// The Unicode name, or nil when the bytes are not valid modified UTF-7 (Dovecot then answers
    /// `NO Mailbox name is not valid mUTF-7`).
    public var decoded: String? { ModifiedUTF7.decode(bytes) }

    private static func isInboxSpelling(_ bytes: [UInt8]) -> Bool {
        bytes.count == 5 && String(decoding: bytes, as: UTF8.self).uppercased() == "INBOX"
    }
}
