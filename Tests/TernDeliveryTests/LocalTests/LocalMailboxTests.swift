import Foundation
import TernCore
import Testing

@testable import TernDelivery

@Suite struct LocalMailboxTests {
    @Test func homeMaildirWithTrailingSlash() async throws {
        let box = try Sandbox()
        defer { box.remove() }
        let result = await box.resolver().resolve("Alice@ACC.test")
        #expect(result.actions == [.mailbox(user: box.user("alice"), .maildir("\(box.home("alice"))/Maildir/"))])
        #expect(result.instructions.first?.deliveredTo == "Alice@ACC.test")
    }

    @Test func mboxInSpoolOrHome() async throws {
        let box = try Sandbox()
        defer { box.remove() }
        let spool = box.resolver { $0.homeMailbox = "" }
        #expect(await spool.resolve("alice@acc.test").summary == ["mbox alice /var/mail/alice"])
        let home = box.resolver { $0.homeMailbox = "Mailbox" }
        #expect(await home.resolve("alice@acc.test").summary == ["mbox alice \(box.home("alice"))/Mailbox"])
        let maildirSpool = box.resolver {
            $0.homeMailbox = ""
            $0.mailSpoolDirectory = "/var/mail/"
        }
        #expect(await maildirSpool.resolve("alice@acc.test").summary == ["maildir alice /var/mail/alice/"])
    }

    @Test func mailboxCommandRunsAsRecipientButNeverAsRoot() async throws {
        let box = try Sandbox()
        defer { box.remove() }
        // allow_mail_to_commands does not restrict mailbox_command.
        let resolver = box.resolver {
            $0.mailboxCommand = "/usr/lib/dovecot/deliver"
            $0.allowMailToCommands = []
        }
        #expect(await resolver.resolve("alice@acc.test").summary == ["command alice /usr/lib/dovecot/deliver"])
        #expect(await resolver.resolve("root@acc.test").summary == ["command nobody /usr/lib/dovecot/deliver"])
        // The mailbox itself is written as root for root.
        #expect(await box.resolver().resolve("root@acc.test").summary == ["maildir root \(box.home("root"))/Maildir/"])
    }

    @Test func transportsAndLuserRelay() async throws {
        let box = try Sandbox()
        defer { box.remove() }
        let lmtp = box.resolver { $0.mailboxTransport = "lmtp:unix:private/dovecot-lmtp" }
        #expect(await lmtp.resolve("alice@acc.test").summary == ["transport lmtp:unix:private/dovecot-lmtp"])
        let fallback = box.resolver { $0.fallbackTransport = "relay:[mx.example]" }
        #expect(await fallback.resolve("nosuch@acc.test").summary == ["transport relay:[mx.example]"])
        let relay = box.resolver { $0.luserRelay = "catchall+$user@elsewhere.example" }
        #expect(await relay.resolve("nosuch@acc.test").summary == ["forward catchall+nosuch@elsewhere.example"])
    }

    @Test func unknownUserBouncesWithPostfixText() async throws {
        let box = try Sandbox()
        defer { box.remove() }
        let result = await box.resolver().resolve("NoSuch@acc.test")
        #expect(result.actions == [.bounce(status: "5.1.1", text: "unknown user: \"nosuch\"")])
        let nullUser = await box.resolver().resolve("@acc.test")
        #expect(nullUser.summary == ["bounce 5.1.3 null username in \"@acc.test\""])
        // A leading delimiter is not an extension: "+x" is a (missing) user name.
        #expect(
            await box.resolver { $0.recipientDelimiter = "+" }.resolve("+x@acc.test").summary
                == ["bounce 5.1.1 unknown user: \"+x\""])
    }

    @Test func extensionIsStrippedForTheMailbox() async throws {
        let box = try Sandbox()
        defer { box.remove() }
        let result = await box.resolver { $0.recipientDelimiter = "+-" }.resolve("alice-news@acc.test")
        #expect(result.summary == ["maildir alice \(box.home("alice"))/Maildir/"])
        #expect(result.instructions.first?.deliveredTo == "alice-news@acc.test")
        // owner-* and *-request are never split when '-' is a delimiter.
        #expect(splitAddressExtension("owner-list", delimiters: "-", doubleBounceSender: "double-bounce") == nil)
        #expect(splitAddressExtension("list-request", delimiters: "-", doubleBounceSender: "double-bounce") == nil)
        #expect(
            splitAddressExtension("postmaster+x", delimiters: "+", doubleBounceSender: "double-bounce")! == (
                "postmaster", "x"
            ))
    }

    @Test func requireHomeDirectoryDefers() async throws {
        let box = try Sandbox()
        defer { box.remove() }
        let resolver = box.resolver { $0.requireHomeDirectory = true }
        let result = await resolver.resolve("nobody@acc.test")
        #expect(result.summary == ["defer 4.3.0 cannot access home directory /nonexistent: No such file or directory"])
        #expect(await resolver.resolve("alice@acc.test").summary.count == 1)
    }

    @Test func statusTexts() {
        #expect(DeliveryStatusText.deliveredToMaildir == "delivered to maildir")
        #expect(DeliveryStatusText.deliveredToMailbox == "delivered to mailbox")
        #expect(DeliveryStatusText.deliveredToCommand("procmail") == "delivered to command: procmail")
        #expect(DeliveryStatusText.unknownUser("x") == "unknown user: \"x\"")
        #expect(DeliveryStatusText.forwardingLoop("x@y") == "mail forwarding loop for x@y")
        #expect(MailboxLocation(path: "/v/d/u/") == .maildir("/v/d/u/"))
        #expect(MailboxLocation(path: "/v/d/u") == .mbox("/v/d/u"))
    }
}

@Suite struct SystemUserTests {
    @Test func realPasswdLookups() throws {
        let root = try #require(try SystemPasswd().user(named: "root"))
        #expect(root.uid == 0 && root.gid == 0 && root.home == "/root")
        #expect(root.groups.contains(0))
        #expect(try SystemPasswd().user(uid: 0)?.name == "root")
        #expect(try SystemPasswd().user(named: "no-such-user-tern") == nil)
        #expect(try SystemPasswd().user(named: "root@x") == nil)
    }

    @Test func passwdTableForLocalRecipientMaps() async throws {
        let table = PasswdTable()
        #expect(try await table.lookup("ROOT")?.hasPrefix("root:*:0:0::/root:") == true)
        #expect(try await table.lookup("root@acc.test") == nil)
    }

    @Test func aliasDatabaseOwnerComesFromTheDbFile() throws {
        let box = try Sandbox()
        defer { box.remove() }
        try box.write("\(box.root)/aliases.db", "")
        #expect(AliasTable.databaseOwner(spec: "hash:\(box.root)/aliases") == getuid())
        #expect(AliasTable.databaseOwner(spec: "static:foo") == 0)
        #expect(AliasTable.databaseOwner(spec: "hash:\(box.root)/missing") == 0)
    }
}

@Suite struct LocalDeliverySettingsTests {
    @Test func parametersOverrideDefaults() {
        let defaults = LocalDeliverySettings(parameters: ["myhostname": "mail.acc.test"])
        #expect(defaults.myorigin == "mail.acc.test" && defaults.mailSpoolDirectory == "/var/mail")
        #expect(defaults.allowMailToCommands == [.alias, .forward] && defaults.ownerRequestSpecial)
        let custom = LocalDeliverySettings(parameters: [
            "myorigin": "acc.test", "home_mailbox": "Maildir/", "allow_mail_to_commands": "alias,include",
            "owner_request_special": "no", "propagate_unmatched_extensions": "canonical, alias",
            "recipient_delimiter": "+",
        ])
        #expect(custom.homeMailbox == "Maildir/" && custom.recipientDelimiter == "+")
        #expect(custom.allowMailToCommands == [.alias, .include] && !custom.ownerRequestSpecial)
        #expect(custom.propagateUnmatchedExtensions == ExtensionPropagation(alias: true))
        #expect(ExpansionSources.parse("alias, bogus").unknown == ["bogus"])
    }
}
