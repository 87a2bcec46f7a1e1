import Testing

@testable import TernSMTP

@Suite struct SMTPCommandTokenizerTests {
    private func words(_ line: String) -> [String] { SMTPCommandTokenizer.tokenize(line).map(\.text) }

    @Test(arguments: [
        ("MAIL FROM:<a@b>", ["MAIL", "FROM:", "<a@b>"]),
        ("MAIL FROM: <a@b>", ["MAIL", "FROM:", "<a@b>"]),
        ("mail from:a@b SIZE=10", ["mail", "from:", "a@b", "SIZE=10"]),
        ("RCPT TO:<\"a b\"@c> NOTIFY=NEVER", ["RCPT", "TO:", "<\"a b\"@c>", "NOTIFY=NEVER"]),
        ("MAIL FROM:<Joe <a@b>>", ["MAIL", "FROM:", "<Joe <a@b>>"]),
        ("  NOOP  ", ["NOOP"]),
        ("\tEHLO  host.example", ["EHLO", "host.example"]),
        ("X:Y", ["X:Y"]),
        ("", []),
    ])
    func splits(line: String, expected: [String]) {
        #expect(words(line) == expected)
    }

    @Test func unclosedBracketIsMalformed() {
        let tokens = SMTPCommandTokenizer.tokenize("MAIL FROM:<a@b")
        #expect(tokens.count == 3)
        #expect(tokens[2].isMalformed)
        #expect(SMTPCommandTokenizer.tokenize("MAIL FROM:<<a@b>")[2].isMalformed)
        #expect(!SMTPCommandTokenizer.tokenize("MAIL FROM:<a@b>>")[2].isMalformed)
    }
}
