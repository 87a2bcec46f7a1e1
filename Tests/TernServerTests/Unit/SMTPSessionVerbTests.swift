import Testing
import TernSMTP
@testable import TernServer

/// `lost connection after VERB`: smtpd's command name, UNKNOWN for a line that is not one of its commands.
@Suite struct SMTPSessionVerbTests {
    @Test func knownCommandsAreNamedAndOthersAreUnknown() {
        #expect(SMTPSession.verb(of: .line(Array("mail FROM:<a@b>".utf8))) == "MAIL")
        #expect(SMTPSession.verb(of: .line(Array("STARTTLS".utf8))) == "STARTTLS")
        #expect(SMTPSession.verb(of: .line(Array("FOO bar".utf8))) == "UNKNOWN")
        #expect(SMTPSession.verb(of: .line(Array("GET / HTTP/1.0".utf8))) == "UNKNOWN")
        #expect(SMTPSession.verb(of: .line([])) == "UNKNOWN")
        #expect(SMTPSession.verb(of: .truncated(Array(repeating: UInt8(ascii: "x"), count: 100))) == "UNKNOWN")
    }
}
