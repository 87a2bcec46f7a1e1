import TernConfig
import TernCore
import TernMaps
import TernPolicy
import TernQueue
import Testing

@testable import TernServer

@Suite struct AddressRewriterTests {
    /// A rewriter for main.cf lines; mydestination is example.com, myorigin example.com.
    func rewriter(_ lines: String) throws -> AddressRewriter {
        let config = try MainConfig.parse(
            text: "myorigin = example.com\nmydestination = example.com\nrecipient_delimiter = +\n" + lines)
        let open: (String) throws -> any LookupTable = { try MapOpener.open($0) }
        func domains(_ name: String) throws -> DomainList {
            try DomainList(items: config.list(name), parentMatchesSubdomains: false, open: open)
        }
        let classifier = AddressClassifier(
            mydestination: try domains("mydestination"), virtualAliasDomains: try domains("virtual_alias_domains"),
            virtualMailboxDomains: try domains("virtual_mailbox_domains"), relayDomains: try domains("relay_domains"),
            localAddresses: [])
        return try AddressRewriter(config: config, classifier: classifier, open: open)
    }

    @Test func masqueradingStripsSubdomainsUnlessExcepted() {
        let masquerade = Masquerade(domains: ["!sub.example.com", "example.com"], exceptions: ["root"])
        #expect(masquerade.apply(to: "user@host.example.com") == "user@example.com")
        #expect(masquerade.apply(to: "user@a.b.example.com") == "user@example.com")
        #expect(masquerade.apply(to: "user@example.com") == "user@example.com")
        #expect(masquerade.apply(to: "user@sub.example.com") == "user@sub.example.com", "`!` entry matches first")
        #expect(masquerade.apply(to: "user@host.sub.example.com") == "user@host.sub.example.com")
        #expect(masquerade.apply(to: "Root@host.example.com") == "Root@host.example.com", "masquerade_exceptions")
        #expect(masquerade.apply(to: "user@notexample.com") == "user@notexample.com", "only at a dot")
        #expect(masquerade.apply(to: "bare") == "bare")
        #expect(Masquerade(domains: ["!!example.com"], exceptions: []).apply(to: "u@h.example.com") == "u@example.com")
    }

    /// trivial-rewrite's rewrite_tree(): myorigin for a bare name, one trailing dot off the domain.
    @Test func qualifyAppendsMyoriginAndDropsATrailingDot() throws {
        let rewriter = try rewriter("")
        #expect(rewriter.qualify("joe") == "joe@example.com")
        #expect(rewriter.qualify("joe@example.net.") == "joe@example.net")
        #expect(rewriter.qualify("joe@example.net..") == "joe@example.net..", "dot-dot stays (a bogus address)")
        #expect(rewriter.qualify("joe@.") == "joe@.")
        #expect(rewriter.qualify("") == "", "the null sender")
    }

    @Test func canonicalSearchOrderAndResults() async throws {
        let rewriter = try rewriter(
            """
            canonical_maps = inline:{ joe@example.com=joe.user@example.com, fred=fred.x@example.net, \
            @old.test=@new.test, { ann@other.test=a1@x.test, a2@x.test }, loop1@example.com=loop2@example.com, \
            loop2@example.com=loop1@example.com, max+list=maxlist@example.net }
            sender_canonical_maps = inline:{ sam@example.com=joe@example.com }
            """)
        #expect(
            try await rewriter.rewrite("sam", as: .envelopeSender) == "joe.user@example.com",
            "qualified, sender map, canonical")
        #expect(
            try await rewriter.rewrite("sam", as: .envelopeRecipient) == "sam@example.com",
            "no sender map for recipients")
        #expect(try await rewriter.rewrite("joe+tag@example.com", as: .headerRecipient) == "joe.user+tag@example.com")
        #expect(try await rewriter.rewrite("fred@example.com", as: .envelopeRecipient) == "fred.x@example.net")
        #expect(try await rewriter.rewrite("fred+y@example.com", as: .envelopeRecipient) == "fred.x+y@example.net")
        #expect(
            try await rewriter.rewrite("max+list@example.com", as: .envelopeRecipient) == "maxlist@example.net",
            "a key with the extension in it leaves none to carry over")
        #expect(
            try await rewriter.rewrite("fred@remote.test", as: .envelopeRecipient) == "fred@remote.test",
            "user only for local domains")
        #expect(try await rewriter.rewrite("kim+x@old.test", as: .envelopeRecipient) == "kim+x@new.test")
        #expect(try await rewriter.rewrite("ann@other.test", as: .envelopeRecipient) == "a1@x.test", "first of a list")
        await #expect(throws: RewriteError.self) {
            try await rewriter.rewrite("loop1@example.com", as: .envelopeRecipient)
        }
    }

    @Test func canonicalClassesLimitWhereMapsApply() async throws {
        let rewriter = try rewriter(
            "canonical_maps = inline:{ a@example.com=b@example.com }\ncanonical_classes = envelope_recipient")
        #expect(try await rewriter.rewrite("a@example.com", as: .envelopeSender) == "a@example.com")
        #expect(try await rewriter.rewrite("a@example.com", as: .envelopeRecipient) == "b@example.com")
        #expect(!rewriter.rewritesHeaders)
    }

    @Test func virtualAliasExpansion() async throws {
        let rewriter = try rewriter(
            """
            virtual_alias_maps = inline:{ {list@v.test=a@v.test, b@remote.test}, a@v.test=alice, \
            self@v.test=self@v.test, {keep@v.test=keep@v.test, copy@remote.test}, @catch.test=c@remote.test, \
            deep1@v.test=deep2@v.test, deep2@v.test=deep3@v.test, deep3@v.test=deep1@v.test }
            virtual_alias_recursion_limit = 5
            """)
        #expect(try await rewriter.expand("list@v.test") == ["alice@example.com", "b@remote.test"])
        #expect(try await rewriter.expand("self@v.test") == ["self@v.test"], "maps to itself: stops")
        #expect(try await rewriter.expand("keep@v.test") == ["keep@v.test", "copy@remote.test"])
        #expect(try await rewriter.expand("x+tag@catch.test") == ["c@remote.test"], "@domain matches keep no extension")
        #expect(
            try await rewriter.expand("a+tag@v.test") == ["alice+tag@example.com"], "unmatched extension propagated")
        #expect(try await rewriter.expand("other@remote.test") == ["other@remote.test"])
        await #expect(throws: RewriteError(kind: .nesting, parameter: "virtual_alias_maps", address: "deep1@v.test")) {
            try await rewriter.expand("deep1@v.test")
        }
        let wide = try self.rewriter(
            "virtual_alias_maps = inline:{ {w@v.test=1@r.test, 2@r.test, 3@r.test} }\nvirtual_alias_expansion_limit = 2"
        )
        await #expect(throws: RewriteError.self) { try await wide.expand("w@v.test") }
    }

    @Test func envelopeKeepsTheOriginalRecipient() async throws {
        let rewriter = try rewriter(
            "virtual_alias_maps = inline:{ {team@example.com=ann@example.com, bob@remote.test, ann@example.com} }")
        var envelope = QueueEnvelope(
            arrivalMicroseconds: 0, sender: MailAddress("me"),
            recipients: [
                QueueRecipient(MailAddress("team@example.com")), QueueRecipient(MailAddress("zed@remote.test")),
            ])
        try await rewriter.rewriteEnvelope(&envelope)
        #expect(envelope.sender.text == "me@example.com")
        #expect(envelope.recipients.map(\.address.text) == ["ann@example.com", "bob@remote.test", "zed@remote.test"])
        #expect(envelope.recipients.map(\.originalRecipient?.text) == ["team@example.com", "team@example.com", nil])
        #expect(envelope.recipients.map(\.orcpt) == ["rfc822;team@example.com", "rfc822;team@example.com", nil])
    }

    @Test func headerRewritingKeepsTheFormAroundAddresses() async throws {
        let rewriter = try rewriter(
            "sender_canonical_maps = inline:{ joe@example.com=joe.user@example.com }\nmasquerade_domains = example.com")
        let from = Array("From: Joe (the boss) <joe@example.com>".utf8)
        #expect(try await rewriter.rewriteHeader(from) == Array("From: Joe (the boss) <joe.user@example.com>".utf8))
        let to = Array("To: joe@host.example.com,\n\tbob".utf8)
        #expect(try await rewriter.rewriteHeader(to) == Array("To: joe@example.com,\n\tbob@example.com".utf8))
        let subject = Array("Subject: joe@example.com".utf8)
        #expect(try await rewriter.rewriteHeader(subject) == subject)
    }
}
