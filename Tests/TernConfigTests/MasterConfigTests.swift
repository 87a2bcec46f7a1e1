import Testing
import TernCore
@testable import TernConfig

@Suite struct MasterConfigTests {
    @Test func parsesConformanceMasterCF() throws {
        let master = try MasterConfig.parse(text: conformanceMasterCF, file: "/d/master.cf")
        #expect(master.services.count == 12)
        let submission = try #require(master.services.first { $0.name == "127.0.0.1:21587" })
        #expect(submission.type == .inet)
        #expect(submission.command == "smtpd")
        #expect(submission.line == 6)
        #expect(submission.overrides.map(\.name).first == "syslog_name")
        #expect(submission.overrideTable["smtpd_client_restrictions"] == "permit_sasl_authenticated,reject")
        let tlsmgr = try #require(master.services(named: "tlsmgr").first)
        #expect(tlsmgr.wakeup.seconds == 1000 && tlsmgr.wakeup.conditional)
        #expect(tlsmgr.maxProcesses(default: 100) == 1)
        #expect(master.services(named: "smtp", type: "unix").count == 1)
        #expect(master.services(named: "postlog").first?.type == .unixDgram)
        #expect(master.services(named: "local").first?.isUnprivileged == false)
    }

    @Test func bracedOverridesAndCombinedOptions() throws {
        let text = "a inet - - - 10? - smtpd -o{ x = 1 } -oy=2 -vo z=3 {a b} -o\n"
        let service = try #require(try MasterConfig.parse(text: text, file: "m").services.first)
        #expect(service.arguments == ["-o", "x=1", "-o", "y=2", "-v", "-o", "z=3", "a b", "-o"])
        #expect(service.overrideTable == ["x": "1", "y": "2", "z": "3"])
        #expect(service.daemonFlags == ["-v"])
        #expect(service.commandArguments == ["a b", "-o"])
        #expect(service.formatted()
            == "a          inet  -       -       -       10?     -       smtpd -o x=1 -o y=2 -v -o z=3 a b -o\n")
    }

    /// A `postgrey` service's GNU-style options are left as written (`--lookup-by-host` is no `-o`).
    @Test func longOptionsAreNotDaemonOptions() throws {
        let text = "postgrey unix - - n - 1 postgrey --lookup-by-host --auto-whitelist-clients=3 -o x=1\n"
        let service = try #require(try MasterConfig.parse(text: text, file: "m").services.first)
        #expect(service.arguments == ["--lookup-by-host", "--auto-whitelist-clients=3", "-o", "x=1"])
    }

    @Test func formatsLikePostconfM() throws {
        let text = """
            127.0.0.1:2525 inet n - n - - smtpd -o smtpd_tls_security_level=none
              -o { smtpd_client_restrictions = permit_mynetworks, reject } -v
            relay     unix  -       -       n       -       -       smtp
                    -o syslog_name=postfix/$service_name -o smtp_helo_timeout=5
            postlog   unix-dgram n  -       n       -       1       postlogd
            """
        let services = try MasterConfig.parse(text: text, file: "m").services
        #expect(services[0].formatted() == "127.0.0.1:2525 inet n    -       n       -       -       smtpd -o smtpd_tls_security_level=none -o {smtpd_client_restrictions=permit_mynetworks, reject} -v\n")
        #expect(services[1].formatted(fold: true) == """
            relay      unix  -       -       n       -       -       smtp
                -o syslog_name=postfix/$service_name
                -o smtp_helo_timeout=5

            """)
        #expect(services[2].formatted() == "postlog    unix-dgram n  -       n       -       1       postlogd\n")
    }

    @Test func errorsUsePostconfWords() {
        #expect(throws: FileError(file: "/d/master.cf", line: 2, message: "bad field count")) {
            try MasterConfig.parse(text: "# c\nfoo bar baz\n", file: "/d/master.cf")
        }
        #expect(MasterConfig.postconfText(FileError(file: "/d/master.cf", line: 2, message: "bad field count"))
            == "file /d/master.cf: line 2: bad field count")
        let cases = [
            ("bogus inet x - y - - smtpd", "invalid private field \"x\" in \"bogus inet x - y - - smtpd\""),
            ("a inet - x - - - smtpd", "invalid unprivileged field \"x\" in \"a inet - x - - - smtpd\""),
            ("a inet - - - 10?? - smtpd", "invalid wakeup field \"10??\" in \"a inet - - - 10?? - smtpd\""),
            ("a inet - - - - x smtpd", "invalid process_limit field \"x\" in \"a inet - - - - x smtpd\""),
            ("a bogus - - - - - smtpd", "invalid type field \"bogus\" in \"a bogus - - - - - smtpd\""),
        ]
        for (line, message) in cases {
            #expect(throws: FileError(file: "m", line: 1, message: message)) {
                try MasterConfig.parse(text: line + "\n", file: "m")
            }
        }
    }

    @Test func inetListenAddresses() {
        #expect(InetListenAddress.addresses(service: "smtp", interfaces: ["all"]) == [.init(host: nil, port: 25)])
        #expect(InetListenAddress.addresses(service: "submission", interfaces: ["127.0.0.1"])
            == [.init(host: "127.0.0.1", port: 587)])
        #expect(InetListenAddress.addresses(service: "2525", interfaces: ["127.0.0.1", "[::1]"])
            == [.init(host: "127.0.0.1", port: 2525), .init(host: "::1", port: 2525)])
        #expect(InetListenAddress.addresses(service: "127.0.0.1:21025", interfaces: ["all"])
            == [.init(host: "127.0.0.1", port: 21025)])
        #expect(InetListenAddress.addresses(service: "[::1]:25", interfaces: ["all"]) == [.init(host: "::1", port: 25)])
        #expect(InetListenAddress.addresses(service: "smtps", interfaces: ["loopback-only"], protocols: ["ipv4"])
            == [.init(host: "127.0.0.1", port: 465)])
        #expect(InetListenAddress.addresses(service: "nosuchservice", interfaces: ["all"]) == nil)
        #expect(InetListenAddress(host: "::1", port: 25).description == "[::1]:25")
    }
}
