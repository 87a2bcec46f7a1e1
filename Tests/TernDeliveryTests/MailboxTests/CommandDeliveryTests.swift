import Glibc
import Testing

@testable import TernDelivery

@Suite struct CommandDeliveryTests {
    init() {
        setenv("TZ", "UTC", 1)
        tzset()
    }

    private func request(_ command: String, home: String, timeLimit: Int = 30) -> DeliveryWorkRequest {
        DeliveryWorkRequest(
            kind: .command, target: command, uid: getuid(), gid: getgid(), home: home, userName: "accuser1",
            shell: "/bin/sh", sender: "s@client.example", recipient: "accuser1+tag@acc.test",
            originalRecipient: "info@acc.test", localPart: "accuser1+tag", extensionPart: "tag", domain: "acc.test",
            commandTimeLimit: timeLimit,
            prependHeaders: DeliveredHeaders.render(
                sender: "s@client.example", originalRecipient: "info@acc.test", deliveredTo: "accuser1+tag@acc.test"),
            clientEnvironment: ["CLIENT_HELO": "evil;`rm -rf`"])
    }

    private func run(_ request: DeliveryWorkRequest, _ text: String = "Subject: t\n\nFrom here\nbody\n")
        -> DeliveryWorkResult
    {
        let fd = MailboxTestSupport.contentFD(text)
        defer { close(fd) }
        return DeliveryWorker.perform(request, contentFD: fd)
    }

    @Test func commandGetsFromLineHeadersUnquotedBodyAndEnvironment() {
        let home = MailboxTestSupport.makeDirectory()
        defer { MailboxTestSupport.remove(home) }
        let result = run(request("cat > \"$HOME/out\"; env > \"$HOME/env\"", home: home))
        #expect(result == .delivered("delivered to command: cat > \"$HOME/out\"; env > \"$HOME/env\""))

        let out = MailboxTestSupport.read(home + "/out")
        #expect(out.hasPrefix("From s@client.example  "))
        let lines = out.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(
            Array(lines.dropFirst()) == [
                "Return-Path: <s@client.example>", "X-Original-To: info@acc.test",
                "Delivered-To: accuser1+tag@acc.test", "Subject: t", "", "From here", "body", "",
            ])
        let env = Set(MailboxTestSupport.read(home + "/env").split(separator: "\n").map(String.init))
        for entry in [
            "HOME=\(home)", "LOGNAME=accuser1", "USER=accuser1", "SHELL=/bin/sh", "SENDER=s@client.example",
            "RECIPIENT=accuser1+tag@acc.test", "LOCAL=accuser1+tag", "EXTENSION=tag", "DOMAIN=acc.test",
            "ORIGINAL_RECIPIENT=info@acc.test", "PATH=/usr/bin:/bin", "TZ=UTC", "CLIENT_HELO=evil__rm_-rf_",
        ] {
            #expect(env.contains(entry), "missing \(entry)")
        }
    }

    @Test func exitTempFailDefers() {
        let home = MailboxTestSupport.makeDirectory()
        defer { MailboxTestSupport.remove(home) }
        // "exit" alone would be exec'd directly (no shell characters) and fail, as in Postfix; ";" needs a shell.
        #expect(
            run(request("exit 75;", home: home))
                == DeliveryWorkResult(outcome: .deferred, dsn: "4.3.0", text: "temporary failure"))
        #expect(
            run(request("echo 'over quota'; exit 75", home: home))
                == DeliveryWorkResult(
                    outcome: .deferred, dsn: "4.3.0", text: "temporary failure. Command output: over quota "))
    }

    @Test func otherExitStatusesBounce() {
        let home = MailboxTestSupport.makeDirectory()
        defer { MailboxTestSupport.remove(home) }
        #expect(
            run(request("exit 1;", home: home))
                == DeliveryWorkResult(outcome: .bounced, dsn: "5.3.0", text: "Command died with status 1: \"exit 1;\""))
        #expect(
            run(request("/bin/false", home: home))
                == DeliveryWorkResult(
                    outcome: .bounced, dsn: "5.3.0", text: "Command died with status 1: \"/bin/false\""))
        #expect(
            run(request("exit 67;", home: home))
                == DeliveryWorkResult(outcome: .bounced, dsn: "5.1.1", text: "user unknown"))
        // "D.S.N text" output sets the status.
        #expect(
            run(request("echo '4.2.2 mailbox is full'; exit 1", home: home))
                == DeliveryWorkResult(outcome: .deferred, dsn: "4.2.2", text: "mailbox is full "))
    }

    @Test func timeLimitKillsAndBounces() {
        let home = MailboxTestSupport.makeDirectory()
        defer { MailboxTestSupport.remove(home) }
        let started = time(nil)
        let result = run(request("sleep 30", home: home, timeLimit: 1))
        #expect(
            result
                == DeliveryWorkResult(
                    outcome: .bounced, dsn: "5.3.0", text: "Command time limit exceeded: \"sleep 30\""))
        #expect(time(nil) - started < 10)
    }

    @Test func missingProgramDefersLikeExecFailure() {
        let home = MailboxTestSupport.makeDirectory()
        defer { MailboxTestSupport.remove(home) }
        #expect(
            run(request("no-such-program-tern -x", home: home))
                == DeliveryWorkResult(
                    outcome: .deferred, dsn: "4.3.0",
                    text: "temporary failure. Command output: local: fatal: execvp no-such-program-tern: "
                        + "No such file or directory "))
    }

    @Test func commandThatIgnoresItsInputStillDelivers() {
        let home = MailboxTestSupport.makeDirectory()
        defer { MailboxTestSupport.remove(home) }
        let big = "Subject: big\n\n" + String(repeating: String(repeating: "q", count: 99) + "\n", count: 20_000)
        #expect(run(request("true", home: home), big) == .delivered("delivered to command: true"))
    }

    @Test func leadingStatusCodeParsing() {
        #expect(CommandDelivery.leadingStatusCode("5.1.1 no such user")! == ("5.1.1", "no such user"))
        #expect(CommandDelivery.leadingStatusCode("4.2.2")! == ("4.2.2", ""))
        #expect(CommandDelivery.leadingStatusCode("3.1.1 nope") == nil)
        #expect(CommandDelivery.leadingStatusCode("5.1111.1 nope") == nil)
        #expect(CommandDelivery.leadingStatusCode("5.1.1x") == nil)
    }
}
