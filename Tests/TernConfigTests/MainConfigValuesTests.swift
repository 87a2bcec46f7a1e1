import Testing
import TernCore
@testable import TernConfig

@Suite struct MainConfigValuesTests {
    @Test func registryHasPostfixDefaultsAndTernOverrides() throws {
        let config = try MainConfig.parse(text: "")
        #expect(ParameterRegistry.builtinNames.count > 800)
        #expect(config.raw("message_size_limit") == "10240000")
        #expect(config.raw("mail_name") == "Tern")
        #expect(config.raw("mail_version") == "0.1.0")
        #expect(config.raw("smtpd_banner") == "$myhostname ESMTP $mail_name")
        #expect(config.raw("mydestination") == "$myhostname, localhost.$mydomain, localhost")
        #expect(config.raw("no_such_parameter") == nil)
    }

    @Test func hostDefaultsFollowMyhostnameAndMydomain() throws {
        let a = try MainConfig.parse(text: "myhostname = mail.acc.test\n")
        #expect(a.value("mydomain") == "acc.test")
        #expect(a.value("smtpd_banner") == "mail.acc.test ESMTP Tern")
        let b = try MainConfig.parse(text: "myhostname = single\n")
        #expect(b.value("mydomain") == "localdomain")
        #expect(HostDefaults.myhostname(system: "vm", explicitDomain: nil) == "vm.localdomain")
        #expect(HostDefaults.myhostname(system: "vm", explicitDomain: "x.org") == "vm.x.org")
        #expect(HostDefaults.myhostname(system: "h.x.org", explicitDomain: "y.org") == "h.x.org")
        let c = try MainConfig.parse(text: "mynetworks_style = host\ninet_protocols = ipv4\n")
        #expect(c.value("mynetworks").split(separator: " ").contains("127.0.0.1/32"))
    }

    @Test func typedValues() throws {
        let text = """
            smtpd_helo_required = yes
            biff = False
            message_size_limit = 20480000
            maximal_queue_lifetime = 3
            bounce_queue_lifetime = 2h
            smtpd_timeout = 30
            delay_warning_time = 4
            """
        let config = try MainConfig.parse(text: text)
        #expect(config.bool("smtpd_helo_required") == true)
        #expect(config.bool("biff") == false)
        #expect(config.size("message_size_limit") == 20_480_000)
        #expect(config.int("default_process_limit") == 100)
        #expect(config.time("maximal_queue_lifetime") == 3 * 86400)
        #expect(config.time("bounce_queue_lifetime") == 7200)
        #expect(config.time("smtpd_timeout") == 30)
        #expect(config.time("delay_warning_time") == 4 * 3600)
        #expect(config.time("smtp_helo_timeout") == 300)
        #expect(ParameterRegistry.defaultTimeUnit("maximal_queue_lifetime") == "d")
        #expect(ParameterRegistry.defaultTimeUnit("bounce_queue_lifetime") == "d")
        #expect(ParameterRegistry.defaultTimeUnit("ipc_timeout") == "s")
        #expect(ParameterRegistry.defaultTimeUnit("message_size_limit") == nil)
    }

    @Test func listsSplitAndExpandFiles() throws {
        let dir = TestDirectory(main: "")
        defer { dir.remove() }
        dir.write("domains", "# local domains\nexample.org, example.net\n  other.test\n")
        let text = """
            myhostname = mail.acc.test
            mydestination = $myhostname, localhost, \(dir.path)/domains hash:/etc/postfix/more
            smtpd_recipient_restrictions = permit_mynetworks,
              check_client_access {hash:/x, ok}, reject
            alias_maps = \(dir.path)/domains
            """
        let config = try MainConfig.parse(text: text)
        #expect(try config.list("mydestination")
            == ["mail.acc.test", "localhost", "example.org", "example.net", "other.test", "hash:/etc/postfix/more"])
        #expect(try config.list("smtpd_recipient_restrictions")
            == ["permit_mynetworks", "check_client_access", "{hash:/x, ok}", "reject"])
        #expect(try config.list("alias_maps") == ["\(dir.path)/domains"])
        let missing = try MainConfig.parse(text: "relay_domains = /nonexistent/tern-file\n")
        #expect(throws: FileError.self) { try missing.list("relay_domains") }
    }

    @Test func masterOverridesWin() throws {
        let config = try MainConfig.parse(text: "smtpd_tls_security_level = may\nsyslog_name = postfix\n")
        let sub = config.overriding(["smtpd_tls_security_level": "encrypt", "syslog_name": "$syslog_name/sub"])
        #expect(sub.value("smtpd_tls_security_level") == "encrypt")
        #expect(config.value("smtpd_tls_security_level") == "may")
        #expect(sub.isExplicit("smtpd_tls_security_level"))
    }

    @Test func perTransportParametersFallBackToDefaults() throws {
        let config = try MainConfig.parse(text: "default_destination_concurrency_limit = 7\n")
        #expect(config.raw("relay_destination_concurrency_limit") == "$default_destination_concurrency_limit")
        #expect(config.int("relay_destination_concurrency_limit") == 7)
        #expect(config.int("local_destination_concurrency_limit") == 2)
    }
}
