import TernConfig
import TernIMAP
import TernMailbox

/// The IMAP half of the mail session worker: IMAPMailSession over the session's channel. While the client
/// idles, the mailbox's directories are watched (MaildirWatcher) and a change wakes the session (after 0.5 s),
/// with a re-scan every 30 seconds besides (Dovecot's mailbox_idle_check_interval); without inotify it
/// re-scans every second. The same holds while NOTIFY (RFC 5465) waits for changes, with the mail root and
/// the mailboxes NOTIFY follows watched too. An idling client gets `* OK Still here` every
/// imap_idle_notify_interval. Clients quiet for 30 minutes are logged out (Dovecot's autologout); after
/// COMPRESS DEFLATE (RFC 4978) both directions are compressed.
///
/// `@unchecked Sendable`: MailSessionChannelHandler runs one step at a time, each on some pool thread.
final class IMAPSessionWorker: MailProtocolSession, @unchecked Sendable {
    let request: MailSessionRequest
    let log: DovecotLog
    private let session: IMAPMailSession
    private var reason: String?
    /// COMPRESS=DEFLATE once the client turned it on.
    private var compression: (input: DeflateStream, output: DeflateStream)?
    private let watcher: MaildirWatcher?
    private let wake: @Sendable () -> Void
    private var watch: MaildirWatcher.Watch?
    private var watchedDirectories: [String] = []
    /// A change notification came: look once more a second later. Two changes within one tick of the file
    /// system's clock leave a directory's mtime as it was, so the first look may not see the second change.
    private var recheck = false

    /// Re-scans while idling without change notifications.
    static let idlePollMilliseconds = 1000
    /// Re-scans while idling with them.
    static let idleCheckMilliseconds = 30_000
    /// Otherwise ticks only count towards the autologout.
    static let quietTickMilliseconds = 60_000
    static let autologoutMilliseconds = 30 * 60 * 1000

    init(
        request: MailSessionRequest, store: MailStore, log: DovecotLog, settings: DovecotSettings,
        watcher: MaildirWatcher?, wake: @escaping @Sendable () -> Void
    ) {
        self.request = request
        self.log = log
        self.watcher = watcher
        self.wake = wake
        // Logs quota settings Dovecot would refuse; the session then enforces nothing.
        _ = MailSessionWorker.quotaRoots(request, settings, log)
        var configuration = Self.configuration(
            request.user, home: request.home, settings, userdb: request.quotaSettings ?? [:])
        configuration.acl?.groups = request.aclGroups ?? []
        let prefix = request.logPrefix
        configuration.logError = { [log] text in log.log(prefix, .error, text) }
        session = IMAPMailSession(store: store, configuration: configuration)
    }

    /// The session's settings from imap's: mail_plugins as Dovecot's (imap_zlib adds COMPRESS=DEFLATE to the
    /// capabilities after login; fts with a `plugin { fts = ... }` backend makes SEARCH BODY/TEXT use Tern's
    /// full-text index, whatever the backend's name), imap_capability (`+NAMES` adds to the list, anything
    /// else replaces it), imap_max_line_length, imap_metadata = yes with a `file:` mail_attribute_dict
    /// (METADATA; Dovecot's other dict drivers are not there), imap_literal_minus (LITERAL-, RFC 7888), and
    /// quota with the userdb's quota settings over dovecot.conf's (enforced; with imap_quota the QUOTA commands).
    static func configuration(
        _ user: String, home: String, _ settings: DovecotSettings, userdb: [String: String] = [:]
    ) -> IMAPMailSession.Configuration {
        var capabilities = IMAPReplyText.postLoginCapabilities
        let dict = settings.string("mail_attribute_dict")
        var metadataPath: String?
        if settings.string("imap_metadata") == "yes", dict.hasPrefix("file:") {
            metadataPath = AccessSettings.expand(String(dict.dropFirst(5)), user: user, home: home)
            capabilities.append(IMAPReplyText.metadata)
        }
        // Plugins add their capabilities in Dovecot 2.3.19's order whatever mail_plugins' order: its hooks run
        // in reverse load order (lib20_imap_zlib, lib11_imap_quota, lib02_imap_acl), each appending first.
        let plugins = settings.mailPlugins
        if plugins.contains("imap_zlib") { capabilities.append(IMAPReplyText.compressDeflate) }
        let quota = (try? settings.quota(user: user, home: home, userdb: userdb)) ?? []
        let quotaCommands = !quota.isEmpty && plugins.contains("imap_quota")
        if quotaCommands { capabilities.append(IMAPReplyText.quota) }
        if plugins.contains("imap_acl"), settings.acl?.commands == true { capabilities += IMAPReplyText.aclCapabilities }
        let override = settings.string("imap_capability")
        let named = override.drop(while: { $0 == "+" }).split(separator: " ").map(String.init)
        if override.hasPrefix("+") {
            capabilities += named
        } else if !named.isEmpty {
            capabilities = named
        }
        let literalMinus = settings.bool("imap_literal_minus")
        if literalMinus { capabilities = IMAPReplyText.withLiteralMinus(capabilities) }
        var configuration = IMAPMailSession.Configuration(user: user, capabilities: capabilities)
        let lineLength = settings.bytes("imap_max_line_length")
        if lineLength > 0 { configuration.parserLimits = IMAPParserLimits(maxLineLength: Int(clamping: lineLength)) }
        if literalMinus {
            configuration.parserLimits.maxNonSynchronizingLiteralSize = IMAPParserLimits.literalMinusMaximum
        }
        configuration.fullTextSearch = settings.fullTextSearch
        configuration.fullTextAutoIndex = settings.fullTextAutoIndex
        configuration.metadataPath = metadataPath
        configuration.acl = settings.acl
        configuration.quota = quota
        configuration.quotaCommands = quotaCommands
        configuration.quotaWarningPrograms = settings.quotaWarningPrograms
        configuration.idleNotifyInterval = Double(settings.imapIdleNotifyInterval)
        return configuration
    }

    var tickMilliseconds: Int {
        guard session.isWaitingForChanges else { return Self.quietTickMilliseconds }
        let check = watch == nil || recheck ? Self.idlePollMilliseconds : Self.idleCheckMilliseconds
        guard session.isIdling, keepaliveMilliseconds > 0 else { return check }
        return min(check, keepaliveMilliseconds)
    }

    /// imap_idle_notify_interval in milliseconds; 0 when keepalives are off.
    private var keepaliveMilliseconds: Int { Int(session.idleNotifyInterval * 1000) }

    /// Watches the directories the session waits on (IDLE, NOTIFY), and nothing otherwise.
    private func updateWatch() {
        let directories = session.idleDirectories
        guard directories != watchedDirectories else { return }
        if let watch { watcher?.cancel(watch) }
        watchedDirectories = directories
        watch = directories.isEmpty ? nil : watcher?.watch(directories, wake)
    }

    func start(_ output: SessionOutput) throws(SessionOutput.Closed) -> Bool {
        try output.write(session.loggedIn(tag: request.tag ?? "*"))
        return false
    }

    func receive(_ bytes: [UInt8], _ output: SessionOutput) throws(SessionOutput.Closed) -> Bool {
        guard let compression else { return try handle(bytes, output) }
        var close = false
        do {
            try compression.input.decompress(bytes) { plain in
                if !close { close = try handle(plain, output) }
            }
        } catch let closed as SessionOutput.Closed {
            throw closed
        } catch {
            reason = "Connection closed: inflate(): Invalid compressed data"
            return true
        }
        return close
    }

    private func handle(_ plain: [UInt8], _ output: SessionOutput) throws(SessionOutput.Closed) -> Bool {
        let answer = session.receive(plain)
        updateWatch()
        try write(answer.bytes, output)
        if answer.close {
            reason = "Logged out"
            return true
        }
        guard let rest = answer.compressedInput else { return false }
        guard let input = DeflateStream(.decompress), let compressed = DeflateStream(.compress) else {
            reason = "Connection closed: zlib initialization failed"
            return true
        }
        compression = (input, compressed)
        return rest.isEmpty ? false : try receive(rest, output)
    }

    func tick(quietMilliseconds: Int, _ output: SessionOutput) throws(SessionOutput.Closed) -> Bool {
        if quietMilliseconds >= Self.autologoutMilliseconds {
            try write(Array("* BYE Disconnected for inactivity.\r\n".utf8), output)
            reason = "Disconnected for inactivity"
            return true
        }
        recheck = false
        try write(session.poll(), output)
        updateWatch()
        return false
    }

    func wake(_ output: SessionOutput) throws(SessionOutput.Closed) -> Bool {
        recheck = true
        try write(session.poll(), output)
        updateWatch()
        return false
    }

    /// Writes `bytes` to the client, compressed once COMPRESS is on.
    private func write(_ bytes: [UInt8], _ output: SessionOutput) throws(SessionOutput.Closed) {
        guard !bytes.isEmpty else { return }
        guard let compression else { return try output.write(bytes) }
        do {
            try output.write(try compression.output.compress(bytes))
        } catch {
            throw SessionOutput.Closed()
        }
    }

    func finish(clientClosed: Bool) {
        if let watch { watcher?.cancel(watch) }
        watch = nil
        log.info(request.logPrefix, "Disconnected: \(reason ?? "Connection closed") \(session.statistics.logoutText)")
    }
}

extension DovecotSettings {
    /// The names in mail_plugins.
    var mailPlugins: [String] {
        string("mail_plugins").split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
    }

    /// Dovecot's fts plugin: in mail_plugins, with a backend in `plugin { fts = ... }`.
    var fullTextSearch: Bool { mailPlugins.contains("fts") && !(plugin["fts"] ?? "").isEmpty }

    /// Dovecot's acl plugin with its vfile backend (`plugin { acl = vfile }`) on Maildir or mbox: per-mailbox
    /// dovecot-acl files. `acl_anyone = allow` lets SETACL grant rights to anyone and authenticated. Without
    /// imap_acl the rights still apply but the ACL commands are unknown.
    var acl: ACLSettings? {
        let backend = plugin["acl"] ?? ""
        guard mailPlugins.contains("acl"), backend == "vfile" || backend.hasPrefix("vfile:") else { return nil }
        // `vfile:PATH[:options]`: PATH is the global ACL directory or file.
        let path = backend.split(separator: ":").dropFirst().first.map(String.init)
        let dict = plugin["acl_shared_dict"].flatMap { $0.hasPrefix("file:") ? String($0.dropFirst(5)) : nil }
        return ACLSettings(
            commands: mailPlugins.contains("imap_acl"), anyoneAllowed: plugin["acl_anyone"] == "allow", globalPath: path,
            sharedDictPath: dict)
    }

    /// `plugin { fts_autoindex = yes }`: deliveries update the index.
    var fullTextAutoIndex: Bool { fullTextSearch && plugin["fts_autoindex"] == "yes" }
}
