import Testing
@testable import TernConfig

@Suite struct MacroExpanderTests {
    let config: MainConfig = {
        let text = """
            myhostname = a.b.c
            x1 = $myhostname
            empty =
            r1 = $r2
            r2 = $r1
            """
        return try! MainConfig.parse(text: text)
    }()

    @Test(arguments: [
        ("$myhostname", "a.b.c"),
        ("${myhostname}/$(myhostname)", "a.b.c/a.b.c"),
        ("$x1!", "a.b.c!"),
        ("${myhostname?yes}/${nonexist?yes}/${myhostname:no}/${nonexist:no}", "yes///no"),
        ("${myhostname?{a b}}|${nonexist:{c d}}", "a b|c d"),
        ("${myhostname?{A}:{B}}/${nonexist?{A}:{B}}/${empty?{A}:{B}}", "A/B/B"),
        ("$$/$$myhostname", "$/$myhostname"),
        ("[$nonexist]", "[]"),
        ("${{$compatibility_level} <level {3.6} ? {old} : {new}}", "old"),
        ("${{10} < {9} ? {lt} : {ge}}", "ge"),
        ("${{abc} == {abc}?{eq}}", "eq"),
        ("${{abc} != {abc}?{eq}}x", "x"),
        ("${{ a } == {a}?{sp}:{nosp}}", "nosp"),
    ])
    func expands(input: String, expected: String) throws {
        #expect(try config.expand(input) == expected)
    }

    @Test func compatibilityLevelDefaultsFollowTheSetting() throws {
        let old = try MainConfig.parse(text: "")
        let new = try MainConfig.parse(text: "compatibility_level = 3.6\n")
        #expect(old.value("append_dot_mydomain") == "yes")
        #expect(new.value("append_dot_mydomain") == "no")
        #expect(new.value("smtputf8_enable") == "yes")
        #expect(old.value("relay_domains") == old.value("mydestination"))
        #expect(new.value("relay_domains") == "")
    }

    @Test func loopsAreBounded() {
        #expect(throws: MacroError.nesting("r2")) { try config.expandedValue("r1") }
        #expect(config.value("r1") == "$r2")
    }

    @Test func syntaxErrorsUsePostfixWords() {
        #expect(throws: MacroError.emptyName("x$ y")) { try config.expand("x$ y") }
        #expect(throws: MacroError.truncated("${myhostname")) { try config.expand("${myhostname") }
        #expect(throws: MacroError.truncated("$(myhostname}")) { try config.expand("$(myhostname}") }
        #expect(MacroError.nesting("r2").postfixWarning == "unreasonable macro call nesting: \"r2\"")
    }

    @Test func rawParametersAreNotExpanded() throws {
        let config = try MainConfig.parse(text: "mailbox_command = /usr/bin/procmail -a \"$EXTENSION\"\n")
        #expect(config.value("mailbox_command") == "/usr/bin/procmail -a \"$EXTENSION\"")
    }

    @Test func referencesListEveryBranch() {
        #expect(MacroExpander.references(in: "$a ${b?$c} ${d:{$e}} $$f") == ["a", "b", "c", "d", "e"])
    }
}
