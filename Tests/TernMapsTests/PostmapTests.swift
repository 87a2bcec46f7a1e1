import Testing
import TernCore
@testable import TernMaps

@Suite struct PostmapTests {
    @Test func buildAndQueryMatchesRealPostmap() throws {
        let dir = temporaryDirectory()
        writeFile("\(dir)/map", "# comment\nFoo.Example   REJECT  text\nfoo.example   DUP\n  cont line\nkey2 value\n leading\nkey3\n")
        let build = Postmap.run(arguments: ["hash:\(dir)/map"])
        #expect(build.exitCode == 0)
        #expect(build.stderr == """
            postmap: warning: \(dir)/map, line 7: expected format: key whitespace value
            postmap: warning: \(dir)/map.db: duplicate entry: "foo.example"

            """)
        let query = Postmap.run(arguments: ["-q", "FOO.EXAMPLE", "hash:\(dir)/map"])
        #expect(query == MapToolResult(stdout: "REJECT  text\n", stderr: "", exitCode: 0))
        #expect(Postmap.run(arguments: ["-q", "key2", "\(dir)/map"]).stdout == "value leading\n")
        #expect(Postmap.run(arguments: ["-q", "none", "hash:\(dir)/map"]).exitCode == 1)
        let many = Postmap.run(arguments: ["-q", "-", "hash:\(dir)/map"], stdin: Array("foo.example\nnone\nKEY2\n".utf8))
        #expect(many.stdout == "foo.example\tREJECT  text\nKEY2\tvalue leading\n")
        #expect(many.exitCode == 0)
        #expect(Postmap.run(arguments: ["-s", "hash:\(dir)/map"]).stdout == "foo.example\tREJECT  text\nkey2\tvalue leading\n")
    }

    @Test func deleteIncrementalAndErrors() {
        let dir = temporaryDirectory()
        writeFile("\(dir)/map", "a 1\nb 2\n")
        #expect(Postmap.run(arguments: ["\(dir)/map"]).exitCode == 0)
        #expect(Postmap.run(arguments: ["-d", "a", "hash:\(dir)/map"]).exitCode == 0)
        #expect(Postmap.run(arguments: ["-d", "a", "hash:\(dir)/map"]).exitCode == 1)
        let add = Postmap.run(arguments: ["-i", "hash:\(dir)/map"], stdin: Array("New val\nb x\n".utf8))
        #expect(add.stderr == "postmap: warning: \(dir)/map.db: duplicate entry: \"b\"\n")
        #expect(Postmap.run(arguments: ["-s", "hash:\(dir)/map"]).stdout == "b\t2\nnew\tval\n")
        #expect(Postmap.run(arguments: ["hash:/nonexistent-x"]).stderr
            == "postmap: fatal: open /nonexistent-x: No such file or directory\n")
        #expect(Postmap.run(arguments: ["-q", "x", "hash:/nonexistent-x"]).stderr
            == "postmap: fatal: open database /nonexistent-x.db: No such file or directory\n")
        #expect(Postmap.run(arguments: ["-q", "x", "bogus:x"]).stderr == "postmap: fatal: unsupported dictionary type: bogus\n")
        #expect(Postmap.run(arguments: ["-z"]).exitCode == 1)
    }

    @Test func foldingFlagKeepsCase() {
        let dir = temporaryDirectory()
        writeFile("\(dir)/map", "Foo.Example A\n")
        _ = Postmap.run(arguments: ["-f", "lmdb:\(dir)/map"])
        #expect(Postmap.run(arguments: ["-f", "-q", "Foo.Example", "lmdb:\(dir)/map"]).stdout == "A\n")
        // Postfix folds the query key unless -f is given, so a mixed-case key is then unreachable.
        #expect(Postmap.run(arguments: ["-q", "Foo.Example", "lmdb:\(dir)/map"]).exitCode == 1)
    }

    @Test func regexpQueryFromStdinLikeConformanceSuite() {
        let dir = temporaryDirectory()
        writeFile("\(dir)/lookup.regexp", "/^user-([0-9]+)@example\\.org$/   user number $1\n/^admin@/                     ADMIN\n")
        let result = Postmap.run(
            arguments: ["-q", "-", "regexp:\(dir)/lookup.regexp"],
            stdin: Array("user-42@example.org\nnomatch@example.org\nadmin@foo.example\n".utf8))
        #expect(result == MapToolResult(stdout: "user-42@example.org\tuser number 42\nadmin@foo.example\tADMIN\n", stderr: "", exitCode: 0))
    }

    @Test func postaliasBuildsAndQueriesListValues() {
        let dir = temporaryDirectory()
        writeFile("\(dir)/aliases", """
            # See man 5 aliases for format
            postmaster:    root
            Root:          accuser4
            info:          accuser1
            team:          accuser1, accuser2
            team3: accuser1,
              accuser2 ,  x
            "quoted name": foo
            info: dup
            nocolon value
            list: :include:/etc/x, |"/bin/cmd arg", /var/mail/f

            """)
        let build = Postalias.run(arguments: ["hash:\(dir)/aliases"], settings: { _ in MapToolSettings(myhostname: "mx") })
        #expect(build.stderr == """
            postalias: warning: \(dir)/aliases, line 10: need name:value pair
            postalias: warning: \(dir)/aliases.db: duplicate entry: "info"

            """)
        #expect(Postalias.run(arguments: ["-q", "team", "hash:\(dir)/aliases"]).stdout == "accuser1, accuser2\n")
        #expect(Postalias.run(arguments: ["-q", "team3", "hash:\(dir)/aliases"]).stdout == "accuser1, accuser2, x\n")
        #expect(Postalias.run(arguments: ["-q", "ROOT", "hash:\(dir)/aliases"]).stdout == "accuser4\n")
        #expect(Postalias.run(arguments: ["-q", "quoted name", "hash:\(dir)/aliases"]).stdout == "foo\n")
        #expect(Postalias.run(arguments: ["-q", "list", "hash:\(dir)/aliases"]).stdout
            == ":include:/etc/x, |\"/bin/cmd arg\", /var/mail/f\n")
        #expect(Postalias.run(arguments: ["-q", "nosuchalias", "hash:\(dir)/aliases"]).exitCode == 1)
        let many = Postalias.run(arguments: ["-q", "-", "hash:\(dir)/aliases"], stdin: Array("team\nnone\n".utf8))
        #expect(many.stdout == "team:\taccuser1, accuser2\n")
        let listing = Postalias.run(arguments: ["-s", "hash:\(dir)/aliases"]).stdout
        #expect(listing.hasPrefix("@:\t@\nYP_LAST_MODIFIED:\t"))
        #expect(listing.contains("YP_MASTER_NAME:\tmx\n"))
        #expect(Postalias.newaliases(aliasDatabases: ["hash:\(dir)/aliases"]).exitCode == 0)
    }

    @Test func aliasFileEntriesCarryLinesAndMembers() throws {
        let entries = try AliasFile.parse(Array("a: b,\n  \"c d\"@x\n# c\nuser@host: y\n".utf8), file: "f") { _ in }
        #expect(entries == [AliasEntry(name: "a", value: "b, \"c d\"@x", file: "f", lineNumber: 1)])
        #expect(entries[0].members == ["b", "\"c d\"@x"])
    }
}
