import Foundation
import Testing

@testable import TernMailbox

/// The Tern half of scripts/interop/maildir-dovecot.sh, which runs it with TERN_INTEROP_DIR set after real
/// Dovecot wrote a Maildir there: Tern lists what it reads (the script compares that with `doveadm fetch`), then
/// changes the Maildir and lists what it expects Dovecot to read back.
@Suite struct DovecotInteropTests {
    static let directory = ProcessInfo.processInfo.environment["TERN_INTEROP_DIR"]

    /// `uid flags` lines like the script makes from `doveadm fetch 'uid flags'` (flags sorted, no \Recent).
    static func view(_ box: any Mailbox) -> String {
        box.messages.map { message in
            let flags = (message.flags.imapNames + message.keywords).sorted()
            return ([String(message.uid)] + flags).joined(separator: " ") + "\n"
        }.joined()
    }

    @Test(.enabled(if: directory != nil)) func roundTrip() throws {
        let dir = try #require(Self.directory)
        let maildir = dir + "/home/Maildir"
        let store = MailStore(settings: MailStoreSettings(root: maildir, separator: "/"))

        // Dovecot → Tern.
        let inbox = try store.openMailbox("INBOX")
        let sent = try store.openMailbox("Sent")
        try Self.view(inbox).write(toFile: dir + "/tern-read-INBOX.txt", atomically: true, encoding: .utf8)
        try Self.view(sent).write(toFile: dir + "/tern-read-Sent.txt", atomically: true, encoding: .utf8)
        try "\(inbox.uidValidity) \(inbox.nextUID)\n".write(
            toFile: dir + "/tern-read-status.txt", atomically: true, encoding: .utf8)
        try (store.listMailboxes().map(\.name).joined(separator: "\n") + "\n")
            .write(toFile: dir + "/tern-read-list.txt", atomically: true, encoding: .utf8)

        // Tern → Dovecot.
        let first = try #require(inbox.messages.first?.uid)
        _ = try inbox.updateFlags(uids: [first], .add, flags: [.answered], keywords: ["fromtern"])
        if inbox.messages.count > 1 { _ = try inbox.expunge(uids: [inbox.messages[1].uid]) }
        let appended = try inbox.append(
            "From: tern@example\r\nSubject: appended by Tern\r\n\r\nbody\r\n", flags: [.seen, .flagged],
            keywords: ["$Label2"], date: 1_700_000_000)
        let mtaName = "1700000001.Q1A2B3C4R0N0.interop"
        try Data("From: mta@example\nSubject: delivered\n\nbare LF body\n".utf8)
            .write(to: URL(fileURLWithPath: maildir + "/new/" + mtaName))
        _ = try inbox.sync()
        _ = try store.copy(uids: [appended], from: inbox, to: "Sent")
        try store.createMailbox("Tern/Made")
        try store.subscribe("Tern/Made")
        _ = try sent.sync()
        try Self.view(inbox).write(toFile: dir + "/tern-wrote-INBOX.txt", atomically: true, encoding: .utf8)
        try Self.view(sent).write(toFile: dir + "/tern-wrote-Sent.txt", atomically: true, encoding: .utf8)
        let sizes = try inbox.messages.map { "\($0.uid) \($0.size) \(try inbox.virtualSize(uid: $0.uid))\n" }.joined()
        try sizes.write(toFile: dir + "/tern-wrote-sizes.txt", atomically: true, encoding: .utf8)
        _ = try inbox.sync()  // stores the computed W fields
    }
}
