import Foundation
import Glibc
import Testing

/// A `tern dovecot` instance for end-to-end tests: dovecot.conf, a passwd-file with user `alice` whose
/// Maildir is under the instance directory, POP3 and IMAP on free loopback ports. As root the daemon runs
/// privilege-separated (login processes as `nobody`, alice's sessions as `nobody`'s uid).
final class MailAccessInstance {
    let instance: TernInstance
    let imapPort: Int
    let pop3Port: Int
    let home: String
    let uid: uid_t
    let gid: gid_t

    var root: String { instance.root }
    var configPath: String { root + "/dovecot/dovecot.conf" }
    var logPath: String { root + "/dovecot/dovecot.log" }
    var maildir: String { home + "/Maildir" }
    static let password = "alice-Secret"

    /// `extra`: more dovecot.conf lines, `@ROOT@` standing for the instance directory. `userdbFields` go into
    /// alice's passwd-file line (`userdb_quota_rule=*:storage=1G`). `users`: more users beside alice, with the
    /// same password and owner, homes `home-<name>`.
    init(_ instance: TernInstance, extra: String = "", userdbFields: String = "", users: [String] = []) throws {
        self.instance = instance
        imapPort = try PortAllocator.claim()
        pop3Port = try PortAllocator.claim()
        (uid, gid) = TernInstance.virtualOwner()
        home = instance.root + "/home-alice"
        let manager = FileManager.default
        try manager.createDirectory(atPath: home + "/Maildir", withIntermediateDirectories: true)
        try manager.createDirectory(atPath: root + "/dovecot/run", withIntermediateDirectories: true)
        try TernInstance.chownTree(home, uid: uid, gid: gid)
        let login = geteuid() == 0 ? "nobody" : TernInstance.currentUserName()
        var passwd = "alice:{PLAIN}\(Self.password):\(uid):\(gid)::\(home)::\(userdbFields)\n"
        for user in users {
            let userHome = instance.root + "/home-" + user
            try manager.createDirectory(atPath: userHome + "/Maildir", withIntermediateDirectories: true)
            try TernInstance.chownTree(userHome, uid: uid, gid: gid)
            passwd += "\(user):{PLAIN}\(Self.password):\(uid):\(gid)::\(userHome)::\n"
        }
        try passwd.write(toFile: root + "/dovecot/users", atomically: true, encoding: .utf8)
        let config = """
            protocols = imap pop3
            listen = 127.0.0.1
            base_dir = \(root)/dovecot/run
            state_dir = \(root)/dovecot/state
            log_path = \(logPath)
            default_login_user = \(login)
            default_internal_user = \(login)
            first_valid_uid = \(uid)
            ssl = no
            disable_plaintext_auth = yes
            auth_mechanisms = plain login
            auth_failure_delay = 0
            mail_location = maildir:~/Maildir
            passdb {
              driver = passwd-file
              args = scheme=PLAIN username_format=%u \(root)/dovecot/users
            }
            userdb {
              driver = passwd-file
              args = username_format=%u \(root)/dovecot/users
            }
            namespace inbox {
              inbox = yes
              separator = /
              mailbox Sent {
                special_use = \\Sent
                auto = subscribe
              }
            }
            service imap-login {
              inet_listener imap {
                port = \(imapPort)
              }
              inet_listener imaps {
                port = 0
              }
            }
            service pop3-login {
              inet_listener pop3 {
                port = \(pop3Port)
              }
              inet_listener pop3s {
                port = 0
              }
            }
            \(extra.replacingOccurrences(of: "@ROOT@", with: root))

            """
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        chmod(configPath, 0o644)
    }

    deinit {
        PortAllocator.release(imapPort)
        PortAllocator.release(pop3Port)
    }

    /// Runs `body` with a started daemon and stops it afterwards.
    static func with(
        extra: String = "", userdbFields: String = "", users: [String] = [],
        _ body: (MailAccessInstance) throws -> Void
    ) throws {
        try TernInstance.with(start: false) { instance in
            let access = try MailAccessInstance(instance, extra: extra, userdbFields: userdbFields, users: users)
            let started = try instance.tern(["dovecot", "-c", access.configPath], timeout: 60)
            guard started.status == 0 else { throw TernInstance.InstanceError.tool("dovecot", started) }
            defer { _ = try? instance.tern(["dovecot", "-c", access.configPath, "stop"], timeout: 60) }
            try instance.waitUntil("pop3 listening", timeout: 15) {
                TernInstance.portAccepts(access.pop3Port) ? true : nil
            }
            try body(access)
        }
    }

    /// Drops a message into alice's Maildir as the MTA would (new/, owned by her).
    @discardableResult
    func deliver(_ content: String) throws -> String {
        let name = "\(Int(Date().timeIntervalSince1970)).M\(UInt32.random(in: 0...UInt32.max))P1.e2e"
        let path = maildir + "/new/" + name
        try FileManager.default.createDirectory(atPath: maildir + "/new", withIntermediateDirectories: true)
        try content.write(toFile: path, atomically: false, encoding: .utf8)
        try TernInstance.chownTree(maildir, uid: uid, gid: gid)
        return path
    }

    func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func waitForLog(_ fragment: String, timeout: Double = 10) throws -> String {
        try instance.waitUntil("\(fragment) in \(logPath)\n\(log())", timeout: timeout) {
            log().split(separator: "\n").first { $0.contains(fragment) }.map(String.init)
        }
    }

    func messageFiles() -> [String] {
        ["new", "cur"].flatMap { sub in
            ((try? FileManager.default.contentsOfDirectory(atPath: maildir + "/" + sub)) ?? []).map { sub + "/" + $0 }
        }
    }
}
