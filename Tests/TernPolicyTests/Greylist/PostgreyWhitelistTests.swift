import TernMaps
import Testing

@testable import TernPolicy

/// postgrey's whitelist file formats, with lines like Debian's /etc/postgrey files.
@Suite struct PostgreyWhitelistTests {
    static let clients = """
        # comment line
        /^mail\\d+\\.telekom\\.de$/
        /^(?:smtp\\w*|postfix)[0-9]+-g[0-9]+\\.free\\.fr$/
        cern.ch   # trailing comment
        192.0.2.7
        198.51.100.0/24
        203.0.113
        10.1
        2001:db8:aa::/48
        2001:db8::5
        not a hostname
        /[unclosed/
        300.1.1.1
        """

    func address(_ text: String) -> [UInt8] { CIDRNetwork.parseAddress(text)! }

    @Test func clientEntries() {
        var whitelist = PostgreyWhitelist()
        let warnings = whitelist.addClients(Self.clients, file: "wl")
        #expect(warnings.count == 2, "\(warnings)")
        #expect(warnings.first == "wl line 11: doesn't look like a hostname")
        #expect(warnings.last?.hasPrefix("wl line 12: error in regex") == true)
        let other = address("192.0.2.200")
        #expect(whitelist.whitelists(clientName: "MAIL12.telekom.de", address: other))
        #expect(!whitelist.whitelists(clientName: "xmail12.telekom.de", address: other))
        #expect(whitelist.whitelists(clientName: "smtp5-g21.free.fr", address: other))
        #expect(whitelist.whitelists(clientName: "cern.ch", address: other))
        #expect(whitelist.whitelists(clientName: "smtp.Cern.CH", address: other))
        #expect(!whitelist.whitelists(clientName: "notcern.ch", address: other))
        #expect(!whitelist.whitelists(clientName: "unknown", address: other))
        #expect(whitelist.whitelists(clientName: "unknown", address: address("192.0.2.7")))
        #expect(whitelist.whitelists(clientName: "unknown", address: address("198.51.100.99")))
        #expect(whitelist.whitelists(clientName: "unknown", address: address("203.0.113.1")))
        // `10.1` is a /24 in postgrey 1.37 (its comment says /16).
        #expect(whitelist.whitelists(clientName: "unknown", address: address("10.1.0.9")))
        #expect(!whitelist.whitelists(clientName: "unknown", address: address("10.1.1.9")))
        #expect(whitelist.whitelists(clientName: "unknown", address: address("2001:db8:aa:1::1")))
        #expect(whitelist.whitelists(clientName: "unknown", address: address("2001:db8::5")))
        #expect(!whitelist.whitelists(clientName: "unknown", address: address("2001:db8::6")))
        // The unparsable 300.1.1.1 is skipped silently.
        #expect(whitelist.clientNetworks.count == 6)
    }

    @Test func recipientEntries() {
        var whitelist = PostgreyWhitelist()
        let warnings = whitelist.addRecipients(
            """
            postmaster@
            abuse@example.org
            lists.example.net
            /^noc-.*@example\\.com$/
            bad entry
            """, file: "rcpt")
        #expect(warnings == ["rcpt line 5: doesn't look like an address"])
        for recipient in [
            "postmaster@anything.test", "Postmaster+x@a.b", "abuse@example.org", "abuse+tag@EXAMPLE.org",
            "x@lists.example.net", "x@sub.lists.example.net", "noc-1@example.com",
        ] {
            #expect(whitelist.whitelists(recipient: recipient), "\(recipient)")
        }
        for recipient in [
            "xpostmaster@a.b", "abuse@example.org.evil", "abuse@sub.example.org", "x@xlists.example.net",
            "noc@example.com",
        ] {
            #expect(!whitelist.whitelists(recipient: recipient), "\(recipient)")
        }
    }

    @Test func quotingMatchesLiterally() {
        #expect(PerlPattern.quote("a.b+c@d_1") == "a\\.b\\+c\\@d_1")
        var whitelist = PostgreyWhitelist()
        _ = whitelist.addRecipients("a.b@example.com\n", file: "f")
        #expect(whitelist.whitelists(recipient: "a.b@example.com"))
        #expect(!whitelist.whitelists(recipient: "axb@example.com"))
    }
}
