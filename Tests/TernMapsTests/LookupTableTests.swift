import Glibc
import Synchronization
import Testing
import TernCore
@testable import TernMaps

final class WarningSink: Sendable {
    let lines = Mutex<[String]>([])
    var all: [String] { lines.withLock { $0 } }
    var warn: @Sendable (String) -> Void { { message in self.lines.withLock { $0.append(message) } } }
}

@Suite struct LookupTableTests {
    static let regexpSource = """
        /^user-([0-9]+)@example\\.org$/   user number $1
        /^(a)(b)?c$/ x${2}y$1
        if /@example\\.com$/
        /^bob@/ BOB
        !/^alice@/ NOT-ALICE
        endif
        /^CaSe$/i sensitive
        /^multi/ line one
          continued
        !/^zz/!/^zzz/ X
        /[/ broken
        /abc/q opt
        /(n)/ $2
        |y|z bar

        """

    @Test(arguments: [
        ("user-42@example.org", "user number 42"), ("ac", "xya"), ("abc", "xbya"), ("bob@example.com", "BOB"),
        ("alice@example.com", "X"), ("carol@example.com", "NOT-ALICE"), ("case", "X"), ("CaSe", "sensitive"),
        ("multi", "line one  continued"), ("zza", nil), ("zzza", nil), ("box", "X"),
    ] as [(String, String?)])
    func regexpMatchesLikePostfix(key: String, expected: String?) throws {
        let table = try RegexpTable(name: "re", text: Self.regexpSource)
        #expect(try table.lookupNow(key) == expected)
    }

    @Test func regexpWarningsNameFileAndLine() throws {
        let sink = WarningSink()
        _ = try RegexpTable(name: "re", text: Self.regexpSource, warn: sink.warn)
        #expect(sink.all == [
            "regexp map re, line 11: Invalid regular expression",
            "regexp map re, line 12: unknown regexp option \"q\": skipping this rule",
            "regexp map re, line 13: out of range replacement index \"2\": skipping this rule",
            "regexp map re, line 14: unknown regexp option \"z\": skipping this rule",
        ])
    }

    @Test func regexpNestedIfAndMissingEndif() throws {
        let sink = WarningSink()
        let table = try RegexpTable(
            name: "n", text: "if /a/\nif !/b/\n/c/ A-NOT-B-C\nendif\n/c/ A-C\nendif\nif /z/\n/z/ Z\n", warn: sink.warn)
        #expect(try table.lookupNow("ac") == "A-NOT-B-C")
        #expect(try table.lookupNow("abc") == "A-C")
        #expect(try table.lookupNow("c") == nil)
        #expect(try table.lookupNow("z") == "Z")
        #expect(sink.all == ["regexp map n, line 7: IF has no matching ENDIF"])
    }

    @Test(arguments: [
        ("192.168.1.1", "exact"), ("192.168.9.9", "net16"), ("10.1.2.3", "ten-one"), ("10.2.2.2", nil),
        ("11.0.0.1", "not-ten"), ("2001:db8::1", "v6net"), ("2001:DB8::1", "v6net"), ("0:0:0:0:0:0:0:1", "v6lo"),
        ("2001:db9::5", "brack"), ("[1.2.3.4]", nil), ("foo", nil), ("::ffff:192.168.1.1", nil),
    ] as [(String, String?)])
    func cidrMatchesLikePostfix(key: String, expected: String?) throws {
        let dir = temporaryDirectory()
        writeFile("\(dir)/ci", """
            192.168.1.1        exact
            192.168.0.0/16     net16
            !10.0.0.0/8 not-ten
            if 10.0.0.0/8
            10.1.0.0/16  ten-one
            endif
            10.2.3.4/8 bad-mask-host
            2001:db8::/32      v6net
            ::1 v6lo
            [2001:db9::]/32 brack
            1.2.3.4/33 toolong
            999.1.1.1 badip
            1.2.3.0/24

            """)
        let sink = WarningSink()
        let table = try #require(try MapOpener.open("cidr:\(dir)/ci", options: MapOpenOptions(warn: sink.warn)) as? CIDRTable)
        #expect(try table.lookupNow(key) == expected)
        #expect(sink.all == [
            "cidr map \(dir)/ci, line 7: non-null host address bits in \"10.2.3.4/8\", perhaps you should use \"10.0.0.0/8\" instead: skipping this rule",
            "cidr map \(dir)/ci, line 11: bad mask length in \"1.2.3.4/33\": skipping this rule",
            "cidr map \(dir)/ci, line 12: bad address pattern: \"999.1.1.1\": skipping this rule",
            "cidr map \(dir)/ci, line 13: no lookup result: skipping this rule",
        ])
    }

    @Test func specTables() async throws {
        let inline = try MapOpener.open("inline:{a=1, {b=x y}, { C = 3 }}")
        #expect(try await inline.lookup("A") == "1")
        #expect(try await inline.lookup("b") == "x y")
        #expect(try await inline.lookup("c") == "3")
        #expect(throws: LookupError.self) { try MapOpener.open("inline:{ a = 1 }") }
        #expect(throws: LookupError.self) { try MapOpener.open("inline:{}") }
        #expect(try await MapOpener.open("static:{ a b }").lookup("x") == "a b")
        #expect(try await MapOpener.open("static:abc").lookup("x") == "abc")
        let union = try MapOpener.open("unionmap:{inline:{a=1}, inline:{a=2}, static:s}")
        #expect(try await union.lookup("a") == "1,2,s")
        await #expect(throws: LookupError.self) { try await MapOpener.open("fail:x").lookup("k") }
        #expect(throws: LookupError.self) { try MapOpener.open("bogus:x") }
    }

    @Test func texthashReadsSourceAndWarns() async throws {
        let dir = temporaryDirectory()
        writeFile("\(dir)/t", "Foo v1\nfoo v2\nbad\n")
        let sink = WarningSink()
        let table = try MapOpener.open("texthash:\(dir)/t", options: MapOpenOptions(warn: sink.warn))
        #expect(try await table.lookup("FOO") == "v1")
        #expect(sink.all == [
            "\(dir)/t, line 3: expected format: key whitespace value -- ignoring this line",
            "\(dir)/t, line 2: duplicate entry: \"foo\"",
        ])
    }

    @Test func indexedTableSeesRebuild() async throws {
        let dir = temporaryDirectory()
        writeFile("\(dir)/access", "example.com REJECT\n")
        #expect(Postmap.run(arguments: ["hash:\(dir)/access"]).exitCode == 0)
        let table = try MapOpener.open("hash:\(dir)/access", options: MapOpenOptions(recheckInterval: .zero))
        #expect(try await table.lookup("example.com") == "REJECT")
        writeFile("\(dir)/access", "example.com OK\nnew.example DISCARD\n")
        #expect(Postmap.run(arguments: ["hash:\(dir)/access"]).exitCode == 0)
        #expect(try await table.lookup("example.com") == "OK")
        #expect(try await table.lookup("NEW.example") == "DISCARD")
    }

    @Test func indexedFileRejectsGarbage() {
        let dir = temporaryDirectory()
        writeFile("\(dir)/x.db", "not a map at all, definitely not one")
        #expect(throws: IndexedMapError.self) { try IndexedMapFile(path: "\(dir)/x.db") }
    }
}
