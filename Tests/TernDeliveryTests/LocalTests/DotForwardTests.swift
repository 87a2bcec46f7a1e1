import Foundation
import TernCore
import Testing

@testable import TernDelivery

@Suite struct DotForwardTests {
    @Test func forwardRedirectsToAnotherUser() async throws {
        let box = try Sandbox()
        defer { box.remove() }
        try box.write("\(box.home("bob"))/.forward", "alice\n")
        let result = await box.resolver().resolve("bob@acc.test")
        // Another local user named in a .forward is resubmitted, not delivered inline.
        #expect(result.summary == ["forward alice@acc.test"])
        #expect(result.instructions.first?.originalRecipient == "bob@acc.test")
        #expect(result.instructions.first?.deliveredTo == "bob@acc.test")
    }

    @Test func backslashSelfKeepsACopy() async throws {
        let box = try Sandbox()
        defer { box.remove() }
        try box.write("\(box.home("alice"))/.forward", "\\alice, alice@remote.example\n")
        let result = await box.resolver().resolve("alice@acc.test")
        #expect(result.summary == ["maildir alice \(box.home("alice"))/Maildir/", "forward alice@remote.example"])
        // Naming yourself without the backslash works the same way (sendmail compatibility).
        try box.write("\(box.home("alice"))/.forward", "alice\n")
        #expect(
            await box.resolver().resolve("alice@acc.test").summary == ["maildir alice \(box.home("alice"))/Maildir/"])
    }

    @Test func worldWritableForwardIsIgnored() async throws {
        let box = try Sandbox()
        defer { box.remove() }
        let path = try box.write("\(box.home("alice"))/.forward", "bob\n", mode: 0o666)
        let result = await box.resolver().resolve("alice@acc.test")
        #expect(result.summary == ["maildir alice \(box.home("alice"))/Maildir/"])
        #expect(result.warnings == ["file \(path) is world writable"])
        // Group write permission is not one of Postfix's checks.
        chmod(path, 0o664)
        #expect(await box.resolver().resolve("alice@acc.test").summary == ["forward bob@acc.test"])
    }

    @Test(.enabled(if: getuid() == 0, "chown needs root"))
    func forwardOwnedBySomeoneElseIsIgnored() async throws {
        let box = try Sandbox()
        defer { box.remove() }
        let path = try box.write("\(box.home("alice"))/.forward", "bob\n")
        chown(path, 1002, 100)
        let result = await box.resolver().resolve("alice@acc.test")
        #expect(result.summary == ["maildir alice \(box.home("alice"))/Maildir/"])
        #expect(result.warnings == ["file \(path) has bad owner uid 1002"])
        chown(path, 1001, 100)
        #expect(await box.resolver().resolve("alice@acc.test").summary == ["forward bob@acc.test"])
    }

    @Test func symlinkedForwardIsNotARegularFile() async throws {
        let box = try Sandbox()
        defer { box.remove() }
        let target = try box.write("\(box.root)/fwd", "bob\n")
        let path = "\(box.home("alice"))/.forward"
        symlink(target, path)
        let result = await box.resolver().resolve("alice@acc.test")
        #expect(result.warnings == ["file \(path) is not a regular file"])
        #expect(result.summary == ["maildir alice \(box.home("alice"))/Maildir/"])
    }

    @Test func extensionForwardFileWins() async throws {
        let box = try Sandbox()
        defer { box.remove() }
        try box.write("\(box.home("alice"))/.forward", "bob\n")
        try box.write("\(box.home("alice"))/.forward+lists", "carol\n")
        let resolver = box.resolver { $0.recipientDelimiter = "+" }
        #expect(await resolver.resolve("alice+lists@acc.test").summary == ["forward carol@acc.test"])
        #expect(await resolver.resolve("alice+other@acc.test").summary == ["forward bob@acc.test"])
        let propagating = box.resolver {
            $0.recipientDelimiter = "+"
            $0.propagateUnmatchedExtensions = ExtensionPropagation(forward: true)
        }
        #expect(await propagating.resolve("alice+other@acc.test").summary == ["forward bob+other@acc.test"])
    }

    @Test func forwardCommandRunsAsTheUser() async throws {
        let box = try Sandbox()
        defer { box.remove() }
        try box.write("\(box.home("alice"))/.forward", "\"|/usr/bin/procmail -f-\"\n# comment line\n")
        let result = await box.resolver { $0.localCommandShell = "/bin/sh" }.resolve("alice@acc.test")
        #expect(result.summary == ["command alice /usr/bin/procmail -f-"])
        guard case .command(_, _, let shell, let env) = result.actions.first else {
            Issue.record("no command")
            return
        }
        #expect(shell == "/bin/sh")
        #expect(env["HOME"] == box.home("alice") && env["LOGNAME"] == "alice" && env["SENDER"] == "s@client.example")
        let restricted = box.resolver { $0.allowMailToCommands = [.alias] }
        #expect(await restricted.resolve("alice@acc.test").summary == ["bounce 5.7.1 mail to command is restricted"])
    }

    @Test func emptyForwardFallsBackToMailbox() async throws {
        let box = try Sandbox()
        defer { box.remove() }
        try box.write("\(box.home("alice"))/.forward", "# nothing here\n\n")
        #expect(
            await box.resolver().resolve("alice@acc.test").summary == ["maildir alice \(box.home("alice"))/Maildir/"])
        // forward_path = "" disables .forward processing entirely.
        try box.write("\(box.home("alice"))/.forward", "bob\n")
        let off = box.resolver { $0.forwardPath = "" }
        #expect(await off.resolve("alice@acc.test").summary == ["maildir alice \(box.home("alice"))/Maildir/"])
    }

    @Test func forwardPathExpansion() {
        let values = ["home": "/home/a", "user": "a", "extension": "x y", "recipient_delimiter": "+"]
        let expansion = LocalExpansion(values: values, filter: LocalDeliverySettings.defaultExpansionFilter)
        let full = expansion.expand("$home/.forward${recipient_delimiter}${extension}")
        #expect(full == LocalExpansion.Result(text: "/home/a/.forward+x_y", usedExtension: true))
        let bare = LocalExpansion(values: ["home": "/home/a"], filter: nil)
            .expand("$home/.forward${recipient_delimiter}${extension}")
        #expect(bare.undefined)
        #expect(LocalExpansion(values: ["user": "a"], filter: nil).expand("${user?x}${home:/none}$$").text == "x/none$")
        #expect(LocalExpansion(values: [:], filter: nil).expand("${user").syntaxError)
    }
}
