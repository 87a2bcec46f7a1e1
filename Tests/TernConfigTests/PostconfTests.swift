import Testing
@testable import TernConfig

@Suite struct PostconfTests {
    /// `postconf -c DIR -n` of the conformance suite's main.cf, as Postfix 3.7 prints it.
    @Test func goldenNonDefaultOutput() {
        let dir = TestDirectory(main: "", master: conformanceMasterCF)
        defer { dir.remove() }
        dir.write("main.cf", conformanceMainCF(dir.path))
        let out = Postconf.run(arguments: ["-c", dir.path, "-n"], environment: [:])
        #expect(out.exitCode == 0)
        #expect(out.stderr == [])
        #expect(out.stdout == """
            alias_database = hash:\(dir.path)/aliases
            alias_maps = hash:\(dir.path)/aliases
            append_dot_mydomain = no
            biff = no
            command_directory = /usr/sbin
            compatibility_level = 3.6
            config_directory = \(dir.path)
            daemon_directory = /usr/lib/postfix/sbin
            data_directory = /tmp/pf-accept-data
            home_mailbox = Maildir/
            html_directory = no
            inet_interfaces = 127.0.0.1
            inet_protocols = ipv4
            mail_owner = postfix
            mail_spool_directory = /tmp/pf-accept-spool
            maillog_file = \(dir.path)/maillog
            maillog_file_prefixes = /tmp, /var, /dev/stdout
            message_size_limit = 20480000
            meta_directory = /etc/postfix
            mydestination = $myhostname, localhost.$mydomain, localhost, $mydomain
            mydomain = acc.test
            myhostname = mail.acc.test
            mynetworks = 127.0.0.0/8
            myorigin = $mydomain
            queue_directory = /tmp/pf-accept-queue
            readme_directory = no
            recipient_delimiter = +
            relayhost =
            setgid_group = postdrop
            shlib_directory = /usr/lib/postfix
            smtpd_banner = $myhostname ESMTP $mail_name
            smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
            syslog_name = postfix-acc

            """)
    }

    @Test func namedParametersDefaultsAndExpansion() {
        let dir = TestDirectory(main: conformanceMainCF("/x"), master: conformanceMasterCF)
        defer { dir.remove() }
        let env = ["MAIL_CONFIG": dir.path]
        #expect(Postconf.run(arguments: ["myhostname", "mydomain"], environment: env).stdout
            == "myhostname = mail.acc.test\nmydomain = acc.test\n")
        #expect(Postconf.run(arguments: ["-h", "myhostname"], environment: env).stdout == "mail.acc.test\n")
        #expect(Postconf.run(arguments: ["smtpd_helo_required"], environment: env).stdout == "smtpd_helo_required = no\n")
        #expect(Postconf.run(arguments: ["-d", "message_size_limit"], environment: env).stdout
            == "message_size_limit = 10240000\n")
        #expect(Postconf.run(arguments: ["-x", "smtpd_banner"], environment: env).stdout
            == "smtpd_banner = mail.acc.test ESMTP Tern\n")
        #expect(Postconf.run(arguments: ["-hx", "relay_destination_concurrency_limit"], environment: env).stdout == "20\n")
        let unknown = Postconf.run(arguments: ["nonexist", "relayhost"], environment: env)
        #expect(unknown.stdout == "relayhost =\n")
        #expect(unknown.stderr == ["postconf: warning: nonexist: unknown parameter"])
        #expect(unknown.exitCode == 0)
        let all = Postconf.run(arguments: [], environment: env).stdout
        #expect(all.contains("\nrelay_transport_rate_delay = $default_transport_rate_delay\n"))
        #expect(all.contains("\nsmtp_initial_destination_concurrency = $initial_destination_concurrency\n"))
        #expect(!all.contains("\npickup_destination_concurrency_limit"))
    }

    @Test func unusedParametersAreWarnedButServiceAndReferencedOnesAreNot() {
        let main = "myhostname = a.b.c\nfoo_bar = 1\nx1 = $myhostname\nsmtpd_banner = $x1\n"
            + "relay_destination_concurrency_limit = 3\nsubmission_xyz = 2\n"
        let master = "relay unix - - n - - smtp\nx inet - - - - - smtpd -o q=$baz -o t=2\n"
        let dir = TestDirectory(main: main + "baz = 1\n", master: master)
        defer { dir.remove() }
        let out = Postconf.run(arguments: ["-c", dir.path, "-n"], environment: [:])
        #expect(out.stdout.contains("relay_destination_concurrency_limit = 3\n"))
        #expect(out.stdout.contains("x1 = $myhostname\n"))
        #expect(!out.stdout.contains("foo_bar"))
        #expect(Set(out.stderr) == [
            "postconf: warning: \(dir.path)/main.cf: unused parameter: foo_bar=1",
            "postconf: warning: \(dir.path)/main.cf: unused parameter: submission_xyz=2",
            "postconf: warning: \(dir.path)/master.cf: unused parameter: q=$baz",
            "postconf: warning: \(dir.path)/master.cf: unused parameter: t=2",
        ])
    }

    @Test func editReplacesInPlaceKeepsCommentsAndAppends() {
        let dir = TestDirectory(main: "# head\nmyhostname = a.b.c\nmydestination = a,\n   b,\n  c\n# mid\nrelayhost = x\n")
        defer { dir.remove() }
        let out = Postconf.run(
            arguments: ["-c", dir.path, "-e", "mydestination = z", "relayhost=y", "message_size_limit=5"],
            environment: [:])
        #expect(out.exitCode == 0)
        #expect(dir.read("main.cf")
            == "# head\nmyhostname = a.b.c\nmydestination = z\n# mid\nrelayhost = y\nmessage_size_limit = 5\n")
        _ = Postconf.run(arguments: ["-c", dir.path, "-#", "relayhost", "myhostname"], environment: [:])
        #expect(dir.read("main.cf")
            == "# head\n#myhostname = a.b.c\nmydestination = z\n# mid\n#relayhost = y\nmessage_size_limit = 5\n")
        _ = Postconf.run(arguments: ["-c", dir.path, "-X", "message_size_limit"], environment: [:])
        #expect(dir.read("main.cf") == "# head\n#myhostname = a.b.c\nmydestination = z\n# mid\n#relayhost = y\n")
        let bad = Postconf.run(arguments: ["-c", dir.path, "-e", "bad"], environment: [:])
        #expect(bad.exitCode == 1)
        #expect(bad.stderr == ["postconf: fatal: missing '=' after attribute name: \"bad\""])
    }

    @Test func editorHandlesDuplicatesAndContinuations() {
        let text = "a = 1\nb = 2\n  b2\na = 3\n  a3\nc = 4\n"
        let set = MainCFEditor.apply(.set([("a", "new")]), to: text, file: "./main.cf")
        #expect(set.text == "a = new\nb = 2\n  b2\na = new\nc = 4\n")
        #expect(set.warnings == ["./main.cf: multiple entries for \"a\""])
        #expect(MainCFEditor.apply(.commentOut(["a", "b"]), to: text, file: "m").text
            == "#a = 1\n#b = 2\n#  b2\n#a = 3\n#  a3\nc = 4\n")
        #expect(MainCFEditor.apply(.remove(["a"]), to: text, file: "m").text == "b = 2\n  b2\nc = 4\n")
        #expect(MainCFEditor.apply(.set([("b", "")]), to: "a = 1", file: "m").text == "a = 1\nb = \n")
    }

    @Test func masterEntriesAndParameters() {
        let dir = TestDirectory(main: "myhostname = a.b.c\n", master: conformanceMasterCF)
        defer { dir.remove() }
        let m = Postconf.run(arguments: ["-c", dir.path, "-M", "tlsmgr/unix", "relay", "nothere"], environment: [:])
        #expect(m.stdout == """
            tlsmgr     unix  -       -       n       1000?   1       tlsmgr
            relay      unix  -       -       n       -       -       smtp -o syslog_name=postfix/$service_name

            """)
        #expect(m.stderr == ["postconf: warning: unmatched request: \"nothere\""])
        let p = Postconf.run(arguments: ["-c", dir.path, "-Px", "relay/unix"], environment: [:])
        #expect(p.stdout == "relay/unix/syslog_name = postfix/relay\n")
    }

    @Test func errorsAndUsage() {
        let dir = TestDirectory(main: "myhostname = a\nthis line is broken\n", master: "")
        defer { dir.remove() }
        let broken = Postconf.run(arguments: ["-c", dir.path, "-n"], environment: [:])
        #expect(broken.exitCode == 1)
        #expect(broken.stderr
            == ["postconf: fatal: \(dir.path)/main.cf, line 2: missing '=' after attribute name: \"this line is broken\""])
        let missing = Postconf.run(arguments: ["-c", "/nonexistent-tern", "-n"], environment: [:])
        #expect(missing.stderr == ["postconf: fatal: open /nonexistent-tern/main.cf: No such file or directory"])
        let usage = Postconf.run(arguments: ["-Z"], environment: [:])
        #expect(usage.exitCode == 1)
        #expect(usage.stderr.first == "postconf: invalid option -- 'Z'")
        #expect(usage.stderr.last?.hasPrefix("postconf: fatal: usage: postconf [-a (server SASL types)]") == true)
        dir.write("main.cf", "r1 = $r2\nr2 = $r1\n")
        let loop = Postconf.run(arguments: ["-c", dir.path, "-x", "r1"], environment: [:])
        #expect(loop.exitCode == 1)
        #expect(loop.stderr.suffix(2)
            == ["postconf: warning: unreasonable macro call nesting: \"r2\"", "postconf: fatal: macro processing error"])
    }

    @Test func postfixCheckReportsMainAndMasterProblems() {
        let dir = TestDirectory(main: conformanceMainCF("/x"), master: conformanceMasterCF)
        defer { dir.remove() }
        #expect(PostfixCheck.check(directory: dir.path) == [])
        dir.write("main.cf", conformanceMainCF("/x") + "this line is broken\n")
        let problems = PostfixCheck.check(directory: dir.path)
        #expect(problems.map(\.description) == [
            "postfix: fatal: \(dir.path)/main.cf, line 36: missing '=' after attribute name: \"this line is broken\""
        ])
        #expect(problems.first?.line == 36)
        dir.write("main.cf", conformanceMainCF("/x") + "foo_bar = 1\n")
        dir.write("master.cf", conformanceMasterCF + "foo bar baz\n")
        #expect(PostfixCheck.check(directory: dir.path).map(\.description) == [
            "/usr/sbin/postconf: fatal: file \(dir.path)/master.cf: line 25: bad field count",
            "postfix/postfix-script: fatal: cannot execute /usr/sbin/postconf!",
        ])
        dir.write("master.cf", conformanceMasterCF)
        #expect(PostfixCheck.check(directory: dir.path).map(\.description)
            == ["/usr/sbin/postconf: warning: \(dir.path)/main.cf: unused parameter: foo_bar=1"])
    }
}
