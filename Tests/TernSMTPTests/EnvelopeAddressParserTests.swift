import Testing

@testable import TernSMTP

/// Expected results were taken from Postfix 3.7.11 smtpd (MAIL FROM / RCPT TO answers).
@Suite struct EnvelopeAddressParserTests {
    private func sender(_ token: String, utf8: Bool = false) -> String? {
        try? EnvelopeAddressParser.extract(token, allowEmpty: true, allowUTF8: utf8).get()
    }

    @Test(arguments: [
        ("<a@b.example>", "a@b.example"),
        ("a@b.example", "a@b.example"),
        ("<>", ""),
        ("<@x,@y:u@c.example>", "u@c.example"),
        ("<@a:b@c>", "b@c"),
        ("<\"a b\"@c.example>", "a b@c.example"),
        ("<\"a\\\"b\"@c>", "a\"b@c"),
        ("<a(comment)@b>", "a@b"),
        ("<Joe <a@b>>", "a@b"),
        ("<a@b>>", "a@b"),
        ("<a.@b>", "a.@b"),
        ("<a..b@c>", "a..b@c"),
        ("<a@b@c>", "a@b@c"),
        ("<@b>", "@b"),
        ("<a@b.>", "a@b."),
        ("<postmaster>", "postmaster"),
        ("<a@[1.2.3.4]>", "a@[1.2.3.4]"),
        ("<a@[IPv6:::1]>", "a@[IPv6:::1]"),
        ("<a@b.123>", "a@b.123"),
        ("<a@b_c>", "a@b_c"),
        ("<A@B.EXAMPLE>", "A@B.EXAMPLE"),
    ])
    func accepted(token: String, expected: String) {
        #expect(sender(token) == expected)
    }

    @Test(arguments: [
        "<a b@c>", "<a@b,c@d>", "<a@>", "<@>", "<a@b..c>", "<a@-b>", "<a@x.-b>", "<a@b.c->", "<a@1.2.3.4>",
        "<a@[1.2.3]>", "<a@b..>", "<a@b>x",
    ])
    func rejected(token: String) {
        #expect(sender(token) == nil)
    }

    @Test func longLabelIsRejected() {
        #expect(sender("<a@" + String(repeating: "b", count: 64) + ".c>") == nil)
        #expect(sender("<a@" + String(repeating: "b", count: 63) + ".c>") != nil)
    }

    @Test func utf8DomainNeedsSMTPUTF8() {
        #expect(sender("<a@b\u{e9}.example>") == nil)
        #expect(sender("<a@b\u{e9}.example>", utf8: true) == "a@b\u{e9}.example")
    }

    @Test func emptyRecipientIsRefused() {
        #expect(throws: EnvelopeAddressParser.Failure.emptyAddress) {
            try EnvelopeAddressParser.extract("<>", allowEmpty: false).get()
        }
    }

    @Test func strictModeWantsAngleBrackets() {
        #expect((try? EnvelopeAddressParser.extract("a@b", allowEmpty: true, strict: true).get()) == nil)
        #expect((try? EnvelopeAddressParser.extract("<a@b>", allowEmpty: true, strict: true).get()) == "a@b")
    }

    @Test func xtext() {
        #expect(XText.decode("abc+2Bdef") == "abc+def")
        #expect(XText.decode("a+40b") == "a@b")
        #expect(XText.decode("ab+zz") == nil)
        #expect(XText.decode("ab+4") == nil)
        #expect(XText.encode("a+b=c d") == "a+2Bb+3Dc+20d")
    }

    @Test func hostnames() {
        #expect(HostnameSyntax.isValidHostname("mail.example.com"))
        #expect(!HostnameSyntax.isValidHostname("a..b"))
        #expect(!HostnameSyntax.isValidHostname("-x.example"))
        #expect(!HostnameSyntax.isValidHostname("1.2.3.4"))
        #expect(HostnameSyntax.isValidAddressLiteral("[192.0.2.1]"))
        #expect(HostnameSyntax.isValidAddressLiteral("[IPv6:2001:db8::1]"))
        #expect(!HostnameSyntax.isValidAddressLiteral("[IPv6:2001:::1]"))
        #expect(!HostnameSyntax.isValidAddressLiteral("[300.1.1.1]"))
    }
}
