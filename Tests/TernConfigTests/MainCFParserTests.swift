import Testing
import TernCore
@testable import TernConfig

@Suite struct MainCFParserTests {
    @Test func commentsBlankLinesAndLastDefinitionWins() throws {
        let text = "# comment\n\n   # indented comment\nmyhostname = a.example\nrelayhost=[mx]:587\nmyhostname = b.example\n"
        let config = try MainConfig.parse(text: text, directory: "/etc/postfix")
        #expect(config.raw("myhostname") == "b.example")
        #expect(config.raw("relayhost") == "[mx]:587")
        #expect(config.entries.map(\.line) == [4, 5, 6])
        #expect(config.parseWarnings == ["/etc/postfix/main.cf, line 6: overriding earlier entry: myhostname=a.example"])
    }

    @Test func continuationLinesJoinWithOneSpaceSkippingComments() throws {
        let text = "mydestination = a,\n   b,\n#c1\n\n    c   \n\t\td\nnext = 1\n"
        let config = try MainConfig.parse(text: text)
        #expect(config.raw("mydestination") == "a, b, c d")
        #expect(config.entries.first { $0.name == "next" }?.line == 7)
    }

    @Test func leadingWhitespaceWithoutEntryIsWarnedAndIgnored() throws {
        let config = try MainConfig.parse(text: "   leading = 1 and a long tail of text\nx = y\n", file: "./main.cf")
        #expect(config.explicitValue("leading") == nil)
        #expect(config.parseWarnings == [
            "./main.cf: logical line must not start with whitespace: \"   leading = 1 and a long tail...\""
        ])
    }

    @Test func lineWithoutEqualsIsPostfixsError() {
        let text = "myhostname = a.example\n# fine\nthis line is broken\n"
        #expect(throws: FileError(file: "/tmp/x/main.cf", line: 3,
                                  message: "missing '=' after attribute name: \"this line is broken\"")) {
            try MainConfig.parse(text: text, directory: "/tmp/x")
        }
        let error = try? #require(throws: FileError.self) { try MainConfig.parse(text: text, directory: "/tmp/x") }
        #expect(error?.description
            == "/tmp/x/main.cf, line 3: missing '=' after attribute name: \"this line is broken\"")
    }

    @Test func missingNameAndBlankInName() {
        #expect(throws: FileError(file: "/d/main.cf", line: 1, message: "missing attribute name: \"= value\"")) {
            try MainConfig.parse(text: "= value\n", directory: "/d")
        }
        #expect(throws: FileError(file: "/d/main.cf", line: 1,
                                  message: "missing '=' after attribute name: \"foo bar = x\"")) {
            try MainConfig.parse(text: "foo bar = x\n", directory: "/d")
        }
    }

    @Test func valuesAreTrimmedAndMayBeEmpty() throws {
        let config = try MainConfig.parse(text: "relay_domains\t=\t$mydestination  \nrelayhost =\n")
        #expect(config.raw("relay_domains") == "$mydestination")
        #expect(config.raw("relayhost") == "")
        #expect(config.isExplicit("relayhost"))
    }

    @Test func configDirectoryIsExplicitOnlyForNonDefaultDirectory() throws {
        #expect(try MainConfig.parse(text: "", directory: "/etc/postfix").explicitNames == [])
        #expect(try MainConfig.parse(text: "", directory: "/tmp/pc").explicitNames == ["config_directory"])
    }

    @Test func directoryHelperPrefersCLIThenEnvironment() {
        #expect(MainConfig.directory(cli: "/a", environment: ["MAIL_CONFIG": "/b"]) == "/a")
        #expect(MainConfig.directory(cli: nil, environment: ["MAIL_CONFIG": "/b"]) == "/b")
        #expect(MainConfig.directory(cli: nil, environment: [:]) == "/etc/postfix")
    }
}
