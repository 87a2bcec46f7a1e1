import TernCore
import TernMIME
import Testing
@testable import TernQueue

@Suite struct CleanupTests {
    let t = 1_796_037_432
    let id = QueueID("E93D0F786D2")!
    var received: String {
        ReceivedHeader(
            heloName: "client.example", clientName: "localhost", clientAddress: "127.0.0.1",
            myHostname: "mail.ref.test", mailName: "Postfix", protocolName: "ESMTP", queueID: id.value,
            recipient: nil, epochSeconds: t, zone: .utc
        ).text
    }

    func run(_ content: String, sender: String = "alice@client.example", fullName: String? = nil,
             options: CleanupOptions? = nil) -> (String, Cleanup) {
        var cleanup = Cleanup(
            queueID: id, sender: MailAddress(sender), senderFullName: fullName, arrivalSeconds: t,
            prepend: [received], options: options ?? CleanupOptions(myHostname: "mail.ref.test", zone: .utc))
        var out: [UInt8] = []
        var lines = content.split(separator: "\n", omittingEmptySubsequences: false)
        if content.hasSuffix("\n") { lines.removeLast() }
        for line in lines { cleanup.process(line: Array(line.utf8), into: &out) }
        cleanup.finish(into: &out)
        return (String(decoding: out, as: UTF8.self), cleanup)
    }

    let stamp = "Date: Mon, 30 Nov 2026 11:17:12 +0000 (UTC)\n"
    var receivedBlock: String { received + "\n" }

    /// Held headers, written where they were, give the same bytes as the plain run.
    @Test func heldHeadersAreTheHeaderSectionWithoutTheBody() {
        let content = "To: bob,\n\tcarol\nSubject: hello\n\nbody line\n"
        let (plain, _) = run(content)
        let (held, cleanup) = run(content, options: CleanupOptions(myHostname: "mail.ref.test", zone: .utc, holdHeaders: true))
        #expect(cleanup.headersEnded)
        #expect(held == "\nbody line\n", "only the separator and the body are output")
        #expect(cleanup.heldHeaders.contains(Array("To: bob,\n\tcarol".utf8)))
        #expect(cleanup.heldHeaders.map { String(decoding: $0, as: UTF8.self) + "\n" }.joined() + held == plain)
    }

    /// Byte for byte what Postfix 3.7's cleanup stored for the same SMTP transaction.
    @Test func addsMessageIdDateAndFromLikePostfix() {
        let (out, cleanup) = run("Subject: hello\n\nbody line\n")
        #expect(out == receivedBlock + "Subject: hello\n"
            + "Message-Id: <20261130111712.E93D0F786D2@mail.ref.test>\n" + stamp
            + "From: alice@client.example\n\nbody line\n")
        #expect(cleanup.messageID == "<20261130111712.E93D0F786D2@mail.ref.test>")
        #expect(cleanup.receivedCount == 1)
        #expect(cleanup.error == nil)
    }

    @Test func nullSenderAndMissingSeparator() {
        let (out, _) = run("no header body\n", sender: "")
        #expect(out == receivedBlock + "Message-Id: <20261130111712.E93D0F786D2@mail.ref.test>\n" + stamp
            + "From: MAILER-DAEMON\n\nno header body\n")
    }

    @Test func existingHeadersAreKeptAndLogged() {
        let (out, cleanup) = run("From: a@b\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <abc@x>\nnot a header line\n")
        #expect(out == receivedBlock + "From: a@b\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <abc@x>\n\nnot a header line\n")
        #expect(cleanup.messageID == "<abc@x>")
    }

    @Test func leadingWhitespaceStartsTheBody() {
        let (out, _) = run(" leading space line\nSubject: after\n\nb\n", sender: "x3@client.example")
        #expect(out.hasSuffix("From: x3@client.example\n\n leading space line\nSubject: after\n\nb\n"))
    }

    @Test func mailboxFromLineBecomesAHeader() {
        let (out, _) = run("From x4 Mon Jan 1\nSubject: fromline\n\nb\n", sender: "x4@client.example")
        #expect(out.hasPrefix(receivedBlock + "X-Mailbox-Line: From x4 Mon Jan 1\nSubject: fromline\nMessage-Id:"))
    }

    @Test func resentHeadersGetResentCompanions() {
        let (out, cleanup) = run("Subject: res\nResent-From: r@x\n\nbody\n")
        #expect(out == receivedBlock + "Subject: res\nResent-From: r@x\n"
            + "Resent-Message-Id: <20261130111712.E93D0F786D2@mail.ref.test>\nResent-" + stamp + "\nbody\n")
        #expect(cleanup.resentMessageID != nil && cleanup.messageID == nil)
    }

    @Test func headersOnlyMessageGetsNoSeparator() {
        let (out, _) = run("Subject: only-headers\n")
        #expect(out.hasSuffix("Subject: only-headers\nMessage-Id: <20261130111712.E93D0F786D2@mail.ref.test>\n" + stamp
            + "From: alice@client.example\n"))
    }

    @Test func fullNameFromHeader() {
        #expect(run("x\n", sender: "bob@ref.test", fullName: "root").0.contains("From: root <bob@ref.test>\n"))
        #expect(run("x\n", sender: "bob@ref.test", fullName: "Bob, Jr.").0.contains("From: \"Bob, Jr.\" <bob@ref.test>\n"))
        #expect(run("x\n", sender: "john doe@x").0.contains("From: \"john doe\"@x\n"))
    }

    @Test func remoteClientsGetNoAddedHeaders() {
        let (out, _) = run("Subject: s\n\nb\n", options: CleanupOptions(myHostname: "h", addMissingHeaders: false, zone: .utc))
        #expect(out == receivedBlock + "Subject: s\n\nb\n")
    }

    @Test func foldedHeadersStayFoldedAndAreLimited() {
        let (out, _) = run("X-Folded: a\n\tb\n\nbody\n")
        #expect(out.contains("X-Folded: a\n\tb\n"))
        let long = "X-Long: " + String(repeating: "y", count: 200) + "\n" + String(repeating: "\tz\n", count: 50)
        let (cut, cleanup) = run(long + "\nbody\n", options: CleanupOptions(myHostname: "h", headerSizeLimit: 100, zone: .utc))
        #expect(cleanup.headerTruncated)
        #expect(cut.contains("X-Long: " + String(repeating: "y", count: 92) + "\n"))
        #expect(!cut.contains("\tz"))
        #expect(cut.hasSuffix("\nbody\n"))
    }

    @Test func hopCountLimit() {
        let hops = String(repeating: "Received: from x by y\n", count: 49)
        #expect(run(hops + "\nb\n").1.error == .tooManyHops(count: 50))  // 49 + our own
        #expect(run(String(repeating: "Received: from x by y\n", count: 48) + "\nb\n").1.error == nil)
        #expect(CleanupError.tooManyHops(count: 50).reply == "554 5.4.0 Error: too many hops")
    }

    @Test func overlongLinesArriveInPieces() {
        var cleanup = Cleanup(queueID: id, sender: MailAddress("a@b"), arrivalSeconds: t,
                              options: CleanupOptions(myHostname: "h", addMissingHeaders: false, zone: .utc))
        var out: [UInt8] = []
        cleanup.process(line: Array("Subject: part one".utf8), continued: true, into: &out)
        cleanup.process(line: Array(" and two".utf8), into: &out)
        cleanup.process(line: [], into: &out)
        cleanup.process(line: Array("body ".utf8), continued: true, into: &out)
        cleanup.process(line: Array("continues".utf8), into: &out)
        cleanup.finish(into: &out)
        #expect(String(decoding: out, as: UTF8.self) == "Subject: part one and two\n\nbody continues\n")
    }
}
