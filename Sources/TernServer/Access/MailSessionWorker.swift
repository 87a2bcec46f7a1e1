import CTernSys
import Foundation
import Synchronization
import TernAuth
import TernConfig
import TernIMAP
import NIOCore
import NIOPosix
import TernMailbox

/// `tern libexec mail-session --serve`: a user's POP3 and IMAP sessions, as that user. The pool hands each
/// session's socket (the client's own, or for TLS one the login side proxies the client to) over the control
/// socket on stdin; sessions are
/// channels on one event loop whose steps run on a thread pool (MailSessionChannelHandler), so an idle session
/// costs no thread. Each is reported by its session ID when it ends. The worker exits when the control socket
/// closes and its sessions have ended. Logs go to stderr, which is the daemon's log file (or syslog when
/// log_path is syslog).
public enum MailSessionWorker {
    /// Threads for session steps (mailbox work and waiting for slow clients); idle sessions use none.
    static let stepThreads = 32

    public static func serve() -> Int32 {
        let control: Int32 = 0
        let active = Mutex(0)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let pool = NIOThreadPool(numberOfThreads: stepThreads)
        pool.start()
        let watcher = MaildirWatcher.make()
        var buffer = [UInt8](repeating: 0, count: SessionBroker.maximumMessage)
        while true {
            var fd: Int32 = -1
            let n = buffer.withUnsafeMutableBytes { tern_recv_fd(control, $0.baseAddress, $0.count, &fd) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            guard fd >= 0,
                let envelope = try? JSONDecoder().decode(SessionBroker.Envelope.self, from: Data(buffer[..<n])),
                let request = envelope.request
            else {
                if fd >= 0 { close(fd) }
                continue
            }
            active.withLock { $0 += 1 }
            let ended: @Sendable () -> Void = {
                active.withLock { $0 -= 1 }
                let done = Array(request.sessionID.utf8)
                _ = send(control, done, done.count, Int32(MSG_NOSIGNAL))
            }
            let started = ClientBootstrap(group: group)
                .channelOption(.autoRead, value: false)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        // The steps use a descriptor of their own: the channel's is NIO's.
                        let stepDescriptor = dup(fd)
                        guard stepDescriptor >= 0 else { throw IOError(errnoCode: errno, reason: "dup") }
                        let handler = MailSessionChannelHandler(
                            pool: pool, descriptor: stepDescriptor, pipelined: Array(Data(base64Encoded: request.pipelined ?? "") ?? Data()),
                            open: { output, wake in
                                open(request, output, watcher: watcher, loop: channel.eventLoop, wake: wake)
                            }, ended: ended)
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                }
                .withConnectedSocket(fd)
            do {
                _ = try started.wait()
            } catch {
                // The channel has closed the socket (NIO owns it once the channel exists).
                ended()
            }
        }
        while active.withLock({ $0 }) > 0 { usleep(100_000) }
        try? pool.syncShutdownGracefully()
        try? group.syncShutdownGracefully()
        return 0
    }

    /// The session for `request`, with its settings and mail store; nil after telling the client why not.
    static func open(
        _ request: MailSessionRequest, _ output: SessionOutput, watcher: MaildirWatcher?, loop: any EventLoop,
        wake: @escaping @Sendable () -> Void
    ) -> (any MailProtocolSession)? {
        guard let (settings, log) = setUp(request) else { return nil }
        let lookup = sharedOwnerLookup(request, settings, log, loop: loop)
        guard let store = openStore(request, settings, log, sharedLookup: lookup) else {
            try? output.write(
                request.protocolName == "imap"
                    ? "\(request.tag ?? "*") NO [SERVERBUG] Internal error occurred. Refer to server log for more information.\r\n"
                    : "-ERR [SYS/TEMP] Internal error occurred. Refer to server log for more information.\r\n")
            return nil
        }
        let protocolSettings = settings.settings(protocol: request.protocolName)
        switch request.protocolName {
        case "pop3":
            return POP3MailSession(
                request: request, store: store, uidlFormat: protocolSettings.pop3UIDLFormat, log: log,
                idleTimeout: 10 * 60 * 1000)
        default:
            return IMAPSessionWorker(
                request: request, store: store, log: log, settings: protocolSettings, watcher: watcher, wake: wake)
        }
    }

    /// The userdb lookup of an owner's home for the shared namespace (owners who share after the login), run
    /// in the session as the user, as doveadm runs the userdbs: a userdb the user cannot read finds no new
    /// owners (logged). Steps run on the thread pool and wait for the lookup there; on the event loop (a session
    /// ending) it would wait for itself, so none is made.
    static func sharedOwnerLookup(
        _ request: MailSessionRequest, _ settings: AccessSettings, _ log: DovecotLog, loop: any EventLoop
    ) -> SharedOwnerDirectory.HomeLookup? {
        guard settings.sharedDictPath != nil, let auth = try? settings.authService(log: log) else { return nil }
        let service = request.protocolName
        let session = request.sessionID
        return { owner in
            guard !loop.inEventLoop else { return nil }
            let lookup = AuthRequest(user: owner, service: service, session: session)
            let result = try? loop.makeFutureWithTask { await auth.lookupUser(lookup) }.wait()
            guard case .found(let record) = result else { return nil }
            return record.home
        }
    }

    /// The exit status of `deliver` for a message refused with the LMTP reply on stdout (over quota).
    static let refusedStatus: Int32 = 77

    /// `tern libexec mail-deliver REQUEST`: LMTP's save of the message on stdin into the user's INBOX, as
    /// the user. Exit status 0 once it is saved (written, fsynced, in new/); over quota `refusedStatus` with
    /// Dovecot's reply (`552 5.2.2 ...`, with quota_full_tempfail `452 4.2.2 ...`) on stdout, a delivery being
    /// allowed quota_grace over the limit; 75 (EX_TEMPFAIL) otherwise.
    public static func deliver(_ argument: String) -> Int32 {
        guard let (request, lmtp, log, store) = openDelivery(argument) else { return 75 }
        let quota = UserQuota(
            settings: quotaRoots(request, lmtp, log), store: store, warningPrograms: lmtp.quotaWarningPrograms)
        do throws(MailboxError) {
            let appender = try store.beginAppend(to: "INBOX")
            if let headers = request.deliveryHeaders { try appender.write(Array(headers.utf8)) }
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                guard n >= 0 else {
                    appender.abort()
                    log.log(request.logPrefix, .error, "read(message) failed: \(String(cString: strerror(errno)))")
                    return 75
                }
                if n == 0 { break }
                try appender.write(Array(buffer[..<n]))
            }
            let before = try quota?.check("INBOX", adding: QuotaAmount(bytes: UInt64(appender.size), messages: 1), grace: true)
            let uid = try appender.commit()
            log.info(request.logPrefix, "saved mail to INBOX (uid \(uid))")
            if let quota, let before {
                quota.saved("INBOX", before: before, adding: QuotaAmount(bytes: UInt64(appender.size), messages: 1))
            }
            if lmtp.fullTextAutoIndex {
                do {
                    try FullTextIndexer.update(
                        store.openMailbox("INBOX", readOnly: true), limit: FullTextIndexer.waitLimit)
                } catch {
                    log.log(request.logPrefix, .error, "fts: INBOX not indexed: \(error)")
                }
            }
            return 0
        } catch .overQuota(let message) {
            log.info(request.logPrefix, "msgid=?: save failed to INBOX: \(message)")
            return refuse(lmtp, message)
        } catch {
            log.log(request.logPrefix, .error, "msgid=?: save failed to INBOX: \(error.logDescription)")
            return 75
        }
    }

    /// `tern libexec mail-quota-check REQUEST`: LMTP's lmtp_rcpt_check_quota, as the user. Exit status 0 when
    /// a message could still be delivered (Dovecot tests one byte, with quota_grace), `refusedStatus` with the
    /// reply on stdout when not, 75 when the mail cannot be opened.
    public static func checkQuota(_ argument: String) -> Int32 {
        guard let (request, lmtp, log, store) = openDelivery(argument) else { return 75 }
        guard let quota = UserQuota(settings: quotaRoots(request, lmtp, log), store: store) else { return 0 }
        do throws(MailboxError) {
            try quota.check("INBOX", adding: QuotaAmount(bytes: 1, messages: 1), grace: true)
            return 0
        } catch .overQuota(let message) {
            return refuse(lmtp, message)
        } catch {
            log.log(request.logPrefix, .error, "quota check failed: \(error.logDescription)")
            return 75
        }
    }

    /// The user's quota roots, the userdb's settings over dovecot.conf's; none (logged as Dovecot logs it) when
    /// they are not valid.
    static func quotaRoots(_ request: MailSessionRequest, _ settings: DovecotSettings, _ log: DovecotLog)
        -> [QuotaSettings]
    {
        do {
            return try settings.quota(user: request.user, home: request.home, userdb: request.quotaSettings ?? [:])
        } catch {
            log.log(request.logPrefix, .error, "Failed to initialize quota: \(error)")
            return []
        }
    }

    /// The request of an LMTP worker, its protocol's settings, the log and the user's mail; nil (logged) when
    /// they cannot be had.
    private static func openDelivery(_ argument: String)
        -> (MailSessionRequest, DovecotSettings, DovecotLog, MailStore)?
    {
        guard let request = MailSessionRequest.decode(argument), let (settings, log) = setUp(request),
            let store = openStore(request, settings, log)
        else {
            return nil
        }
        return (request, settings.settings(protocol: request.protocolName), log, store)
    }

    /// Writes Dovecot's LMTP reply for a user over quota (`552 5.2.2 ...`, with quota_full_tempfail
    /// `452 4.2.2 ...`) for the LMTP server; returns `refusedStatus`.
    private static func refuse(_ lmtp: DovecotSettings, _ message: String) -> Int32 {
        let reply = lmtp.bool("quota_full_tempfail") ? "452 4.2.2 " : "552 5.2.2 "
        FileHandle.standardOutput.write(Data((reply + message + "\n").utf8))
        return refusedStatus
    }

    private static func setUp(_ request: MailSessionRequest) -> (AccessSettings, DovecotLog)? {
        do {
            let settings = try AccessSettings.load(path: request.configPath, readingTLSFiles: false)
            let log = settings.global.logPath == "syslog" ? DovecotLog(path: "syslog") : DovecotLog(descriptor: 2)
            return (settings, log)
        } catch {
            FileHandle.standardError.write(Data("\(request.logPrefix): Fatal: \(error)\n".utf8))
            return nil
        }
    }

    /// The user's mail store with the namespace's auto mailboxes; nil (logged) when it cannot be opened.
    private static func openStore(
        _ request: MailSessionRequest, _ settings: AccessSettings, _ log: DovecotLog,
        sharedLookup: SharedOwnerDirectory.HomeLookup? = nil
    ) -> MailStore? {
        do {
            let storeSettings = try settings.mailStore(
                user: request.user, home: request.home, mailLocation: request.mailLocation,
                sharedHomes: request.sharedHomes ?? [:], aclGroups: request.aclGroups ?? [],
                sharedLookup: sharedLookup)
            // Like Dovecot, create the mail root (and missing parents) on first use.
            try FileManager.default.createDirectory(
                atPath: storeSettings.root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let quota = try? settings.settings(protocol: request.protocolName).quota(
                user: request.user, home: request.home, userdb: request.quotaSettings ?? [:])
            let store = MailStore(settings: storeSettings.ignoringInMaildirSize(quota ?? []))
            try store.applyAutoSettings()
            return store
        } catch {
            log.log(request.logPrefix, .error, (error as? MailboxError)?.logDescription ?? "\(error)")
            return nil
        }
    }
}
