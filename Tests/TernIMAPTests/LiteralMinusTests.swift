import Foundation
import TernIMAP
import TernMailbox
import Testing

/// LITERAL- (RFC 7888) as Dovecot 2.3.19 does it with imap_literal_minus = yes (checked against one):
/// LITERAL- in both capability lists, and a non-synchronizing literal over 4096 octets ends the connection.
@Suite struct LiteralMinusTests {
    static let limits = IMAPParserLimits(maxNonSynchronizingLiteralSize: IMAPParserLimits.literalMinusMaximum)

    /// RFC 7888 §4: up to 4096 octets a literal may be non-synchronizing; beyond, only synchronizing.
    @Test func parserBoundsNonSynchronizingLiterals() {
        var parser = IMAPCommandParser(limits: Self.limits)
        parser.append(bytes("a LOGIN {4097+}\r\nb NOOP\r\n"))
        #expect(parser.next() == .fatal(.nonSynchronizingLiteralTooLarge))
        #expect(parser.next() == nil)
        let name = String(repeating: "x", count: 4096)
        let events = parseEvents(bytes("a LOGIN {4096+}\r\n\(name) p\r\nb CHECK {5000}\r\n"), limits: Self.limits)
        #expect(events.first == .command(TaggedCommand(tag: "a", command: .login(username: name, password: "p"))))
        #expect(events.last == .continuationRequest)
        // APPEND's message literal is bound too (RFC 7888 §4 names no exception).
        var append = IMAPCommandParser(limits: Self.limits)
        append.append(bytes("a APPEND INBOX ~{5000+}\r\n"))
        #expect(append.next() == .fatal(.nonSynchronizingLiteralTooLarge))
        #expect(IMAPFatalError.nonSynchronizingLiteralTooLarge.byeText == "Non-synchronizing literal size too large")
    }

    @Test func preLogin() {
        let configuration = IMAPLoginSession.Configuration(
            greeting: "Dovecot (Debian) ready.", mechanisms: ["PLAIN"], tlsAvailable: false, plaintextAllowed: true,
            literalMinus: true)
        var session = IMAPLoginSession(configuration: configuration)
        #expect(
            String(decoding: session.greeting(), as: UTF8.self)
                == "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL- AUTH=PLAIN] "
                + "Dovecot (Debian) ready.\r\n")
        #expect(
            IMAPLoginSessionTests.transcript(session.receive(bytes("b LOGIN {5000+}\r\nc NOOP\r\n")))
                == "* BYE Non-synchronizing literal size too large\r\n<close>")
    }

    @Test func postLogin() throws {
        let f = try SessionFixture(capabilities: IMAPReplyText.withLiteralMinus(IMAPReplyText.postLoginCapabilities))
        #expect(f.send("a CAPABILITY\r\n").contains(" SAVEDATE LITERAL- UTF8=ACCEPT "))
        let session = IMAPMailSession(
            store: f.store,
            configuration: IMAPMailSession.Configuration(user: "tuser", parserLimits: Self.limits, clock: { 0 }))
        let small = "Subject: s\r\n\r\nx\r\n"
        let validity = try f.uidValidity()
        let first = session.receive(bytes("a APPEND INBOX {\(small.utf8.count)+}\r\n\(small)\r\n"))
        #expect(String(decoding: first.bytes, as: UTF8.self) == "a OK [APPENDUID \(validity) 1] Append completed" + done)
        let refused = session.receive(bytes("b APPEND INBOX {4097+}\r\nc NOOP\r\n"))
        #expect(String(decoding: refused.bytes, as: UTF8.self) == "* BYE [TOOBIG] Non-synchronizing literal size too large\r\n")
        #expect(refused.close)
    }
}
