import CTernSys
import Foundation
import Glibc
import Synchronization
import TernAuth
import TernConfig
import TernDelivery
import TernMailbox

/// Starts mail session workers (DESIGN.md §2): after a login, `tern libexec mail-session REQUEST` runs with
/// the user's uid, gid and groups from the userdb, the client's socket as stdin and stdout, and the log file
/// as stderr. Lives in the master (root when the daemon was started as root); the login side reaches it
/// directly or through the session broker socket. Exited workers are reaped by `reap()`.
final class MailSessionLauncher: Sendable {
    enum LaunchError: Error, CustomStringConvertible {
        case unknownUser(String)
        case invalidUser(String)
        case spawn(Int32)
        /// mail_max_userip_connections: the user has that many sessions from the address already.
        case userIPLimit

        var description: String {
            switch self {
            case .userIPLimit: "Maximum number of connections from user+IP exceeded"
            case .unknownUser(let user): "user \(user) not found in userdb"
            case .invalidUser(let message): message
            case .spawn(let code): "fork() failed: \(String(cString: strerror(code)))"
            }
        }
    }

    private let executable: String
    private let auth: AuthService
    private let firstValidUID: UInt32
    private let lastValidUID: UInt32
    /// Switch to the user's ids (only root can).
    private let switchUser: Bool
    private let logDescriptor: Int32
    private let sessionWorkers: SessionWorkerPool
    /// mail_privileged_group, kept as the workers' saved gid.
    private let privilegedGroup: UInt32?
    /// acl_shared_dict's file, read at login for the shared namespace.
    private let sharedDictPath: String?

    init(
        executable: String, auth: AuthService, firstValidUID: Int, lastValidUID: Int, logDescriptor: Int32,
        privilegedGroup: UInt32? = nil, sharedDictPath: String? = nil
    ) {
        self.sharedDictPath = sharedDictPath
        self.privilegedGroup = privilegedGroup
        self.executable = executable
        self.auth = auth
        self.firstValidUID = UInt32(clamping: firstValidUID)
        self.lastValidUID = lastValidUID > 0 ? UInt32(clamping: lastValidUID) : UInt32.max
        switchUser = geteuid() == 0
        self.logDescriptor = logDescriptor
        sessionWorkers = SessionWorkerPool(executable: executable, logDescriptor: logDescriptor)
    }

    /// Looks the user up and hands the session on `socket` (closed here either way) to a worker running as
    /// the user; returns the worker's pid.
    func launch(_ request: MailSessionRequest, socket: Int32) async throws(LaunchError) -> pid_t {
        let resolved: (MailSessionRequest, SpawnCredentials?)
        do {
            resolved = try await resolve(request)
        } catch {
            close(socket)
            throw error
        }
        return try sessionWorkers.hand(resolved.0, socket: socket, credentials: resolved.1)
    }

    /// LMTP: saves the message on `message` (a file, read from its start) into the user's INBOX with a
    /// `mail-deliver` worker running as the user; returns the worker's exit status (0: saved, EX_TEMPFAIL, or
    /// `MailSessionWorker.refusedStatus` with the reply on its output).
    func deliver(_ request: MailSessionRequest, message: Int32) async throws(LaunchError) -> (status: Int32, output: String) {
        try await runWorker("mail-deliver", request, stdin: message)
    }

    /// LMTP's lmtp_rcpt_check_quota: whether the user is over quota, by a `mail-quota-check` worker running as
    /// the user (0, or `MailSessionWorker.refusedStatus` with the reply on its output).
    func checkQuota(_ request: MailSessionRequest) async throws(LaunchError) -> (status: Int32, output: String) {
        try await runWorker("mail-quota-check", request, stdin: -1)
    }

    /// Runs a worker as the request's user to its end; returns its exit status and what it wrote (one short
    /// reply line at most: it fits the pipe's buffer, so the worker never waits on it).
    private func runWorker(_ program: String, _ request: MailSessionRequest, stdin: Int32) async throws(LaunchError)
        -> (status: Int32, output: String)
    {
        let (resolved, credentials) = try await resolve(request)
        var pipeEnds: [Int32] = [-1, -1]
        guard pipe(&pipeEnds) == 0 else { throw .spawn(errno) }
        tern_set_cloexec(pipeEnds[0], 1)
        tern_set_cloexec(pipeEnds[1], 1)
        let pid: pid_t
        do {
            pid = try spawn(program, resolved, credentials, stdin: stdin, stdout: pipeEnds[1])
        } catch {
            close(pipeEnds[0])
            close(pipeEnds[1])
            throw error
        }
        close(pipeEnds[1])
        let status = await PrivilegedMaster.waitForExit(pid)
        var buffer = [UInt8](repeating: 0, count: 1024)
        let count = buffer.withUnsafeMutableBytes { read(pipeEnds[0], $0.baseAddress, $0.count) }
        close(pipeEnds[0])
        return (status, count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : "")
    }

    /// Whether the userdb knows `user` (LMTP's RCPT check).
    func userExists(_ user: String, service: String) async -> Bool {
        if case .found = await auth.lookupUser(AuthRequest(user: auth.formatUser(user), service: service)) { return true }
        return false
    }

    /// The userdb fields of the request's user, checked against first_valid_uid/last_valid_uid when the
    /// worker is to switch to the user's ids.
    private func resolve(_ request: MailSessionRequest) async throws(LaunchError)
        -> (MailSessionRequest, SpawnCredentials?)
    {
        var request = request
        request.user = auth.formatUser(request.user)
        let lookup = AuthRequest(
            user: request.user, service: request.protocolName, localIP: request.localIP, remoteIP: request.remoteIP,
            session: request.sessionID)
        guard case .found(let record) = await auth.lookupUser(lookup) else { throw .unknownUser(request.user) }
        request.home = record.home ?? ""
        request.mailLocation = record["mail"]
        request.aclGroups = record["acl_groups"].map { $0.split(separator: ",").map(String.init) }
        let quotaSettings = DovecotSettings.quotaSettings(userdb: record.fields.map { ($0.key, $0.value ?? "") })
        request.quotaSettings = quotaSettings.isEmpty ? nil : quotaSettings
        request.sharedHomes = await sharedHomes(request)
        guard switchUser else { return (request, nil) }
        let account = record.uid.flatMap { Self.resolveUID($0) }
        let group = record.gid.flatMap { Self.resolveGID($0) } ?? account.flatMap { Self.primaryGroup($0) }
        guard let uid = account, let gid = group else {
            throw .invalidUser("Mail access for users without uid/gid not permitted (user \(request.user))")
        }
        guard uid >= firstValidUID, uid <= lastValidUID else {
            throw .invalidUser(
                "Mail access for users with UID \(uid) not permitted (see first_valid_uid in config file, uid from userdb lookup).")
        }
        request.uid = uid
        request.gid = gid
        return (
            request,
            SpawnCredentials(
                uid: uid, gid: gid, groups: Self.groups(request.user, gid), privilegedGID: privilegedGroup)
        )
    }

    /// The users whose mailboxes acl_shared_dict lets this user see, with their homes from the userdb (read at
    /// login: mailboxes shared later show in the next session). Owners the userdb does not know are left out.
    private func sharedHomes(_ request: MailSessionRequest) async -> [String: String]? {
        guard let path = sharedDictPath,
            let owners = try? SharedMailboxesDictionary(path: path).owners(
                user: request.user, groups: request.aclGroups ?? [])
        else { return nil }
        var homes: [String: String] = [:]
        for owner in owners where owner != request.user {
            let lookup = AuthRequest(user: owner, service: request.protocolName, session: request.sessionID)
            if case .found(let record) = await auth.lookupUser(lookup), let home = record.home { homes[owner] = home }
        }
        return homes
    }

    private func spawn(
        _ program: String, _ request: MailSessionRequest, _ credentials: SpawnCredentials?, stdin: Int32, stdout: Int32
    ) throws(LaunchError) -> pid_t {
        let child = ChildProcess.spawn(
            path: executable, argv: [executable, "libexec", program, request.encoded()],
            environment: ["PATH=/usr/bin:/bin", "HOME=\(request.home)", "USER=\(request.user)"],
            stdin: stdin, stdout: stdout, stderr: logDescriptor, credentials: credentials,
            workingDirectory: request.home.isEmpty ? "/" : nil)
        guard let child else { throw .spawn(errno) }
        return child.pid
    }

    /// The sessions the workers serve now, for `doveadm who`.
    func runningSessions() -> [(ident: String, pid: Int32)] { sessionWorkers.runningSessions() }

    /// Retires idle session workers and reaps exited ones.
    func reap() { sessionWorkers.sweep() }

    /// Stops every worker (daemon shutdown).
    func terminateAll() { sessionWorkers.terminateAll() }

    static func resolveUID(_ value: String) -> UInt32? {
        if let number = UInt32(value) { return number }
        return getpwnam(value).map { $0.pointee.pw_uid }
    }

    static func resolveGID(_ value: String) -> UInt32? {
        if let number = UInt32(value) { return number }
        return getgrnam(value).map { $0.pointee.gr_gid }
    }

    static func primaryGroup(_ uid: UInt32) -> UInt32? {
        getpwuid(uid).map { $0.pointee.pw_gid }
    }

    /// The user's supplementary groups (initgroups), when the name is a system account.
    static func groups(_ user: String, _ gid: UInt32) -> [UInt32] {
        var count: Int32 = 64
        var list = [gid_t](repeating: 0, count: Int(count))
        guard getgrouplist(user, gid, &list, &count) >= 0 else { return [gid] }
        return Array(list[..<Int(count)])
    }
}
