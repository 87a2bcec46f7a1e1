import Testing
import TernMIME

@Suite struct ReceivedHeaderTests {
    func header(recipient: String?) -> ReceivedHeader {
        ReceivedHeader(
            heloName: "client.example", clientName: "localhost", clientAddress: "127.0.0.1",
            myHostname: "mail.ref.test", mailName: "Postfix", protocolName: "ESMTP", queueID: "E93D0F786D2",
            recipient: recipient, epochSeconds: 1_796_037_432, zone: .utc)
    }

    // Both goldens are byte copies of what Postfix 3.7 wrote into a real queue file.
    @Test func singleRecipientNamesIt() {
        #expect(
            header(recipient: "far@remote.example").text
                == "Received: from client.example (localhost [127.0.0.1])\n"
                + "\tby mail.ref.test (Postfix) with ESMTP id E93D0F786D2\n"
                + "\tfor <far@remote.example>; Mon, 30 Nov 2026 11:17:12 +0000 (UTC)")
    }

    @Test func severalRecipientsStayHidden() {
        #expect(
            header(recipient: nil).text
                == "Received: from client.example (localhost [127.0.0.1])\n"
                + "\tby mail.ref.test (Postfix) with ESMTP id E93D0F786D2;\n"
                + "\tMon, 30 Nov 2026 11:17:12 +0000 (UTC)")
    }

    @Test func fallsBackToClientNameAndMarksIPv6() {
        var h = header(recipient: nil)
        h.heloName = nil
        h.clientAddress = "2001:db8::1"
        h.mailName = "Tern"
        #expect(h.lines[0] == "Received: from localhost (localhost [IPv6:2001:db8::1])")
        #expect(h.lines[1].contains("(Tern) with ESMTP"))
    }

    @Test func localSubmissionForm() {
        #expect(
            ReceivedHeader.local(
                myHostname: "mail.ref.test", mailName: "Postfix", uid: 0, queueID: "0033DF786DB",
                epochSeconds: 1_796_037_432, zone: .utc)
                == "Received: by mail.ref.test (Postfix, from userid 0)\n\tid 0033DF786DB; Mon, 30 Nov 2026 11:17:12 +0000 (UTC)")
    }
}
