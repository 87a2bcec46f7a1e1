import TernSMTP
import Testing

/// LMTPServerStateMachine against replies captured from Dovecot 2.3.19.1's lmtp on loopback, and the
/// examples of RFC 3030 (CHUNKING) and RFC 2033 §4.3 (one reply per recipient after BDAT LAST).
@Suite struct LMTPServerStateMachineTests {
    /// Runs the machine like the driver: recipients in `users` exist, every copy is saved; collects the
    /// replies, the message data per message and the transactions delivered.
    struct Conversation {
        var machine = LMTPServerStateMachine(configuration: .init(hostname: "vm", sessionID: "SID"))
        var users: Set<String> = ["u1", "u2"]
        var replies = ""
        var messages: [[UInt8]] = []
        var delivered: [LMTPServerStateMachine.Transaction] = []
        var largestPiece = 0
        var closed = false

        mutating func send(_ text: String) -> String { send(Array(text.utf8)) }

        /// Feeds bytes; returns the replies they caused.
        mutating func send(_ bytes: [UInt8]) -> String {
            let before = replies.count
            var actions = machine.receive(bytes)
            while !actions.isEmpty {
                switch actions.removeFirst() {
                case .send(let text): replies += text
                case .checkRecipient(let address): actions += machine.recipientChecked(exists: users.contains(address))
                case .beginMessage: messages.append([])
                case .messageData(let data):
                    largestPiece = max(largestPiece, data.count)
                    messages[messages.count - 1] += data
                case .discardMessage: messages.removeLast()
                case .deliver(let transaction):
                    delivered.append(transaction)
                    actions += machine.delivered(transaction.recipients.map { _ in .saved })
                case .close: closed = true
                }
            }
            return String(replies.dropFirst(before))
        }

        var lastMessage: String { String(decoding: messages.last ?? [], as: UTF8.self) }
    }

    @Test func lhloAdvertisesChunkingAsDovecot() {
        var c = Conversation()
        #expect(
            c.send("LHLO x\r\n")
                == "250-vm\r\n250-8BITMIME\r\n250-CHUNKING\r\n250-ENHANCEDSTATUSCODES\r\n250 PIPELINING\r\n")
        #expect(c.send("LHLO\r\n") == "501 Missing hostname\r\n")
    }

    /// Dovecot: `250 2.0.0 Added 9 octets` per chunk, then after LAST one reply per recipient; the second
    /// recipient's ID gets `:R2`.
    @Test func chunksThenOneReplyPerRecipient() {
        var c = Conversation()
        _ = c.send("LHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<u1>\r\nRCPT TO:<u2>\r\n")
        #expect(c.send("BDAT 9\r\nSubject: ") == "250 2.0.0 Added 9 octets\r\n")
        #expect(
            c.send("BDAT 7 LAST\r\nhi\r\n\r\nx")
                == "250 2.0.0 <u1> SID Saved\r\n250 2.0.0 <u2> SID:R2 Saved\r\n")
        #expect(c.lastMessage == "Subject: hi\r\n\r\nx")
        #expect(c.delivered == [.init(id: "SID", sender: "a@b", recipients: ["u1", "u2"], helo: "x")])
        // The transaction is over: a new one needs MAIL, and its ID is the session's `:T2`.
        #expect(c.send("BDAT 0 LAST\r\n") == "503 5.5.0 MAIL needed first\r\n")
        #expect(c.send("RSET\r\nMAIL FROM:<>\r\nRCPT TO:<u1>\r\nBDAT 0 LAST\r\n").hasSuffix("<u1> SID:T2 Saved\r\n"))
    }

    /// RFC 3030 §4.2's pipelined example: all commands and chunks in one write, split anywhere.
    @Test func pipelinedChunksByteByByte() {
        let chunk1 = String(repeating: "a", count: 100)
        let chunk2 = String(repeating: "b", count: 200) + "\r\n"
        let input =
            "MAIL FROM:<data@vm1.ietf.org>\r\nRCPT TO:<u1>\r\nBDAT 100\r\n\(chunk1)BDAT 202\r\n\(chunk2)"
            + "BDAT 0 LAST\r\nQUIT\r\n"
        let expected =
            "250 2.1.0 OK\r\n250 2.1.5 OK\r\n250 2.0.0 Added 100 octets\r\n250 2.0.0 Added 202 octets\r\n"
            + "250 2.0.0 <u1> SID Saved\r\n221 2.0.0 Bye\r\n"
        var whole = Conversation()
        #expect(whole.send(input) == expected)
        var bytewise = Conversation()
        var replies = ""
        for byte in Array(input.utf8) { replies += bytewise.send([byte]) }
        #expect(replies == expected)
        #expect(bytewise.lastMessage == chunk1 + chunk2 && whole.lastMessage == chunk1 + chunk2)
        #expect(bytewise.closed)
    }

    /// Dovecot's answers for broken BDATs: a failed chunk's octets are skipped when its size is known, and
    /// every later chunk fails until RSET; DATA after BDAT is a bad sequence.
    @Test func failedChunksAsDovecot() {
        var c = Conversation()
        #expect(c.send("BDAT 0 LAST\r\n") == "503 5.5.0 MAIL needed first\r\n")
        #expect(c.send("MAIL FROM:<a@b>\r\n") == "250 2.1.0 OK\r\n")
        #expect(c.send("BDAT 3\r\nabc") == "503 5.5.0 Previous data chunk failed, issue RSET first\r\n")
        #expect(c.send("DATA\r\n") == "503 5.5.0 Previous data chunk failed, issue RSET first\r\n")
        #expect(c.send("RSET\r\n") == "250 2.0.0 OK\r\n")

        var d = Conversation()
        _ = d.send("MAIL FROM:<a@b>\r\n")
        #expect(d.send("BDAT 3\r\nabc") == "503 5.5.0 No valid recipients\r\n")
        #expect(d.send("RCPT TO:<u1>\r\n") == "250 2.1.5 OK\r\n")
        #expect(d.send("BDAT 1 LAST\r\nx") == "503 5.5.0 Previous data chunk failed, issue RSET first\r\n")
        #expect(d.send("MAIL FROM:<a@b>\r\n") == "503 5.5.0 MAIL already given\r\n")

        var e = Conversation()
        _ = e.send("MAIL FROM:<a@b>\r\nRCPT TO:<u1>\r\n")
        #expect(e.send("BDAT 1 LASTX\r\nx") == "501 5.5.4 Invalid end marker parameter\r\n")
        #expect(e.send("NOOP\r\n") == "250 2.0.0 OK\r\n")
        #expect(e.send("BDAT x\r\n") == "501 5.5.4 Invalid chunk size parameter\r\n")
        #expect(e.send("BDAT\r\n") == "501 5.5.4 Invalid chunk size parameter\r\n")
        #expect(e.send("BDAT 99999999999999999999\r\n") == "501 5.5.4 Invalid chunk size parameter\r\n")
        #expect(e.send("BDAT  3\r\n") == "500 5.5.2 Invalid command syntax\r\n")
        #expect(e.send("BDAT 1 2 3\r\nx") == "501 5.5.4 Invalid parameters\r\n")
        #expect(e.delivered.isEmpty && e.messages.isEmpty)

        var f = Conversation()
        _ = f.send("MAIL FROM:<a@b>\r\nRCPT TO:<u1>\r\n")
        #expect(f.send("BDAT 3 \r\nabc") == "250 2.0.0 Added 3 octets\r\n")
        #expect(f.send("DATA\r\n") == "503 5.5.0 Bad sequence of commands\r\n")
        #expect(f.send("RSET\r\n") == "250 2.0.0 OK\r\n")
        #expect(f.messages.isEmpty)  // the chunks so far were discarded
    }

    /// RFC 2033 §4.2: DATA without a valid recipient fails with 503 (Dovecot: 5.5.0).
    @Test func dataWithoutRecipients() {
        var c = Conversation()
        _ = c.send("MAIL FROM:<a@b>\r\n")
        #expect(c.send("RCPT TO:<nouser>\r\n") == "550 5.1.1 <nouser> User doesn't exist: nouser\r\n")
        #expect(c.send("DATA\r\n") == "503 5.5.0 No valid recipients\r\n")
        #expect(c.send("BDAT 1 LAST\r\nx") == "503 5.5.0 No valid recipients\r\n")
    }

    @Test func dataDotUnstuffedAndPerRecipient() {
        var c = Conversation()
        _ = c.send("LHLO h\r\nMAIL FROM:<a@b>\r\nRCPT TO:<u1>\r\nRCPT TO:<nouser>\r\nRCPT TO:<u2>\r\n")
        #expect(c.send("DATA\r\n") == "354 OK\r\n")
        #expect(
            c.send("Subject: x\r\n\r\n..dot\nlf only\r\n.\r\n")
                == "250 2.0.0 <u1> SID Saved\r\n250 2.0.0 <u2> SID:R2 Saved\r\n")
        #expect(c.lastMessage == "Subject: x\r\n\r\n.dot\r\nlf only\r\n")
    }

    /// A chunk of any declared size, or a DATA line without end, is handed on in bounded pieces.
    @Test func bigChunksAndLinesStayBounded() {
        var c = Conversation()
        c.machine = LMTPServerStateMachine(
            configuration: {
                var configuration = LMTPServerStateMachine.Configuration(hostname: "vm", sessionID: "SID")
                configuration.maxDataPiece = 1000
                return configuration
            }())
        _ = c.send("MAIL FROM:<a@b>\r\nRCPT TO:<u1>\r\nBDAT 1000000000 LAST\r\n")
        for _ in 0..<50 { #expect(c.send([UInt8](repeating: 65, count: 4096)) == "") }
        #expect(c.largestPiece <= 1000)
        #expect(c.messages.last?.count == 50 * 4096)

        var d = Conversation()
        d.machine = LMTPServerStateMachine(configuration: c.machine.configuration)
        _ = d.send("MAIL FROM:<a@b>\r\nRCPT TO:<u1>\r\nDATA\r\n.")
        for _ in 0..<10 { _ = d.send([UInt8](repeating: 66, count: 4096)) }
        #expect(d.send("\r\n.\r\n") == "250 2.0.0 <u1> SID Saved\r\n")
        #expect(d.largestPiece <= 1000 + 2)
        #expect(d.lastMessage == String(repeating: "B", count: 40960) + "\r\n")
    }

    @Test func commandLineTooLong() {
        var c = Conversation()
        #expect(c.send(String(repeating: "x", count: 5000)) == "500 5.5.2 Line too long\r\n")
        #expect(c.closed)
    }

    /// Dovecot's MAIL and RCPT complaints.
    @Test func mailAndRecipientSyntax() {
        var c = Conversation()
        #expect(c.send("RCPT TO:<u1>\r\n") == "503 5.5.0 MAIL needed first\r\n")
        #expect(c.send("MAIL\r\n") == "501 5.5.4 Invalid parameters\r\n")
        #expect(c.send("MAIL FROM:a@b\r\n") == "501 5.5.4 Invalid FROM: Missing '<' at beginning of path\r\n")
        #expect(c.send("MAIL FROM: <a@b>\r\n") == "501 5.5.4 Invalid FROM: Unexpected whitespace before path\r\n")
        #expect(c.send("MAIL FROM:<a@b> SIZE=100\r\n") == "555 5.5.4 Unsupported parameters\r\n")
        #expect(c.send("MAIL FROM:<a@b> BODY=BINARYMIME\r\n") == "555 5.5.4 Unsupported mail BODY type\r\n")
        #expect(c.send("MAIL FROM:<a@b> BODY=7BIT\r\n") == "250 2.1.0 OK\r\n")
        #expect(c.send("RCPT TO:<>\r\n") == "501 5.5.4 Invalid TO: Null path not allowed\r\n")
        #expect(c.send("RCPT TO:<u1> NOTIFY=NEVER\r\n") == "555 5.5.4 Unsupported parameters\r\n")
        #expect(c.send("RCPT TO: <u2>\r\n") == "501 5.5.4 Invalid TO: Unexpected whitespace before path\r\n")
        #expect(c.send("DATA x\r\n") == "501 5.5.4 Invalid parameters\r\n")
        #expect(c.send("VRFY u1\r\n") == "252 2.3.3 Try RCPT instead\r\n")
        #expect(c.send("HELO x\r\n") == "500 5.5.1 Unknown command\r\n")
        #expect(c.send("QUIT x\r\n") == "501 5.5.4 Invalid parameters\r\n")
    }

    /// The headers of Dovecot's copies: with one recipient `Delivered-To` and `for <rcpt>`; with more,
    /// neither; `from unknown` without LHLO, no address on a unix socket.
    @Test func deliveryHeaders() {
        let one = LMTPServerStateMachine.Transaction(id: "SID", sender: "a@b", recipients: ["u2"], helo: nil)
        #expect(
            one.deliveryHeaders(0, hostname: "vm", remoteIP: "127.0.0.1", date: "D")
                == "Return-Path: <a@b>\r\nDelivered-To: u2\r\nReceived: from unknown ([127.0.0.1])\r\n"
                + "\tby vm with LMTP\r\n\tid SID\r\n\t(envelope-from <a@b>)\r\n\tfor <u2>; D\r\n")
        let two = LMTPServerStateMachine.Transaction(id: "SID:T2", sender: "", recipients: ["u1", "u2"], helo: "h")
        #expect(
            two.deliveryHeaders(1, hostname: "vm", remoteIP: nil, date: "D")
                == "Return-Path: <>\r\nReceived: from h\r\n\tby vm with LMTP\r\n\tid SID:T2\r\n\t(envelope-from <>); D\r\n")
        #expect(two.recipientID(1) == "SID:T2:R2")
    }
}
