import Foundation
import TernCore
import Testing

@testable import TernDelivery

@Suite struct LocalAliasTests {
    @Test func simpleAliasKeepsOriginalRecipientAndDeliveredTo() async throws {
        let box = try Sandbox()
        defer { box.remove() }
        let result = await box.resolver(aliases: ["info": "alice"]).resolve("info@acc.test")
        #expect(result.summary == ["maildir alice \(box.home("alice"))/Maildir/"])
        let only = try #require(result.instructions.first)
        #expect(only.recipient == MailAddress("alice@acc.test"))
        #expect(only.originalRecipient == "info@acc.test")
        #expect(only.deliveredTo == "info@acc.test")
        #expect(only.sender == MailAddress("s@client.example"))
    }

    @Test func listAliasDeliversToEachMember() async throws {
        let box = try Sandbox()
        defer { box.remove() }
        let result = await box.resolver(aliases: ["team": "alice, bob"]).resolve("team@acc.test")
        #expect(
            result.summary == [
                "maildir alice \(box.home("alice"))/Maildir/", "maildir bob \(box.home("bob"))/Maildir/",
            ])
    }

    @Test func chainPostmasterRootUser() async throws {
        let box = try Sandbox()
        defer { box.remove() }
        let resolver = box.resolver(aliases: ["postmaster": "root", "root": "alice"])
        let result = await resolver.resolve("postmaster@acc.test")
        #expect(result.summary == ["maildir alice \(box.home("alice"))/Maildir/"])
        #expect(result.instructions.first?.deliveredTo == "postmaster@acc.test")
    }

    @Test func selfReferenceDeliversToOwnMailbox() async throws {
        let box = try Sandbox()
        defer { box.remove() }
        let result = await box.resolver(aliases: ["carol": "carol, bob"]).resolve("carol@acc.test")
        #expect(
            result.summary == [
                "maildir carol \(box.home("carol"))/Maildir/", "maildir bob \(box.home("bob"))/Maildir/",
            ])
    }

    @Test func externalAliasIsForwarded() async throws {
        let box = try Sandbox()
        defer { box.remove() }
        let result = await box.resolver(aliases: ["external": "someone@remote.example"]).resolve("external@acc.test")
        #expect(result.summary == ["forward someone@remote.example"])
        #expect(result.instructions.first?.originalRecipient == "external@acc.test")
    }

    @Test func extensionLookupOrderAndPropagation() async throws {
        let box = try Sandbox()
        defer { box.remove() }
        let aliases = ["info": "alice", "info+sales": "bob"]
        let plain = box.resolver(aliases: aliases) { $0.recipientDelimiter = "+" }
        // user+ext first, then user; by default the unmatched extension is not propagated to aliases.
        #expect(await plain.resolve("info+sales@acc.test").summary == ["maildir bob \(box.home("bob"))/Maildir/"])
        let other = await plain.resolve("info+misc@acc.test")
        #expect(other.instructions.map(\.recipient) == [MailAddress("alice@acc.test")])
        #expect(other.instructions.first?.deliveredTo == "info+misc@acc.test")
        let propagating = box.resolver(aliases: aliases) {
            $0.recipientDelimiter = "+"
            $0.propagateUnmatchedExtensions = ExtensionPropagation(parameter: "canonical, virtual, alias")
        }
        let result = await propagating.resolve("info+misc@acc.test")
        #expect(result.instructions.map(\.recipient) == [MailAddress("alice+misc@acc.test")])
        #expect(result.summary == ["maildir alice \(box.home("alice"))/Maildir/"])
    }

    @Test func fileAndCommandRunAsDefaultPrivsForRootOwnedAliases() async throws {
        let box = try Sandbox()
        defer { box.remove() }
        let aliases = ["archive": "/var/spool/archive, \"|/usr/bin/filter -q\"", "home": "~/x"]
        let result = await box.resolver(aliases: aliases).resolve("archive@acc.test")
        #expect(result.summary == ["file nobody /var/spool/archive", "command nobody /usr/bin/filter -q"])
        guard case .command(_, _, let shell, let env) = result.actions.last else {
            Issue.record("no command")
            return
        }
        #expect(shell == nil)
        #expect(env["RECIPIENT"] == "archive@acc.test")
        #expect(env["USER"] == "archive" && env["HOME"] == nil && env["DOMAIN"] == "acc.test")
        // ~/file needs a home directory, which a root-owned alias does not have.
        #expect(
            await box.resolver(aliases: aliases).resolve("home@acc.test").summary == [
                "bounce 5.3.5 mail system configuration error"
            ])
    }

    @Test func commandRunsAsAliasDatabaseOwner() async throws {
        let box = try Sandbox()
        defer { box.remove() }
        let result = await box.resolver(aliases: ["list": "|/usr/bin/mlm"], aliasOwner: 1002).resolve("list@acc.test")
        #expect(result.summary == ["command bob /usr/bin/mlm"])
    }

    @Test func restrictedCommandsAndFilesBounce() async throws {
        let box = try Sandbox()
        defer { box.remove() }
        let resolver = box.resolver(aliases: ["x": "|/bin/cat, /tmp/f"]) {
            $0.allowMailToCommands = ExpansionSources.parse("forward").sources
            $0.allowMailToFiles = ExpansionSources.parse("forward, include").sources
        }
        #expect(
            await resolver.resolve("x@acc.test").summary == [
                "bounce 5.7.1 mail to command is restricted", "bounce 5.7.1 mail to file is restricted",
            ])
    }

    @Test func includeFileMembersAreResubmitted() async throws {
        let box = try Sandbox()
        defer { box.remove() }
        let list = try box.write("\(box.root)/staff", "# staff list\nalice\nremote@x.org, bob\n")
        let result = await box.resolver(aliases: ["staff": ":include:\(list)"]).resolve("staff@acc.test")
        #expect(result.summary == ["forward alice@acc.test", "forward remote@x.org", "forward bob@acc.test"])
        #expect(result.instructions.allSatisfy { $0.deliveredTo == "staff@acc.test" })
    }

    @Test func includePermissionRules() async throws {
        let box = try Sandbox()
        defer { box.remove() }
        let open = try box.write("\(box.root)/open", "alice\n", mode: 0o666)
        let aliases = ["open": ":include:\(open)", "rel": ":include:staff", "gone": ":include:/nonexistent/list"]
        let resolver = box.resolver(aliases: aliases)
        let worldWritable = await resolver.resolve("open@acc.test")
        #expect(worldWritable.summary == ["bounce 5.3.5 mail system configuration error"])
        #expect(worldWritable.warnings == [":include: file \(open) is world writable"])
        #expect(await resolver.resolve("rel@acc.test").warnings == [":include:staff uses a relative path"])
        #expect(await resolver.resolve("gone@acc.test").summary == ["bounce 5.3.5 mail system configuration error"])
    }

    @Test func aliasLoopHitsTheNestingLimitOnce() async throws {
        let box = try Sandbox()
        defer { box.remove() }
        let result = await box.resolver(aliases: ["a": "b", "b": "a"]).resolve("a@acc.test")
        #expect(result.summary == ["bounce 5.4.6 recipient nesting limit exceeded"])
        #expect(result.warnings.count == 1)
    }

    @Test func ownerAliasChangesSenderAndForcesResubmission() async throws {
        let box = try Sandbox()
        defer { box.remove() }
        let resolver = box.resolver(aliases: ["list": "alice, remote@x.org", "owner-list": "bob"])
        let result = await resolver.resolve("list@acc.test")
        #expect(result.summary == ["forward alice@acc.test", "forward remote@x.org"])
        #expect(result.instructions.allSatisfy { $0.sender == MailAddress("owner-list@acc.test") })
        #expect(result.instructions.allSatisfy { $0.originalRecipient.isEmpty })
        let expanded = box.resolver(aliases: ["list": "alice", "owner-list": "bob"]) { $0.expandOwnerAlias = true }
        #expect(await expanded.resolve("list@acc.test").instructions.first?.sender == MailAddress("bob@acc.test"))
    }

    @Test func deliveredToLoopBounces() async throws {
        let box = try Sandbox()
        defer { box.remove() }
        let result = await box.resolver().resolve("alice@acc.test", deliveredTo: [" Alice@ACC.test"])
        #expect(result.summary == ["bounce 5.4.6 mail forwarding loop for alice@acc.test"])
        let viaAlias = await box.resolver(aliases: ["info": "alice"]).resolve(
            "info@acc.test", deliveredTo: ["info@acc.test"])
        #expect(viaAlias.summary == ["bounce 5.4.6 mail forwarding loop for info@acc.test"])
    }

    @Test func unavailableAliasTableDefers() async throws {
        let box = try Sandbox()
        defer { box.remove() }
        let result = await box.resolver(failing: true).resolve("alice@acc.test")
        #expect(result.summary == ["defer 4.3.0 alias database unavailable"])
    }

    @Test func missingPostmasterAliasIsDiscardedWithWarning() async throws {
        let box = try Sandbox()
        defer { box.remove() }
        let result = await box.resolver().resolve("postmaster@acc.test")
        #expect(result.summary == ["discard 2.0.0 discarded"])
        #expect(result.warnings == ["required alias not found: postmaster"])
    }
}
