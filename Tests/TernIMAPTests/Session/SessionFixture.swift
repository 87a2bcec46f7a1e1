import Foundation
import TernIMAP
import TernMailbox

/// A session on a temporary Maildir with a clock that never moves, so every tagged reply ends in
/// `(0.001 + 0.000 secs).`.
final class SessionFixture {
    let root: String
    let store: MailStore
    let session: IMAPMailSession

    init(
        mailboxes: [MailboxSettings] = [], capabilities: [String] = IMAPReplyText.postLoginCapabilities,
        fullTextSearch: Bool = false, fullTextAutoIndex: Bool = false,
        indexedInBackground: @escaping @Sendable () -> Void = {}, metadata: Bool = false,
        acl: ACLSettings? = nil, quota: [String: String]? = nil, quotaCommands: Bool = true,
        warningPrograms: [String: [String]] = [:],
        clock: @escaping @Sendable () -> Double = { 0 }, idleNotifyInterval: Double = 120,
        now: (@Sendable () -> Int)? = nil, logError: (@Sendable (String) -> Void)? = nil
    ) throws {
        let base = NSTemporaryDirectory() + "tern-imap-session-" + UUID().uuidString
        root = base + "/Maildir"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let roots = try quota.map { try QuotaSettings.roots($0) } ?? []
        store = MailStore(
            settings: MailStoreSettings(root: root, separator: "/", mailboxes: mailboxes).ignoringInMaildirSize(roots))
        var configuration = IMAPMailSession.Configuration(user: "tuser", capabilities: capabilities, clock: clock)
        configuration.idleNotifyInterval = idleNotifyInterval
        if let now { configuration.now = now }
        configuration.logError = logError
        configuration.fullTextSearch = fullTextSearch
        configuration.fullTextAutoIndex = fullTextAutoIndex
        configuration.fullTextIndexedInBackground = indexedInBackground
        if metadata { configuration.metadataPath = base + "/dovecot-attributes" }
        configuration.acl = acl
        if quota != nil {
            configuration.quota = roots
            configuration.quotaCommands = quotaCommands
            configuration.quotaWarningPrograms = warningPrograms
        }
        session = IMAPMailSession(store: store, configuration: configuration)
    }

    deinit { try? FileManager.default.removeItem(atPath: (root as NSString).deletingLastPathComponent) }

    /// Sends client text and returns the reply text.
    @discardableResult
    func send(_ text: String) -> String {
        String(decoding: session.receive(Array(text.utf8)).bytes, as: UTF8.self)
    }

    /// What the MTA does: a file in new/ (of INBOX or `.folder`), LF line ends.
    func deliver(_ text: String, name: String, folder: String? = nil, mtime: Int? = nil) throws {
        let dir = (folder.map { root + "/." + $0 } ?? root) + "/new"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: dir + "/" + name))
        if let mtime {
            try FileManager.default.setAttributes(
                [.modificationDate: Date(timeIntervalSince1970: TimeInterval(mtime))], ofItemAtPath: dir + "/" + name)
        }
    }

    func uidValidity(_ name: String = "INBOX") throws -> UInt32 {
        try store.openMailbox(name, readOnly: true).uidValidity
    }

    /// OBJECTID's MAILBOXID (RFC 8474): the mailbox GUID.
    func mailboxID(_ name: String = "INBOX") throws -> String {
        try store.openMailbox(name, readOnly: true).guid
    }

    /// Three plain messages in INBOX, selected.
    func selectThree() throws {
        try deliver("From: Ann <ann@example.org>\nSubject: alpha\nDate: Tue, 1 Jul 2003 10:52:37 +0200\n\nfirst body\n",
            name: "1000.M1P1.host", mtime: 1_000_000_000)
        try deliver("From: Bob <bob@example.org>\nSubject: Beta news\n\nsecond body, longer than the first\n",
            name: "1001.M1P1.host", mtime: 1_100_000_000)
        try deliver("From: Cy <cy@example.org>\nTo: ann@example.org\nSubject: gamma\n\nthird\n",
            name: "1002.M1P1.host", mtime: 1_200_000_000)
        send("s SELECT INBOX\r\n")
    }
}

/// ` (0.001 + 0.000 secs).`: the timing suffix with the fixture's clock.
let done = " (0.001 + 0.000 secs).\r\n"
