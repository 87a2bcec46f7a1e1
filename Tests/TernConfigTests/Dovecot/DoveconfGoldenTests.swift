import Foundation
import Glibc
import Testing

@testable import TernConfig

/// doveconf -n output against what the real doveconf 2.3.19.1 printed for the same files (golden text
/// captured with `doveconf -n -c FILE`, header lines left out).
@Suite struct DoveconfGoldenTests {
    static let main = #"""
    # Test configuration
    protocols = imap pop3
    listen = 127.0.0.1
    !include conf.d/*.conf
    !include_try missing.d/*.conf
    ssl_cert = </etc/ssl/certs/test.pem
    ssl_key = </etc/ssl/private/test.key
    login_greeting = "Tern ready."
    mail_plugins = $mail_plugins quota
    auth_failure_delay = 120s
    imap_max_line_length = 128k
    protocol imap {
      mail_max_userip_connections = 50
      imap_idle_notify_interval = 1 min
    }
    protocol pop3 {
      pop3_uidl_format = %08Xu%08Xv
    }
    """#

    static let mail = #"""
    mail_location = maildir:~/Maildir
    namespace inbox {
      inbox = yes
      separator = /
      mailbox Drafts {
        special_use = \Drafts
        auto = subscribe
      }
      mailbox "Sent Messages" {
        special_use = \Sent
      }
      mailbox Sent {
        special_use = \Sent
        auto = create
      }
    }
    """#

    static let auth = #"""
    auth_mechanisms = plain \
      login
    passdb {
      driver = passwd-file
      args = scheme=PLAIN /etc/dovecot/users
    }
    userdb {
      driver = static
      args = uid=vmail gid=vmail home=/var/vmail/%d/%n
    }
    service imap-login {
      inet_listener imaps {
        port = 993
        ssl = yes
      }
    }
    service auth {
      unix_listener /var/spool/postfix/private/auth {
        mode = 0660
        user = postfix
        group = postfix
      }
    }
    """#

    /// `doveconf -n` of the three files above, from Dovecot 2.3.19.1.
    static let expected = #"""
    auth_failure_delay = 2 mins
    auth_mechanisms = plain login
    imap_max_line_length = 128 k
    listen = 127.0.0.1
    login_greeting = Tern ready.
    mail_location = maildir:~/Maildir
    mail_plugins = " quota"
    namespace inbox {
      inbox = yes
      location =\#u{20}
      mailbox Drafts {
        auto = subscribe
        special_use = \Drafts
      }
      mailbox Sent {
        auto = create
        special_use = \Sent
      }
      mailbox "Sent Messages" {
        special_use = \Sent
      }
      prefix =\#u{20}
      separator = /
    }
    passdb {
      args = scheme=PLAIN /etc/dovecot/users
      driver = passwd-file
    }
    protocols = imap pop3
    service auth {
      unix_listener /var/spool/postfix/private/auth {
        group = postfix
        mode = 0660
        user = postfix
      }
    }
    service imap-login {
      inet_listener imaps {
        port = 993
        ssl = yes
      }
    }
    ssl_cert = </etc/ssl/certs/test.pem
    ssl_key = # hidden, use -P to show it
    userdb {
      args = uid=vmail gid=vmail home=/var/vmail/%d/%n
      driver = static
    }
    protocol imap {
      imap_idle_notify_interval = 1 mins
      mail_max_userip_connections = 50
    }
    protocol pop3 {
      pop3_uidl_format = %08Xu%08Xv
    }
    """#

    @Test func changedSettingsMatchDovecot() throws {
        let dir = DovecotTestDirectory()
        defer { dir.remove() }
        dir.write("dovecot.conf", Self.main)
        dir.write("conf.d/10-mail.conf", Self.mail)
        dir.write("conf.d/20-auth.conf", Self.auth)
        let config = try DovecotConfig.load(path: dir.path + "/dovecot.conf")
        #expect(config.dump(.changed) == Self.expected + "\n")
    }

    @Test func doveconfCommand() throws {
        let dir = DovecotTestDirectory()
        defer { dir.remove() }
        dir.write("dovecot.conf", Self.main)
        dir.write("conf.d/10-mail.conf", Self.mail)
        dir.write("conf.d/20-auth.conf", Self.auth)
        let path = dir.path + "/dovecot.conf"
        let n = Doveconf.run(arguments: ["-n", "-c", path])
        #expect(n.exitCode == 0)
        #expect(n.stdout.hasPrefix("# 2.3.19.1 (Tern "))
        #expect(n.stdout.hasSuffix(Self.expected + "\n"))
        let h = Doveconf.run(arguments: ["-c", path, "-h", "login_greeting", "auth_mechanisms"])
        #expect(h.stdout == "Tern ready.\nplain login\n")
        let one = Doveconf.run(arguments: ["-c", path, "ssl_key", "nosuch", "mail_debug"])
        #expect(one.stdout == "ssl_key = </etc/ssl/private/test.key\nmail_debug = no\n")
        #expect(one.exitCode == 0)
        let p = Doveconf.run(arguments: ["-nP", "-c", path])
        #expect(p.stdout.contains("\nssl_key = </etc/ssl/private/test.key\n"))
        let missing = Doveconf.run(arguments: ["-n", "-c", dir.path + "/nope.conf"])
        #expect(missing.exitCode == 89)
        #expect(missing.stderr == ["doveconf: Fatal: open(\(dir.path)/nope.conf) failed: No such file or directory"])
    }

    @Test func allSettingsIncludeBuiltinServices() throws {
        let config = try DovecotConfig.parse("service imap-login {\n  inet_listener imaps {\n    port = 994\n  }\n}\n")
        let all = config.dump(.all)
        #expect(all.contains("\nservice imap-login {\n  chroot = login\n"))
        #expect(all.contains("  inet_listener imaps {\n    address = \n    haproxy = no\n    port = 994\n"))
        #expect(all.contains("\nmail_max_userip_connections = 10\n"))
    }
}

/// A scratch directory for dovecot.conf files (with subdirectories), removed by `remove()`.
struct DovecotTestDirectory {
    let path: String

    init() {
        var template = Array("/tmp/tern-dovecot-test-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        path = made.map { String(cString: $0) } ?? "/tmp/tern-dovecot-test-fallback"
    }

    func write(_ name: String, _ text: String) {
        if let slash = name.lastIndex(of: "/") { mkdir(path + "/" + name[..<slash], 0o755) }
        let fd = open(path + "/" + name, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
