import Foundation
import TernCore
public import TernMailbox

/// The fields of `doveadm fetch` Tern serves, with Dovecot's names and value formats. Message parts are
/// printed as stored (the Maildir file's own line ends), as Dovecot does.
public enum DoveadmFetchField: String, Sendable, CaseIterable {
    case user, mailbox
    case mailboxGUID = "mailbox-guid"
    case seq, uid, guid, flags, hdr, body, text
    case sizePhysical = "size.physical"
    case sizeVirtual = "size.virtual"
    case dateReceived = "date.received"
    case dateSaved = "date.saved"
    case dateReceivedUnixtime = "date.received.unixtime"
    case dateSavedUnixtime = "date.saved.unixtime"
    case pop3UIDL = "pop3.uidl"

    public enum Value {
        case line(String)
        /// A multi-line value (`DoveadmPrinter.stream`).
        case bytes([UInt8])
    }

    /// The value for the message at `index` (sequence - 1) of `mailbox`.
    public func value(in mailbox: any Mailbox, index: Int, user: String) throws(MailboxError) -> Value {
        let message = mailbox.messages[index]
        switch self {
        case .user: return .line(user)
        case .mailbox: return .line(mailbox.name)
        case .mailboxGUID: return .line(mailbox.guid)
        case .seq: return .line(String(index + 1))
        case .uid: return .line(String(message.uid))
        case .guid: return .line(message.baseName)
        case .flags: return .line(DoveadmMail.flagText(message))
        case .sizePhysical: return .line(String(message.size))
        case .sizeVirtual: return .line(String(try mailbox.virtualSize(uid: message.uid)))
        // A Maildir file's received date is when it was saved (Dovecot stores no other for Maildir).
        case .dateReceived, .dateSaved: return .line(Self.localTime(message.internalDate))
        case .dateReceivedUnixtime, .dateSavedUnixtime: return .line(String(message.internalDate))
        case .pop3UIDL: return .line(mailbox.pop3UIDL(uid: message.uid) ?? "")
        case .hdr, .body, .text: return .bytes(try part(of: Self.read(mailbox, uid: message.uid)))
        }
    }

    private func part(of bytes: [UInt8]) -> [UInt8] {
        let split = Self.headerEnd(bytes)
        switch self {
        case .hdr: return Array(bytes[..<split])
        case .body: return Array(bytes[split...])
        default: return bytes
        }
    }

    /// Where the header ends: after its empty line (LF or CRLF), or the whole message when there is none.
    static func headerEnd(_ bytes: [UInt8]) -> Int {
        var lineStart = 0
        for (position, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") {
            let line = bytes[lineStart..<position]
            if line.isEmpty || line == [UInt8(ascii: "\r")] { return position + 1 }
            lineStart = position + 1
        }
        return bytes.count
    }

    static func read(_ mailbox: any Mailbox, uid: UInt32) throws(MailboxError) -> [UInt8] {
        var reader = try mailbox.openMessage(uid: uid)
        var bytes: [UInt8] = []
        while true {
            let chunk = try reader.read(upTo: 1 << 16)
            if chunk.isEmpty { return bytes }
            bytes += chunk
        }
    }

    /// `2024-01-31 12:00:00` in local time, as Dovecot's t_strflocaltime prints dates.
    static func localTime(_ seconds: Int) -> String {
        LocalTime.format(Int64(seconds), "%Y-%m-%d %H:%M:%S")
    }
}
