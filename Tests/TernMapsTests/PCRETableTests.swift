import Testing
@testable import TernMaps

/// pcre: tables, checked against Postfix 3.7's `postmap -q - pcre:FILE` (with postfix-pcre) on the same source.
@Suite struct PCRETableTests {
    static let source = #"""
        /^Subject:.*(viagra|cialis)/    REJECT drugs $1
        /^From: (.*)@evil\.example$/     WARN from $1
        /unclosed(/                      REJECT bad
        /(?<name>ab)c/A                  OK anchored
        /a.b/s                           DOTALL
        /CaseSensitive/i                 CASE
        /x/q                             bad flag
        /y/ REJECT $2
        if /^Received:/
        /from localhost/                 IGNORE
        endif
        /^Subject: \d+$/                 DIGITS
        !/^X-OK:/                        NOT-OK
        """#

    @Test(arguments: [
        ("Subject: buy viagra now", "REJECT drugs viagra"),
        ("From: bob@evil.example", "WARN from bob"),
        ("abc", "OK anchored"),
        ("zabc", "NOT-OK"),
        ("CaseSensitive", "CASE"),
        ("casesensitive", "NOT-OK"),
        ("Received: from localhost", "IGNORE"),
        ("Subject: 123", "DIGITS"),
        ("X-OK: 1", nil),
    ] as [(String, String?)])
    func matchesLikePostfix(key: String, expected: String?) throws {
        let table = try RegexpTable(name: "/tmp/t.pcre", text: Self.source, pcre: true)
        #expect(table.spec == "pcre:/tmp/t.pcre")
        #expect(try table.lookupNow(key) == expected)
    }

    @Test func warningsLikePostfix() throws {
        let sink = WarningSink()
        _ = try RegexpTable(name: "/tmp/t.pcre", text: Self.source, pcre: true, warn: sink.warn)
        #expect(sink.all == [
            "pcre map /tmp/t.pcre, line 3: error in regex at offset 9: missing closing parenthesis",
            "pcre map /tmp/t.pcre, line 7: unknown regexp option \"q\": skipping this rule",
            "pcre map /tmp/t.pcre, line 8: out of range replacement index \"2\": skipping this rule",
        ])
    }

    @Test func openedByTypeName() throws {
        let directory = temporaryDirectory()
        writeFile("\(directory)/checks", "/^Subject: hello/ WARN hi\n")
        let table = try MapOpener.open("pcre:\(directory)/checks")
        #expect(MapOpener.isPatternTable(table))
        #expect(try (table as? RegexpTable)?.lookupNow("Subject: HELLO there") == "WARN hi")
    }
}
