import TernCore
import Testing

@testable import TernDelivery

@Suite struct LocalRecipientCheckTests {
    let users = FakeUsers(accounts: [
        SystemUser(name: "accuser1", uid: 1001, gid: 100, home: "/home/a", shell: "/bin/sh")
    ])

    func check(_ aliases: [String: String] = ["info": "accuser1"], failing: Bool = false) -> LocalRecipientCheck {
        LocalRecipientCheck(
            maps: [PasswdTable(directory: users), MemoryTable("hash:/etc/aliases", aliases, failing: failing)],
            recipientDelimiter: "+")
    }

    @Test func keyOrderFollowsMailAddrFind() {
        #expect(
            check().keys(for: MailAddress("User+Ext@Acc.Test")) == [
                "user+ext@acc.test", "user@acc.test", "user+ext", "user", "@acc.test",
            ])
        #expect(check().keys(for: MailAddress("user@acc.test")) == ["user@acc.test", "user", "@acc.test"])
    }

    @Test func usersAndAliasesAreKnownWithExtensionStripping() async {
        #expect(await check().check(MailAddress("accuser1@acc.test")) == .known)
        #expect(await check().check(MailAddress("ACCUSER1+tag@acc.test")) == .known)
        #expect(await check().check(MailAddress("info+x@localhost")) == .known)
        #expect(await check().check(MailAddress("nosuchuser@acc.test")) == .unknown)
        #expect(await check().check(MailAddress("double-bounce@acc.test")) == .known)
        #expect(await LocalRecipientCheck(maps: []).check(MailAddress("anything@acc.test")) == .known)
    }

    @Test func tableErrorsAreUnavailable() async {
        guard case .unavailable = await check(failing: true).check(MailAddress("nosuch@acc.test")) else {
            Issue.record("expected unavailable")
            return
        }
        #expect(
            LocalRecipientCheck.temporaryFailureReply(for: MailAddress("x@acc.test"))
                == "451 4.3.0 <x@acc.test>: Temporary lookup failure")
    }

    @Test func smtpReplies() async {
        #expect(
            LocalRecipientCheck.rejectReply(for: MailAddress("nosuchuser@acc.test"))
                == "550 5.1.1 <nosuchuser@acc.test>: Recipient address rejected: User unknown in local recipient table")
        #expect(
            LocalRecipientCheck.rejectReply(for: MailAddress("x@acc.test"), code: 450).hasPrefix(
                "450 4.1.1 <x@acc.test>:"))
        #expect(
            await check().vrfy(argument: "<info@acc.test>", address: MailAddress("info@acc.test"))
                == "252 2.0.0 <info@acc.test>")
        #expect(
            await check().vrfy(argument: "bogus", address: MailAddress("bogus@acc.test")).hasPrefix(
                "550 5.1.1 <bogus@acc.test>"))
    }
}

@Suite struct VirtualMailboxResolverTests {
    func resolver(
        mailboxes: [String: String] = ["info@example.com": "example.com/info/", "bob@example.com": "example.com/bob"],
        uid: String = "5000", minimumUID: Int = 100, failing: Bool = false
    ) -> VirtualMailboxResolver {
        var settings = VirtualMailboxSettings(mailboxBase: "/var/mail/vhosts")
        settings.minimumUID = minimumUID
        settings.recipientDelimiter = "+"
        return VirtualMailboxResolver(
            settings: settings, mailboxMaps: [MemoryTable("hash:/etc/postfix/vmailbox", mailboxes, failing: failing)],
            uidMaps: [StaticTable(value: uid)], gidMaps: [StaticTable(value: "5000")],
            isMailboxDomain: { $0 == "example.com" })
    }

    @Test func maildirAndMboxUnderTheBase() async throws {
        let maildir = await resolver().resolve(recipient: MailAddress("Info@Example.com"))
        #expect(
            maildir.action
                == .mailbox(.maildir("/var/mail/vhosts/example.com/info/"), uid: 5000, gid: 5000, sizeLimit: 51_200_000)
        )
        #expect(maildir.deliveredTo == "Info@Example.com")
        let mbox = await resolver().resolve(recipient: MailAddress("bob+lists@example.com"))
        #expect(
            mbox.action
                == .mailbox(.mbox("/var/mail/vhosts/example.com/bob"), uid: 5000, gid: 5000, sizeLimit: 51_200_000))
        #expect(try await resolver().handles(domain: "EXAMPLE.COM"))
        #expect(try await !resolver().handles(domain: "other.org"))
    }

    @Test func catchAllDomainEntry() async {
        let result = await resolver(mailboxes: ["@example.com": "example.com/catchall/"])
            .resolve(recipient: MailAddress("whoever@example.com"))
        #expect(
            result.action
                == .mailbox(
                    .maildir("/var/mail/vhosts/example.com/catchall/"), uid: 5000, gid: 5000, sizeLimit: 51_200_000))
    }

    @Test func unknownRecipientBounces() async {
        let result = await resolver().resolve(recipient: MailAddress("Nobody@example.com"))
        #expect(result.action == .bounce(status: "5.1.1", text: "unknown user: \"nobody@example.com\""))
    }

    @Test func uidBelowMinimumDefers() async {
        let result = await resolver(uid: "12").resolve(recipient: MailAddress("info@example.com"))
        #expect(result.action == .defer(status: "4.3.5", text: "mail system configuration error"))
        #expect(result.warning == "recipient info@example.com: bad uid 12 in static:12")
    }

    @Test func tableErrorAndLoopAndRelativeBase() async {
        let failing = await resolver(failing: true).resolve(recipient: MailAddress("info@example.com"))
        #expect(failing.action == .defer(status: "4.3.5", text: "mail system configuration error"))
        let loop = await resolver().resolve(
            recipient: MailAddress("info@example.com"), deliveredTo: ["INFO@example.com"])
        #expect(loop.action == .bounce(status: "5.4.6", text: "mail forwarding loop for info@example.com"))
        let relative = VirtualMailboxResolver(
            settings: VirtualMailboxSettings(mailboxBase: "vhosts"), mailboxMaps: [], uidMaps: [], gidMaps: [],
            isMailboxDomain: { _ in true })
        #expect(
            await relative.resolve(recipient: MailAddress("a@b")).warning?.hasPrefix("do not specify relative pathname")
                == true)
        #expect(VirtualMailboxResolver.atol(" 5000abc") == 5000 && VirtualMailboxResolver.atol("x") == 0)
    }
}
