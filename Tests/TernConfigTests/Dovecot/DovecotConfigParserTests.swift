import Testing

@testable import TernConfig

/// dovecot.conf syntax: sections, includes, `<file`, `$var`, values, errors worded like Dovecot 2.3.19.
@Suite struct DovecotConfigParserTests {
    @Test func nestedSectionsMerge() throws {
        let config = try DovecotConfig.parse(
            """
            namespace inbox {
              separator = /
              mailbox Drafts {
                special_use = \\Drafts
              }
            }
            namespace inbox {
              mailbox Drafts {
                auto = subscribe
              }
            }
            passdb {
              driver = pam
            }
            passdb {
              driver = passwd-file
              args = /etc/users
            }
            """)
        let settings = DovecotSettings(config: config)
        #expect(settings.namespaces.count == 1)
        let inbox = try #require(settings.namespaces.first)
        #expect(inbox.separator == "/")
        #expect(inbox.mailboxes == [.init(name: "Drafts", specialUse: ["\\Drafts"], auto: .subscribe, autoexpunge: 0)])
        #expect(settings.passdbs.map(\.driver) == ["pam", "passwd-file"])
        #expect(settings.passdbs.last?.args == "/etc/users")
    }

    @Test func valuesAreNormalizedAsDoveconfPrintsThem() throws {
        let config = try DovecotConfig.parse(
            """
            auth_failure_delay = 120s
            imap_max_line_length = 1024
            mail_debug = YES
            login_greeting = "Hello # there"
            mail_plugins = $mail_plugins quota
            mail_plugins = $mail_plugins zlib
            mail_location = $other/x
            auth_mechanisms = plain \\
                login
            postmaster_address = a@b.c # comment
            """)
        #expect(config.value("auth_failure_delay") == "2 mins")
        #expect(config.value("imap_max_line_length") == "1 k")
        #expect(config.value("mail_debug") == "yes")
        #expect(config.value("login_greeting") == "Hello # there")
        #expect(config.value("mail_plugins") == " quota zlib")
        #expect(config.value("mail_location") == "$other/x")
        #expect(config.value("auth_mechanisms") == "plain login")
        #expect(config.value("postmaster_address") == "a@b.c")
        #expect(DovecotSettings(config: config).authFailureDelay == 120)
    }

    @Test func protocolOverrides() throws {
        let config = try DovecotConfig.parse(
            """
            mail_max_userip_connections = 20
            protocol imap {
              mail_max_userip_connections = 50
            }
            protocol !imap {
              mail_debug = yes
            }
            local 127.0.0.1 {
              protocol pop3 {
                mail_max_userip_connections = 3
              }
            }
            """)
        #expect(DovecotSettings(config: config, protocol: "imap").mailMaxUserIPConnections == 50)
        #expect(DovecotSettings(config: config, protocol: "pop3").mailMaxUserIPConnections == 20)
        #expect(DovecotSettings(config: config, protocol: "pop3").mailDebug)
        #expect(!DovecotSettings(config: config, protocol: "imap").mailDebug)
        #expect(DovecotSettings(config: config).mailMaxUserIPConnections == 20)
        #expect(config.filters.filter { !$0.block.settings.isEmpty }.count == 3)  // `local` alone is one more, empty
        #expect(config.dump(.changed).hasSuffix("local 127.0.0.1 {\n  protocol pop3 {\n    mail_max_userip_connections = 3\n  }\n}\n"))
    }

    @Test func servicesMergeWithBuiltins() throws {
        let config = try DovecotConfig.parse(
            """
            service imap-login {
              inet_listener imap {
                port = 0
              }
            }
            service auth {
              unix_listener /var/spool/postfix/private/auth {
                mode = 0660
                user = postfix
              }
            }
            """)
        let settings = DovecotSettings(config: config)
        let login = try #require(settings.service("imap-login"))
        #expect(login.inetListeners.map(\.port) == [0, 993])
        #expect(login.inetListeners.map(\.ssl) == [false, true])
        let auth = try #require(settings.service("auth"))
        let listener = try #require(auth.unixListeners.first { $0.path.hasPrefix("/var/spool") })
        #expect(listener.mode == 0o660)
        #expect(listener.user == "postfix")
    }

    @Test func includesWithGlobsAndFileValues() throws {
        let dir = DovecotTestDirectory()
        defer { dir.remove() }
        dir.write("dovecot.conf", "!include conf.d/*.conf\n!include_try local.conf\nssl_cert = <cert.pem\n")
        dir.write("conf.d/20-b.conf", "mail_location = maildir:~/Mail\n")
        dir.write("conf.d/10-a.conf", "mail_location = mbox:~/mail\nprotocols = imap\n")
        dir.write("cert.pem", "CERT\n")
        let config = try DovecotConfig.load(path: dir.path + "/dovecot.conf")
        #expect(config.value("mail_location") == "maildir:~/Mail")
        #expect(config.value("ssl_cert") == "<cert.pem")
        #expect(config.global.settings["protocols"]?.location == DovecotLocation(file: dir.path + "/conf.d/10-a.conf", line: 2))
        #expect(config.dump(.changed).contains("ssl_cert = <cert.pem\n"))
        let absolute = try DovecotConfig.parse("ssl_cert = <\(dir.path)/cert.pem\n")
        #expect(try DovecotSettings(config: absolute).contents("ssl_cert") == "CERT\n")
        let missing = try DovecotConfig.parse("ssl_key = </nonexistent/key.pem\n")
        #expect(throws: DovecotConfigError.self) { try DovecotSettings(config: missing).contents("ssl_key") }
    }

    @Test(arguments: [
        ("foo = bar\n", 1, "Unknown setting: foo"),
        ("namespace {\n  bogus = 1\n}\n", 2, "Unknown setting: namespace { bogus"),
        ("namespace inbox {\n mailbox x {\n  bogus = 1\n }\n}\n", 3, "Unknown setting: namespace { mailbox { bogus"),
        ("bogus x {\n}\n", 1, "Unknown setting: bogus { bogus"),
        ("mail_debug = maybe\n", 1, "Invalid boolean value: maybe (use yes or no)"),
        ("first_valid_uid = abc\n", 1, "Invalid number abc: Not a valid number"),
        ("imap_max_line_length = abc\n", 1, "Invalid size: abc"),
        ("auth_failure_delay = 61\n", 1, "Time interval '61' is missing units (add e.g. 's' for seconds)"),
        ("ssl = maybe\n", 1, "Invalid value: maybe"),
        ("\n}\n", 2, "Unexpected '}'"),
        ("!include nonexistent.conf\n", 1, "No matches"),
        ("protocol imap {\n  bogus = 1\n}\n", 2, "Unknown setting: bogus"),
    ] as [(String, Int, String)])
    func errorsNameFileAndLine(text: String, line: Int, message: String) {
        #expect(throws: DovecotConfigError(file: "/etc/dovecot/dovecot.conf", line: line, message: message)) {
            try DovecotConfig.parse(text)
        }
    }

    @Test func unclosedSectionAndRecursiveInclude() throws {
        #expect(throws: DovecotConfigError(file: "/x.conf", line: nil, message: "Missing '}' (section started at /x.conf:1)")) {
            try DovecotConfig.parse("namespace inbox {\n", path: "/x.conf")
        }
        let dir = DovecotTestDirectory()
        defer { dir.remove() }
        dir.write("dovecot.conf", "!include dovecot.conf\n")
        #expect(throws: DovecotConfigError.self) { try DovecotConfig.load(path: dir.path + "/dovecot.conf") }
        #expect(
            DovecotConfigError(file: "/a", line: 3, message: "Unknown setting: foo").description
                == "Error in configuration file /a line 3: Unknown setting: foo")
    }

    @Test func limitsHoldOnHostileInput() throws {
        let deep = String(repeating: "namespace a {\n", count: 100)
        #expect(throws: DovecotConfigError.self) { try DovecotConfig.parse(deep) }
        let long = "login_greeting = " + String(repeating: "x", count: 3 << 20) + "\n"
        let config = try DovecotConfig.parse(long)
        #expect((config.value("login_greeting")?.utf8.count ?? 0) <= DovecotLineParser.maximumLineLength)
        let continued = String(repeating: "a \\\n", count: 10000) + "\n"
        #expect(throws: DovecotConfigError.self) { try DovecotConfig.parse(continued) }
        for junk in ["{", "= x", "\"", "a {{", "!include", "!bogus x", "\0\0", "}}}", "a = <", "key"] {
            _ = try? DovecotConfig.parse(junk + "\n")
        }
    }

    @Test func housekeepingLinesAreAccepted() throws {
        let config = try DovecotConfig.parse(
            """
            instance_name = dc-accept
            base_dir = /tmp/dc/run
            state_dir = /tmp/dc/state
            default_login_user = dovenull
            default_internal_user = dovecot
            """)
        #expect(DovecotSettings(config: config).baseDir == "/tmp/dc/run")
        #expect(config.dump(.changed) == "base_dir = /tmp/dc/run\ninstance_name = dc-accept\nstate_dir = /tmp/dc/state\n")
    }
}
