import Glibc
public import TernMailbox

/// Everything after a successful login, as Dovecot 2.3's `imap` process does it (RFC 3501 §6.3, §6.4 and the
/// extensions in `IMAPReplyText.postLoginCapabilities`). One session per worker process: it does blocking
/// file I/O directly, and a driver feeds it client bytes (`receive`) and polls it while idling (`poll`).
public final class IMAPMailSession {
    public struct Configuration: Sendable {
        public var user: String
        /// The CAPABILITY list after login, in Dovecot's order.
        public var capabilities: [String]
        public var parserLimits: IMAPParserLimits
        /// SEARCH BODY/TEXT through the mailbox's FullTextIndex (Dovecot's fts plugin is configured).
        public var fullTextSearch = false
        /// Dovecot's fts_autoindex: messages saved by APPEND, COPY and MOVE go into the target's index at once.
        public var fullTextAutoIndex = false
        /// Runs when a background thread finished indexing a mailbox for a search of this session (tests wait
        /// for it).
        public var fullTextIndexedInBackground: @Sendable () -> Void = {}
        /// METADATA's attribute dict file (imap_metadata = yes with mail_attribute_dict = file:PATH).
        public var metadataPath: String?
        /// RFC 4314 ACL (Dovecot's acl and imap_acl plugins); nil when off: every right, no ACL commands.
        public var acl: ACLSettings?
        /// The quota plugin's roots (`quota`, `quota2`, ...): saves are checked against them; none when off.
        public var quota: [QuotaSettings] = []
        /// The imap_quota plugin: GETQUOTAROOT, GETQUOTA and SETQUOTA are known.
        public var quotaCommands = false
        /// quota_warning's programs by service name (MailQuota.warningPrograms).
        public var quotaWarningPrograms: [String: [String]] = [:]
        /// The largest message CATENATE may compose (`NO [TOOBIG]`, RFC 4469 §5): IMAP sizes end at 2^32-1.
        public var maxComposedMessageSize: Int
        /// Seconds on a monotonic clock, for the `(0.001 + 0.000 secs)` timing of tagged replies.
        public var clock: @Sendable () -> Double
        /// Seconds since the epoch, for SEARCH OLDER / YOUNGER (RFC 5032).
        public var now: @Sendable () -> Int
        /// imap_idle_notify_interval: `* OK Still here` this often (seconds on `clock`) while idling; 0 never.
        public var idleNotifyInterval: Double = 120
        /// Writes an `Error:` line to the session's log (`imap(user)<pid><session>: Error: text`).
        public var logError: (@Sendable (String) -> Void)?

        public init(
            user: String, capabilities: [String] = IMAPReplyText.postLoginCapabilities,
            parserLimits: IMAPParserLimits = IMAPParserLimits(),
            maxComposedMessageSize: Int = Int(UInt32.max),
            clock: @escaping @Sendable () -> Double = IMAPMailSession.monotonicSeconds,
            now: @escaping @Sendable () -> Int = IMAPMailSession.epochSeconds
        ) {
            self.maxComposedMessageSize = maxComposedMessageSize
            self.user = user
            self.capabilities = capabilities
            self.parserLimits = parserLimits
            self.clock = clock
            self.now = now
        }
    }

    /// What to write to the client, and whether to close the connection after writing it.
    public struct Output: Sendable, Equatable {
        public var bytes: [UInt8]
        public var close: Bool
        /// COMPRESS DEFLATE was accepted (RFC 4978): `bytes` end with its OK, sent as they are; everything
        /// after is compressed both ways. `compressedInput` is what the client sent after the command (already
        /// compressed), for the caller to inflate and pass to `receive`.
        public var compressedInput: [UInt8]?

        public init(bytes: [UInt8], close: Bool, compressedInput: [UInt8]? = nil) {
            self.bytes = bytes
            self.close = close
            self.compressedInput = compressedInput
        }
    }

    /// RFC 4978 COMPRESS: off, accepted by the command being answered, or on.
    enum Compression { case none, starting, active }

    /// The counters of Dovecot's logout line (`imap_logout_format`).
    public struct Statistics: Sendable, Equatable {
        public var inBytes = 0
        public var outBytes = 0
        public var deleted = 0
        public var expunged = 0
        public var trashed = 0
        public var headerCount = 0
        public var headerBytes = 0
        public var bodyCount = 0
        public var bodyBytes = 0

        public init() {}

        /// Dovecot's default imap_logout_format, expanded.
        public var logoutText: String {
            "in=\(inBytes) out=\(outBytes) deleted=\(deleted) expunged=\(expunged) trashed=\(trashed) "
                + "hdr_count=\(headerCount) hdr_bytes=\(headerBytes) body_count=\(bodyCount) body_bytes=\(bodyBytes)"
        }
    }

    /// Dovecot disconnects after this many invalid commands in a row (CLIENT_MAX_BAD_COMMANDS).
    static let maxBadCommands = 20

    let store: MailStore
    let configuration: Configuration
    var parser: IMAPCommandParser
    var selected: SelectedMailbox?
    var idleTag: String?
    var append: AppendState?
    var output = IMAPWriter()
    var closing = false
    var badCommands = 0
    /// RFC 7162 §3.1: a CONDSTORE-enabling command was seen; unsolicited FETCH responses then carry MODSEQ.
    var condstoreEnabled = false
    var compression = Compression.none
    /// RFC 7162 §3.2: ENABLE QRESYNC was seen; expunges go out as VANISHED.
    var qresyncEnabled = false
    /// ENABLE UTF8=ACCEPT (RFC 6855 §3) or IMAP4rev2 (RFC 9051 §5.1): mailbox names travel as UTF-8, not
    /// modified UTF-7, and strings may be quoted UTF-8.
    var utf8Names = false
    /// ENABLE UTF8=ACCEPT itself: SEARCH may no longer name a CHARSET (RFC 6855 §3).
    var utf8AcceptEnabled = false
    /// ENABLE IMAP4rev2 (RFC 9051, Appendix E): no \Recent or RECENT, ESEARCH replies to SEARCH, a LIST line
    /// in SELECT's reply.
    var imap4rev2Enabled = false
    /// RFC 9586: ENABLE UIDONLY was seen; sequence numbers are refused, FETCH responses go out as UIDFETCH and
    /// expunges as VANISHED.
    var uidOnly = false
    /// QRESYNC: the HIGHESTMODSEQ the client was last told after a full sync, and the highest MODSEQ sent in
    /// FETCH responses since; Dovecot reports a higher HIGHESTMODSEQ after commands that saw changes.
    var lastReportedModSeq: UInt64 = 0
    var highestFetchedModSeq: UInt64 = 0
    var commandStart = 0.0
    /// The running command's updates need only a quick sync (IMAPCommand.syncsQuickly).
    var syncsQuickly = false
    /// The message last read (CRLF line ends) and its structure, valid for the selected mailbox only.
    var loadedMessage: (uid: UInt32, bytes: [UInt8])?
    var loadedStructure: MessageStructure?
    public internal(set) var statistics = Statistics()
    /// The user's quota (the quota plugin is on).
    let quota: UserQuota?
    /// RFC 5465 NOTIFY SET / NONE, once the client sent one.
    var notification: NotifyState?
    /// Dovecot's notify_count_changes / notify_flag_changes: NOTIFY without MessageNew (FlagChange) for the
    /// selected mailbox stops EXISTS, RECENT and EXPUNGE (FETCH FLAGS) for it.
    var notifyCountChanges = true
    var notifyFlagChanges = true
    /// When IDLE's keepalive was last sent (or IDLE began), on `configuration.clock`.
    var lastKeepalive = 0.0

    public init(store: MailStore, configuration: Configuration) {
        self.store = store
        self.configuration = configuration
        quota = UserQuota(settings: configuration.quota, store: store, warningPrograms: configuration.quotaWarningPrograms)
        parser = IMAPCommandParser(limits: configuration.parserLimits)
    }

    public var isIdling: Bool { idleTag != nil }
    public var idleNotifyInterval: Double { configuration.idleNotifyInterval }

    /// OBJECTID (RFC 8474) is advertised: SELECT and CREATE name the MAILBOXID.
    var objectIDs: Bool { configuration.capabilities.contains("OBJECTID") }

    /// Whether the driver should watch and `poll`: while idling, and while NOTIFY has something to report
    /// without a command.
    public var isWaitingForChanges: Bool {
        isIdling || pushesSelectedChanges || notification?.coversOthers == true
    }

    /// The directories whose changes the client waits for (the driver watches them and calls `poll` when
    /// they change): the selected mailbox's while idling or with NOTIFY's selected filter, and for NOTIFY
    /// of other mailboxes the mail root (mailboxes and subscriptions) and the followed mailboxes.
    /// (Maildir only: an mbox mailbox is polled.)
    public var idleDirectories: [String] {
        var directories: [String] = []
        if isIdling || pushesSelectedChanges {
            directories += selected?.mailbox.watchedDirectories ?? []
        }
        if let notification, notification.coversOthers {
            directories.append(store.settings.root)
            for name in notification.watched.keys.sorted() {
                directories += notification.watched[name]?.mailbox.watchedDirectories ?? []
            }
        }
        return directories
    }

    /// `<tag> OK [CAPABILITY ...] Logged in`: the imap process answers the login command itself.
    public func loggedIn(tag: String) -> [UInt8] {
        let line = IMAPResponse.tagged(
            tag: tag, .ok, .capability(configuration.capabilities), IMAPReplyText.loggedIn
        ).bytes
        statistics.outBytes += line.count
        return line
    }

    public func receive(_ bytes: [UInt8]) -> Output {
        statistics.inBytes += bytes.count
        parser.append(bytes)
        while !closing, compression != .starting, let event = parser.next() {
            handle(event)
        }
        var output = flush()
        if compression == .starting {
            compression = .active
            output.compressedInput = parser.takeBufferedBytes()
        }
        return output
    }

    /// Re-scans the selected mailbox. While idling the updates are returned now; otherwise they wait for the
    /// next command's response.
    /// With NOTIFY (RFC 5465) the selected mailbox's changes (filter `selected`) and other mailboxes' events
    /// go out whenever no command is running.
    public func poll() -> [UInt8] {
        guard !closing, append == nil else { return [] }
        syncsQuickly = false
        if isIdling {
            writeKeepaliveIfDue()
            writeUpdates()
            writeUnreportedHighestModSeq()
        } else if pushesSelectedChanges {
            writeUpdates(holdingExpunges: holdsExpunges)
        }
        writeNotifyEvents()
        return flush().bytes
    }

    /// `* OK Still here` every idleNotifyInterval of IDLE, as Dovecot keeps idle connections alive.
    func writeKeepaliveIfDue() {
        let interval = configuration.idleNotifyInterval
        // A timer may fire a hair early: within 1% counts as due.
        guard interval > 0, configuration.clock() - lastKeepalive >= interval * 0.99 else { return }
        lastKeepalive = configuration.clock()
        send(.untagged(.ok, nil, IMAPReplyText.stillHere))
    }

    func flush() -> Output {
        let bytes = output.take()
        statistics.outBytes += bytes.count
        return Output(bytes: bytes, close: closing)
    }

    // MARK: events

    func handle(_ event: IMAPCommandParser.Event) {
        syncsQuickly = false
        switch event {
        case .command(let tagged):
            commandStart = configuration.clock()
            syncsQuickly = tagged.command.syncsQuickly
            run(tagged)
        case .continuationRequest:
            send(.literalContinuation)
        case .appendStart(let message):
            commandStart = configuration.clock()
            appendStarted(message)
        case .appendBytes(let bytes):
            appendReceived(bytes)
        case .catenateURL(let url):
            catenateURL(url)
        case .catenateText(let byteCount, let synchronizing, let utf8):
            catenateTextStarted(byteCount: byteCount, synchronizing: synchronizing, utf8: utf8)
        case .appendEnd(let tag):
            appendEnded(tag: tag)
        case .continuationLine(let line):
            idleLine(line)
        case .error(let error):
            commandStart = configuration.clock()
            // Dovecot closes the selected mailbox before it reads SELECT's arguments.
            if error.command == "SELECT" || error.command == "EXAMINE", selected != nil {
                closeForSelect()
            }
            // A syntax error inside APPEND (MULTIAPPEND's next message, CATENATE's list) drops all of it.
            discardAppend()
            if let tag = idleTag {
                idleTag = nil
                complete(tag, .bad, text: IMAPReplyText.expectedDone)
                return
            }
            send(.badCommand(error, preLogin: false, timing: timing()))
            countBadCommand()
        case .fatal(let fatal):
            send(.untagged(.bye, fatal.responseCode, fatal.byeText))
            closing = true
        }
    }

    func countBadCommand() {
        badCommands += 1
        if badCommands >= Self.maxBadCommands {
            send(.untagged(.bye, nil, IMAPReplyText.tooManyInvalidCommands))
            closing = true
        }
    }

    // MARK: writing

    func send(_ response: IMAPResponse) {
        var response = response
        if case .fetch(let sequence, let items) = response {
            for case .modSeq(let modSeq) in items { highestFetchedModSeq = max(highestFetchedModSeq, modSeq) }
            if uidOnly, let messages = selected?.mailbox.messages, messages.indices.contains(Int(sequence) - 1) {
                response = .uidFetch(messages[Int(sequence) - 1].uid, items)
            }
        }
        response.encode(into: &output)
    }

    /// The UID item that FETCH responses carry without being asked for it (UID FETCH, QRESYNC); none with
    /// UIDONLY, where the response is numbered by UID.
    func implicitUID(_ uid: UInt32) -> [FetchResponseItem] { uidOnly ? [] : [.uid(uid)] }

    /// FETCH responses the client did not ask for carry the UID: with QRESYNC (RFC 7162 §3.2.4) and in
    /// IMAP4rev2 (RFC 9051 §7.5.2, Appendix E item 21; the NOOP example of §6.1.2).
    var unsolicitedFetchUID: Bool { qresyncEnabled || imap4rev2Enabled }

    func timing() -> IMAPTiming {
        IMAPTiming(running: max(configuration.clock() - commandStart, 0.001))
    }

    /// The tagged reply; Dovecot drops a final `.` of the text before adding the timing, which ends in one.
    func complete(_ tag: String, _ status: IMAPStatus = .ok, _ code: ResponseCode? = nil, text: String) {
        var text = text
        // Dovecot adds the timing to texts that end in a period, not to its internal error's time stamp.
        let stamped = text.hasSuffix("]")
        if text.hasSuffix(".") { text.removeLast() }
        send(.completed(tag, status, code, text, timing: stamped ? nil : timing()))
    }

    /// Pending mailbox changes, then the tagged reply: for every command after which RFC 3501 §7.4.1
    /// allows EXPUNGE responses.
    /// With QRESYNC a changed HIGHESTMODSEQ goes into the tagged OK (RFC 7162 §3.2.10, as Dovecot does).
    func finish(_ tag: String, _ status: IMAPStatus = .ok, _ code: ResponseCode? = nil, text: String) {
        writeUpdates()
        guard !closing else { return }
        var code = code
        if let modSeq = unreportedHighestModSeq() {
            if status == .ok, code == nil {
                code = .highestModSeq(modSeq)
            } else {
                send(.untagged(.ok, .highestModSeq(modSeq), IMAPReplyText.highest))
            }
        }
        complete(tag, status, code, text: text)
    }

    /// `NO [code] text` for a store error, as Dovecot words them.
    func fail(_ tag: String, _ error: MailboxError, code: ResponseCode? = nil) {
        let failure = failure(error)
        finish(tag, .no, code ?? failure.code, text: failure.text)
    }

    /// The code and text of `NO` for a store error. An internal error (SERVERBUG) is logged with what lies
    /// behind it, as Dovecot logs it (`Error: Mailbox NAME: opendir(...) failed: ...`), and the client is told
    /// when, in Dovecot's words (MAIL_ERRSTR_CRITICAL_MSG_STAMP), so the two can be matched.
    func failure(_ error: MailboxError, mailbox: String? = nil) -> (code: ResponseCode?, text: String) {
        let code = error.imapResponseCode.map(ResponseCode.other)
        guard error.imapResponseCode == "SERVERBUG" else { return (code, error.description) }
        configuration.logError?((mailbox.map { "Mailbox \($0): " } ?? "") + error.logDescription)
        return (code, error.description + " [" + Self.localTimeStamp(configuration.now()) + "]")
    }

    /// `2026-12-01 16:19:42` in local time.
    static func localTimeStamp(_ seconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        localtime_r(&time, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%d %H:%M:%S", &parts)
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func badArguments(_ tag: String, _ command: IMAPCommand, _ detail: String) {
        let error = IMAPCommandError(tag: tag, command: command.name, reason: .syntax(detail))
        send(.badCommand(error, preLogin: false, timing: timing()))
    }

    /// A monotonic clock in seconds.
    public static let monotonicSeconds: @Sendable () -> Double = {
        let elapsed = ContinuousClock.now - IMAPMailSession.clockOrigin
        let (seconds, attoseconds) = elapsed.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    private static let clockOrigin = ContinuousClock.now

    /// The wall clock in whole seconds since the epoch.
    public static let epochSeconds: @Sendable () -> Int = { Int(time(nil)) }
}
