import Foundation
import TernConfig
import TernMaps
import TernServer

/// `tern demo [DIR]`: the embedded default. Writes a small but real configuration into DIR (default
/// ./tern-demo) — main.cf, master.cf, aliases, a demo domain `demo.test` with two virtual mailbox users — and
/// runs the MTA in the foreground on 127.0.0.1:2525 as an ordinary user (as root, as `nobody`).
enum DemoCommand {
    static let domain = "demo.test"
    static let port = 2525
    static let imapPort = 1143
    static let pop3Port = 1110
    static let users = [("alice", "alice-secret"), ("bob", "bob-secret")]

    static func run(_ arguments: [String]) async -> Int32 {
        let directory = absolute(arguments.first ?? "tern-demo")
        let owner = demoOwner()
        do {
            if !FileManager.default.fileExists(atPath: directory + "/main.cf") {
                try write(directory: directory, owner: owner)
            }
            if !FileManager.default.fileExists(atPath: directory + "/dovecot.conf") {
                try writeDovecot(directory: directory, owner: owner)
            }
        } catch {
            return Diagnostics.fatal("tern demo", "\(error)")
        }
        FileHandle.standardOutput.write(Data((instructions(directory: directory) + "\n").utf8))
        // The MTA and the mail-access daemon side by side, as `postfix start-fg` and `dovecot -F` would run.
        async let access = AccessDaemon.run(configPath: directory + "/dovecot.conf", background: false)
        let mta = await MTADaemon.run(configDirectory: directory, foreground: true)
        return max(mta, await access)
    }

    /// Who owns the demo's mailboxes and runs its daemon: the invoking user, or `nobody` for root.
    static func demoOwner() -> (name: String, uid: UInt32, gid: UInt32) {
        let uid = geteuid() == 0 ? (getpwnam("nobody")?.pointee.pw_uid ?? 65534) : geteuid()
        guard let entry = getpwuid(uid) else { return ("nobody", uid, UInt32(getegid())) }
        return (String(cString: entry.pointee.pw_name), uid, entry.pointee.pw_gid)
    }

    static func write(directory: String, owner: (name: String, uid: UInt32, gid: UInt32)) throws {
        let manager = FileManager.default
        for sub in ["", "/queue", "/data", "/mail"] {
            try manager.createDirectory(atPath: directory + sub, withIntermediateDirectories: true)
        }
        let main = """
            # Tern demo configuration: a Postfix main.cf. Edit it and run `MAIL_CONFIG=\(directory) tern postfix reload`.
            compatibility_level = 3.6
            myhostname = mail.\(domain)
            mydomain = \(domain)
            myorigin = $mydomain
            mydestination = $myhostname, localhost
            inet_interfaces = 127.0.0.1
            inet_protocols = ipv4
            mynetworks = 127.0.0.0/8
            smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
            queue_directory = \(directory)/queue
            data_directory = \(directory)/data
            mail_owner = \(owner.name)
            maillog_file = \(directory)/maillog
            alias_maps = hash:\(directory)/aliases
            alias_database = hash:\(directory)/aliases
            recipient_delimiter = +

            # The demo domain's users have virtual mailboxes (Maildir) under \(directory)/mail.
            virtual_mailbox_domains = \(domain)
            virtual_mailbox_base = \(directory)/mail
            virtual_mailbox_maps = hash:\(directory)/vmailbox
            virtual_uid_maps = static:\(owner.uid)
            virtual_gid_maps = static:\(owner.gid)
            virtual_minimum_uid = \(owner.uid)

            """
        let master = """
            # service type  private unpriv  chroot  wakeup  maxproc command + args
            127.0.0.1:\(port) inet n   -       n       -       -       smtpd
            pickup    unix  n       -       n       60      1       pickup
            cleanup   unix  n       -       n       -       0       cleanup
            qmgr      unix  n       -       n       300     1       qmgr
            local     unix  -       n       n       -       -       local
            virtual   unix  -       n       n       -       -       virtual

            """
        // Postfix's default aliases: postmaster and root reach a person (here alice).
        let aliases = "postmaster: root\nroot: alice@\(domain)\n"
        var mailboxes = users.map { "\($0.0)@\(domain)    \(domain)/\($0.0)/" }
        mailboxes += ["postmaster@\(domain)    \(domain)/alice/", "root@\(domain)    \(domain)/alice/"]
        try main.write(toFile: directory + "/main.cf", atomically: true, encoding: .utf8)
        try master.write(toFile: directory + "/master.cf", atomically: true, encoding: .utf8)
        try aliases.write(toFile: directory + "/aliases", atomically: true, encoding: .utf8)
        try (mailboxes.joined(separator: "\n") + "\n").write(
            toFile: directory + "/vmailbox", atomically: true, encoding: .utf8)
        let settings = MapToolSettings(defaultDatabaseType: "hash", myhostname: "mail.\(domain)")
        for (result, what) in [
            (Postmap.run(arguments: ["hash:\(directory)/vmailbox"], settings: { _ in settings }), "vmailbox"),
            (Postalias.run(arguments: ["hash:\(directory)/aliases"], settings: { _ in settings }), "aliases"),
        ] where result.exitCode != 0 {
            throw DemoError(description: "cannot build \(what): \(result.stderr)")
        }
        if geteuid() == 0 {
            for sub in ["/mail", "/data"] { chown(directory + sub, owner.uid, owner.gid) }
        }
    }

    /// dovecot.conf for IMAP and POP3 on the same mailboxes: a passwd-file whose homes are the users'
    /// Maildirs, plaintext logins allowed (loopback only, no TLS in the demo).
    static func writeDovecot(directory: String, owner: (name: String, uid: UInt32, gid: UInt32)) throws {
        let passwd = users.map { user, password in
            "\(user)@\(domain):{PLAIN}\(password):\(owner.uid):\(owner.gid)::\(directory)/mail/\(domain)/\(user)::"
        }
        let config = """
            # Tern demo: a Dovecot 2.3 dovecot.conf. Edit it and restart `tern demo`.
            protocols = imap pop3
            listen = 127.0.0.1
            base_dir = \(directory)/dovecot-run
            state_dir = \(directory)/dovecot-state
            log_path = \(directory)/dovecot.log
            default_login_user = \(owner.name)
            default_internal_user = \(owner.name)
            first_valid_uid = \(owner.uid)
            ssl = no
            disable_plaintext_auth = no
            auth_mechanisms = plain login
            mail_location = maildir:~/
            passdb {
              driver = passwd-file
              args = scheme=PLAIN username_format=%u \(directory)/users
            }
            userdb {
              driver = passwd-file
              args = username_format=%u \(directory)/users
            }
            namespace inbox {
              inbox = yes
              separator = /
              mailbox Drafts {
                special_use = \\Drafts
                auto = subscribe
              }
              mailbox Sent {
                special_use = \\Sent
                auto = subscribe
              }
              mailbox Trash {
                special_use = \\Trash
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

            """
        try config.write(toFile: directory + "/dovecot.conf", atomically: true, encoding: .utf8)
        try (passwd.joined(separator: "\n") + "\n").write(toFile: directory + "/users", atomically: true, encoding: .utf8)
        chmod(directory + "/users", 0o600)
    }

    static func instructions(directory: String) -> String {
        """
        Tern demo: SMTP on 127.0.0.1:\(port), IMAP on 127.0.0.1:\(imapPort), POP3 on 127.0.0.1:\(pop3Port),
          domain \(domain), configuration in \(directory) (main.cf, master.cf, dovecot.conf)
          users:     \(users.map { "\($0.0)@\(domain) (password \($0.1))" }.joined(separator: ", "))
          aliases:   postmaster and root (also @localhost) go to alice
        Send a message:
          swaks --server 127.0.0.1:\(port) --from you@example.com --to alice@\(domain)
        or by hand: telnet 127.0.0.1 \(port), then
          EHLO me / MAIL FROM:<you@example.com> / RCPT TO:<alice@\(domain)> / DATA / Subject: hi / (blank) / hello / . / QUIT
        It lands in \(directory)/mail/\(domain)/alice/new/
        Read it:   curl -u alice@\(domain):alice-secret imap://127.0.0.1:\(imapPort)/INBOX;UID=1
              or   curl -u alice@\(domain):alice-secret pop3://127.0.0.1:\(pop3Port)/1
        Mail log:  \(directory)/maillog   IMAP/POP3 log: \(directory)/dovecot.log   Queue:  MAIL_CONFIG=\(directory) tern mailq
        Stop with Ctrl-C.
        """
    }

    static func absolute(_ path: String) -> String {
        let full = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        return URL(fileURLWithPath: full).standardizedFileURL.path
    }

    struct DemoError: Error, CustomStringConvertible {
        let description: String
    }
}
