import Foundation
import Glibc
import Synchronization
import Testing

/// A private Tern MTA instance for one test: a temporary directory holding main.cf, master.cf, the queue,
/// data directory, mail log, a virtual mailbox map and the virtual mailboxes, and an smtpd on 127.0.0.1 at
/// a free port in 24000-24999. It runs unprivileged: mail_owner and the virtual uid/gid are the current
/// user's (as root: `nobody`'s, see `virtualOwner`), so mail goes to Maildirs under the temporary directory.
///
/// Use `TernInstance.with { instance in ... }`: it starts the daemon and always stops it (and removes the
/// directory) afterwards, also when the test fails or throws.
final class TernInstance {
    let root: String
    let port: Int
    var configDirectory: String { root + "/config" }
    var queueDirectory: String { root + "/queue" }
    var dataDirectory: String { root + "/data" }
    var maillogPath: String { root + "/maillog" }
    var virtualBase: String { root + "/vmail" }
    var spoolDirectory: String { root + "/spool" }

    static let hostname = "mail.e2e.test"
    static let virtualDomain = "virt.test"
    /// The virtual mailboxes (address -> path under virtual_mailbox_base; a trailing `/` means Maildir).
    static let virtualMailboxes = ["alice": "virt.test/alice/", "bob": "virt.test/bob/"]

    /// main.cf as written; change it and call `writeMainCF()` (then `postfix reload`).
    var parameters: [(String, String)]

    /// When set (tests running as root only), `postfix start` runs as this user through runuser(1), and the
    /// instance directory belongs to it: a daemon started by an unprivileged user.
    let daemonUser: String?

    init(overrides: [String: String] = [:], daemonUser: String? = nil) throws {
        self.daemonUser = daemonUser
        let binary = try #require(TernBinary.path, "no tern executable found (\(TernBinary.origin))")
        _ = binary
        var template = Array("/tmp/tern-e2e-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard made != nil else { throw InstanceError.system("mkdtemp", errno) }
        root = String(cString: template)
        // Delivery workers may run as another user (root tests): let them traverse to their mailbox.
        chmod(root, 0o755)
        port = try PortAllocator.claim()

        // As root the daemon runs privilege-separated: mail_owner must be an unprivileged account.
        let user = geteuid() == 0 && getpwnam("nobody") != nil ? "nobody" : Self.currentUserName()
        let (uid, gid) = Self.virtualOwner()
        parameters = [
            ("compatibility_level", "3.6"),
            ("myhostname", Self.hostname),
            ("mydomain", "e2e.test"),
            ("myorigin", "$mydomain"),
            ("mydestination", "$myhostname, localhost"),
            ("inet_interfaces", "127.0.0.1"),
            ("inet_protocols", "ipv4"),
            ("mynetworks", "127.0.0.0/8"),
            ("smtpd_relay_restrictions", "permit_mynetworks, reject_unauth_destination"),
            ("queue_directory", root + "/queue"),
            ("data_directory", root + "/data"),
            ("mail_owner", daemonUser ?? user),
            ("maillog_file", root + "/maillog"),
            ("alias_maps", ""),
            ("alias_database", ""),
            ("mail_spool_directory", root + "/spool"),
            ("append_dot_mydomain", "no"),
            ("recipient_delimiter", "+"),
            ("biff", "no"),
            ("virtual_mailbox_domains", Self.virtualDomain),
            ("virtual_mailbox_base", root + "/vmail"),
            ("virtual_mailbox_maps", "hash:\(root)/config/vmailbox"),
            ("virtual_uid_maps", "static:\(uid)"),
            ("virtual_gid_maps", "static:\(gid)"),
            ("virtual_minimum_uid", "\(uid)"),
        ]
        for (name, value) in overrides.sorted(by: { $0.key < $1.key }) { set(name, value) }

        let manager = FileManager.default
        for directory in [configDirectory, virtualBase, spoolDirectory] {
            try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        chmod(spoolDirectory, 0o1777)
        // virtual(8) creates the mailboxes under virtual_mailbox_base as the virtual user.
        chown(virtualBase, uid, gid)
        try writeMainCF()
        try Self.masterCF(port: port).write(toFile: configDirectory + "/master.cf", atomically: true, encoding: .utf8)
        let vmailbox = Self.virtualMailboxes.sorted { $0.key < $1.key }
            .map { "\($0.key)@\(Self.virtualDomain)    \($0.value)" }.joined(separator: "\n") + "\n"
        try vmailbox.write(toFile: configDirectory + "/vmailbox", atomically: true, encoding: .utf8)
        let postmap = try tern(["postmap", "hash:\(configDirectory)/vmailbox"])
        guard postmap.status == 0 else { throw InstanceError.tool("postmap", postmap) }
        if let daemonUser {
            let account = try #require(getpwnam(daemonUser), "no user \(daemonUser)").pointee
            try Self.chownTree(root, uid: account.pw_uid, gid: account.pw_gid)
            chown(virtualBase, uid, gid)
        }
    }

    static func chownTree(_ path: String, uid: uid_t, gid: gid_t) throws {
        guard chown(path, uid, gid) == 0 else { throw InstanceError.system("chown \(path)", errno) }
        for name in try FileManager.default.subpathsOfDirectory(atPath: path) {
            guard chown(path + "/" + name, uid, gid) == 0 else { throw InstanceError.system("chown \(name)", errno) }
        }
    }

    deinit {
        PortAllocator.release(port)
    }

    /// Sets (or replaces) a main.cf parameter in `parameters`; call `writeMainCF()` to apply it.
    func set(_ name: String, _ value: String) {
        if let index = parameters.firstIndex(where: { $0.0 == name }) {
            parameters[index].1 = value
        } else {
            parameters.append((name, value))
        }
    }

    func writeMainCF() throws {
        let text = parameters.map { "\($0.0) = \($0.1)" }.joined(separator: "\n") + "\n"
        try text.write(toFile: configDirectory + "/main.cf", atomically: true, encoding: .utf8)
    }

    static func masterCF(port: Int) -> String {
        """
        # service type  private unpriv  chroot  wakeup  maxproc command + args
        127.0.0.1:\(port) inet  n       -       n       -       -       smtpd
        pickup    unix  n       -       n       60      1       pickup
        cleanup   unix  n       -       n       -       0       cleanup
        qmgr      unix  n       -       n       300     1       qmgr
        rewrite   unix  -       -       n       -       -       trivial-rewrite
        bounce    unix  -       -       n       -       0       bounce
        defer     unix  -       -       n       -       0       bounce
        smtp      unix  -       -       n       -       -       smtp
        showq     unix  n       -       n       -       -       showq
        error     unix  -       -       n       -       -       error
        local     unix  -       n       n       -       -       local
        virtual   unix  -       n       n       -       -       virtual

        """
    }

    // MARK: - Lifecycle

    /// Creates an instance, starts it, runs `body`, and stops it and removes its directory whatever happens.
    /// Set TERN_E2E_KEEP=1 to keep the directory (its path is in the failure message of the wait helpers).
    static func with<T>(
        _ overrides: [String: String] = [:], daemonUser: String? = nil, start: Bool = true,
        _ body: (TernInstance) throws -> T
    ) throws -> T {
        let instance = try TernInstance(overrides: overrides, daemonUser: daemonUser)
        defer { instance.tearDown() }
        if start { try instance.start() }
        return try body(instance)
    }

    /// `postfix -c DIR start`, then waits until the port accepts connections.
    func start() throws {
        let result =
            if let daemonUser {
                try tern(["postfix", "-c", configDirectory, "start"], timeout: 60, asUser: daemonUser)
            } else {
                try postfix("start")
            }
        guard result.status == 0 else { throw InstanceError.tool("postfix start", result, log: maillog()) }
        try waitUntil("smtpd listening on port \(port)", timeout: 15) { Self.portAccepts(port) ? true : nil }
    }

    /// Stops the daemon (postfix stop, then SIGKILL to our own master pid if it did not go away), and
    /// removes the directory unless TERN_E2E_KEEP is set.
    func tearDown() {
        let pid = masterPid()
        if pid != nil || FileManager.default.fileExists(atPath: queueDirectory + "/pid/master.pid") {
            _ = try? postfix("stop", timeout: 30)
        }
        if let pid {
            let deadline = Date().addingTimeInterval(15)
            while Self.isAlive(pid) && Date() < deadline { usleep(50_000) }
            if Self.isAlive(pid) { kill(pid, SIGKILL) }
        }
        if ProcessInfo.processInfo.environment["TERN_E2E_KEEP"] == nil {
            try? FileManager.default.removeItem(atPath: root)
        }
    }

    /// The pid in queue_directory/pid/master.pid, if that process is alive.
    func masterPid() -> pid_t? {
        guard let text = try? String(contentsOfFile: queueDirectory + "/pid/master.pid", encoding: .utf8),
            let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0, Self.isAlive(pid)
        else { return nil }
        return pid
    }

    /// Whether `pid` exists and is not a zombie (a killed daemon whose parent is gone may stay a zombie
    /// when nothing reaps orphans).
    static func isAlive(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 || errno == EPERM else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return true }
        let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).prefix(1)
        return state != "Z" && state != "X"
    }

    // MARK: - Tools

    struct ToolResult: CustomStringConvertible {
        var status: Int32
        var stdout: String
        var stderr: String
        var description: String { "exit \(status); stdout: \(stdout); stderr: \(stderr)" }
    }

    /// `tern postfix -c DIR <command>`.
    func postfix(_ command: String, timeout: Double = 60) throws -> ToolResult {
        try tern(["postfix", "-c", configDirectory, command], timeout: timeout)
    }

    /// Runs `tern <arguments>` with MAIL_CONFIG set to this instance, stdout and stderr in files (a daemon it
    /// leaves behind must not hold a pipe of ours), and kills it after `timeout` seconds.
    /// With `asUser` (as root), the command runs through `runuser -u USER --`.
    /// Runs a tern tool with MAIL_CONFIG set; `input` becomes its standard input, `environment` adds variables.
    func tern(
        _ arguments: [String], timeout: Double = 30, asUser: String? = nil, input: String? = nil,
        environment extra: [String: String] = [:]
    ) throws -> ToolResult {
        let binary = try #require(TernBinary.path, "no tern executable found (\(TernBinary.origin))")
        let outPath = root + "/.tool-\(UUID().uuidString).out"
        let errPath = root + "/.tool-\(UUID().uuidString).err"
        FileManager.default.createFile(atPath: outPath, contents: nil)
        FileManager.default.createFile(atPath: errPath, contents: nil)
        defer {
            unlink(outPath)
            unlink(errPath)
        }
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        defer {
            try? out.close()
            try? err.close()
        }
        let process = Process()
        if let asUser {
            process.executableURL = URL(fileURLWithPath: Self.runuser ?? "/usr/sbin/runuser")
            process.arguments = ["-u", asUser, "--", binary] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = arguments
        }
        var environment = ProcessInfo.processInfo.environment
        environment["MAIL_CONFIG"] = configDirectory
        environment["LC_ALL"] = "C"
        environment["TZ"] = "UTC"
        environment.merge(extra) { $1 }
        process.environment = environment
        process.currentDirectoryURL = URL(fileURLWithPath: root)
        if let input {
            let inPath = root + "/.tool-\(UUID().uuidString).in"
            FileManager.default.createFile(atPath: inPath, contents: Data(input.utf8))
            process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: inPath))
            defer { unlink(inPath) }
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw InstanceError.timeout("tern \(arguments.joined(separator: " ")) after \(timeout)s")
        }
        process.waitUntilExit()
        let stdout = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        return ToolResult(status: process.terminationStatus, stdout: stdout, stderr: stderr)
    }

    /// runuser(1), for starting a daemon as another user when the tests run as root.
    static let runuser: String? = ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"].first {
        access($0, X_OK) == 0
    }

    /// `tern mailq` output.
    func mailq() throws -> String {
        try tern(["mailq"]).stdout
    }

    /// Waits until mailq says the queue is empty.
    func waitForEmptyQueue(timeout: Double = 30) throws {
        try waitUntil("an empty mail queue", timeout: timeout) {
            try mailq().contains("Mail queue is empty") ? true : nil
        }
    }

    // MARK: - Mail log, mailboxes

    func maillog() -> String {
        (try? String(contentsOfFile: maillogPath, encoding: .utf8)) ?? ""
    }

    /// Waits until the mail log has a line matching `pattern` (a regular expression); returns that line.
    @discardableResult
    func waitForLogLine(_ pattern: String, timeout: Double = 20) throws -> String {
        let regex = try NSRegularExpression(pattern: pattern, options: [.anchorsMatchLines])
        return try waitUntil("a mail log line matching /\(pattern)/", timeout: timeout) {
            Self.lines(of: maillog(), matching: regex).first
        }
    }

    static func lines(of text: String, matching regex: NSRegularExpression) -> [String] {
        text.split(separator: "\n").map(String.init).filter {
            regex.firstMatch(in: $0, range: NSRange($0.startIndex..., in: $0)) != nil
        }
    }

    /// The Maildir of a virtual mailbox (`alice` -> vmail/virt.test/alice).
    func maildir(_ mailbox: String) -> String {
        virtualBase + "/" + (Self.virtualMailboxes[mailbox] ?? "\(Self.virtualDomain)/\(mailbox)/")
    }

    /// The delivered messages (new/ and cur/) of a Maildir: (path, content).
    func messages(inMaildir directory: String) -> [(path: String, content: String)] {
        var result: [(String, String)] = []
        for sub in ["new", "cur"] {
            let folder = directory.hasSuffix("/") ? directory + sub : directory + "/" + sub
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            for name in names.sorted() {
                let path = folder + "/" + name
                if let data = FileManager.default.contents(atPath: path) {
                    result.append((path, String(decoding: data, as: UTF8.self)))
                }
            }
        }
        return result
    }

    func messages(for mailbox: String) -> [(path: String, content: String)] {
        messages(inMaildir: maildir(mailbox))
    }

    /// Waits until `mailbox` holds a message containing `token`; returns it.
    func waitForMessage(_ mailbox: String, containing token: String, timeout: Double = 20) throws
        -> (path: String, content: String)
    {
        try waitUntil("a message with \(token) in \(mailbox)'s Maildir", timeout: timeout) {
            messages(for: mailbox).first { $0.content.contains(token) }
        }
    }

    // MARK: - Waiting

    /// Polls `probe` every 50 ms until it returns a value; throws after `timeout` seconds, with the tail of
    /// the mail log in the error.
    @discardableResult
    func waitUntil<T>(_ what: String, timeout: Double = 20, _ probe: () throws -> T?) throws -> T {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let value = try probe() { return value }
            if Date() >= deadline {
                let tail = maillog().split(separator: "\n").suffix(30).joined(separator: "\n")
                throw InstanceError.timeout(
                    "waiting \(timeout)s for \(what) (instance \(root)); mail log tail:\n\(tail)")
            }
            usleep(50_000)
        }
    }

    static func portAccepts(_ port: Int) -> Bool {
        guard let client = try? SMTPTestClient(port: port, timeout: 2) else { return false }
        client.close()
        return true
    }

    /// The owner of virtual mailboxes (virtual_uid_maps / virtual_gid_maps): the current user and group.
    /// As root, `nobody`'s uid and gid instead, because virtual(8) refuses gid 0 (`bad gid`, like Postfix).
    static func virtualOwner() -> (uid: uid_t, gid: gid_t) {
        if geteuid() == 0, let nobody = getpwnam("nobody") {
            return (nobody.pointee.pw_uid, nobody.pointee.pw_gid)
        }
        return (getuid(), getgid())
    }

    static func currentUserName() -> String {
        guard let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name else { return "\(geteuid())" }
        return String(cString: name)
    }

    enum InstanceError: Error, CustomStringConvertible {
        case system(String, Int32)
        case tool(String, ToolResult, log: String = "")
        case timeout(String)

        var description: String {
            switch self {
            case .system(let what, let code): return "\(what): \(String(cString: strerror(code)))"
            case .tool(let what, let result, let log): return "\(what) failed: \(result)\n\(log)"
            case .timeout(let what): return "timeout: \(what)"
            }
        }
    }
}

/// Free ports in 24000-24999 for the instances of this test process: a port is taken only when nothing
/// can be bound there right now and no other instance of ours holds it.
enum PortAllocator {
    private static let taken = Mutex<Set<Int>>([])

    static func claim() throws -> Int {
        for _ in 0..<200 {
            let port = Int.random(in: 24000...24999)
            let fresh = taken.withLock { $0.insert(port).inserted }
            guard fresh else { continue }
            if isFree(port) { return port }
            release(port)
        }
        throw TernInstance.InstanceError.timeout("finding a free port in 24000-24999")
    }

    static func release(_ port: Int) {
        _ = taken.withLock { $0.remove(port) }
    }

    /// Whether 127.0.0.1:port can be bound (and nothing listens there).
    static func isFree(_ port: Int) -> Bool {
        if TernInstance.portAccepts(port) { return false }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}

/// A suite that groups the end-to-end tests: they run one after another (each starts a daemon and some
/// measure timing), while each still has its own instance and port. A missing `tern` binary fails them
/// (see `TernBinary`) rather than skipping them.
@Suite(.serialized)
enum DaemonEndToEnd {}
