import Foundation
import Testing

@testable import TernMailbox

@Suite struct MboxParserTests {
    static func parse(_ text: String) throws -> ParsedMbox {
        try MboxParser.parse(MboxSource(bytes: Array(text.utf8)))
    }

    /// The message a client sees: the entry's segments of the file.
    static func message(_ entry: MboxEntry, in bytes: [UInt8]) -> String {
        String(decoding: entry.segments.flatMap { bytes[$0] }, as: UTF8.self)
    }

    @Test func readsWhatDovecotWrote() throws {
        let bytes = try TemporaryMaildir.fixture("dovecot-mbox/inbox")
        let parsed = try MboxParser.parse(MboxSource(bytes: bytes))
        #expect(parsed.base == MboxBase(uidValidity: 1_796_122_148, nextUID: 4, keywords: ["todo", "$Label1"]))
        #expect(!parsed.hasPseudoMessage)
        #expect(parsed.entries.map(\.uid) == [1, 2, 3, 4])
        #expect(parsed.entries.map(\.flags) == [[.seen, .flagged], [], [.answered, .draft, .deleted], []])
        #expect(parsed.entries.map(\.keywords) == [[], ["todo", "$Label1"], [], []])
        // The sizes `doveadm fetch size.physical` reports: the managed headers and Content-Length are hidden.
        #expect(parsed.entries.map(\.size) == [51, 51, 51, 85])
        #expect(
            Self.message(parsed.entries[0], in: bytes) == "From: a@example\nSubject: dovecot 1\n\nline 1\nFrom me\n")
        // Content-Length keeps an unquoted "From " line after an empty line inside the body.
        #expect(
            Self.message(parsed.entries[3], in: bytes)
                == "From: b@example\nSubject: tricky\n\nfirst paragraph\n\nFrom the start, this line is body.\n")
        let plan = MboxFile.plan(parsed) { 1 }
        #expect(plan.base.nextUID == 5)
        #expect(!plan.needsWrite)
    }

    @Test func readsDovecotsPseudoMessage() throws {
        let parsed = try MboxParser.parse(MboxSource(bytes: try TemporaryMaildir.fixture("dovecot-mbox/empty")))
        #expect(parsed.hasPseudoMessage)
        #expect(parsed.entries.isEmpty)
        #expect(parsed.base == MboxBase(uidValidity: 1_796_122_150, nextUID: 1, keywords: []))
    }

    @Test func splitsPostfixDeliveries() throws {
        let text = """
            From alice@example.org  Mon Nov 30 11:12:35 2026
            Return-Path: <alice@example.org>
            Subject: one

            >From here on, quoted by Postfix
            From the desk of nobody (no time here, so no From_ line)

            From bob@example.org  Mon Nov 30 11:13:00 2026
            Subject: two
            Status: RO
            X-Status: F

            body two

            """
        let bytes = Array(text.utf8)
        let parsed = try MboxParser.parse(MboxSource(bytes: bytes))
        #expect(parsed.base == nil)
        #expect(parsed.entries.count == 2)
        #expect(parsed.entries.map(\.uid) == [nil, nil])
        #expect(
            Self.message(parsed.entries[0], in: bytes)
                == "Return-Path: <alice@example.org>\nSubject: one\n\n>From here on, quoted by Postfix\n"
                + "From the desk of nobody (no time here, so no From_ line)\n")
        #expect(Self.message(parsed.entries[1], in: bytes) == "Subject: two\n\nbody two\n")
        #expect(parsed.entries[1].flags == [.seen, .flagged])
        #expect(parsed.entries[1].isOld)
        #expect(MboxHeaders.date(fromLine: parsed.entries[0].fromLine) == 1_796_037_155)
        let plan = MboxFile.plan(parsed) { 77 }
        #expect(plan.messages.map(\.uid) == [1, 2])
        #expect(plan.base == MboxBase(uidValidity: 77, nextUID: 3, keywords: []))
        #expect(plan.needsWrite)
    }

    @Test func renumbersFromTheFirstBrokenUID() throws {
        let text = """
            From a  Mon Nov 30 11:12:35 2026
            X-IMAPbase: 5 0000000009
            X-UID: 4

            a

            From b  Mon Nov 30 11:12:35 2026
            X-UID: 3

            b

            From c  Mon Nov 30 11:12:35 2026
            X-UID: 20

            c

            """
        let plan = MboxFile.plan(try Self.parse(text)) { 1 }
        #expect(plan.messages.map(\.uid) == [4, 9, 10])
        #expect(plan.base.nextUID == 11)
        #expect(plan.needsWrite)
    }

    @Test func emptyFileAndGarbage() throws {
        #expect(try Self.parse("").entries.isEmpty)
        #expect(throws: MailboxError.invalidMbox(reason: "File isn't in mbox format")) {
            try Self.parse("Subject: no From_ line\n\nbody\n")
        }
        #expect(throws: MailboxError.invalidMbox(reason: "File isn't in mbox format")) {
            try MboxParser.parse(MboxSource(bytes: [0, 0xFF, 0x0A, 0x46]))
        }
        // Everything after a From_ line is some message, whatever it is.
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            let noise = (0..<2000).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let bytes = Array("From x  Mon Nov 30 11:12:35 2026\n".utf8) + noise
            let parsed = try MboxParser.parse(MboxSource(bytes: bytes))
            #expect(parsed.entries.count >= 1)
            for entry in parsed.entries { #expect(entry.end <= bytes.count && entry.headerStart <= entry.end) }
        }
        // A header without an end, and a truncated last message.
        let cut = try Self.parse("From x  Mon Nov 30 11:12:35 2026\nSubject: cut")
        #expect(cut.entries.count == 1)
        #expect(cut.entries[0].size == "Subject: cut".utf8.count)
        // A Content-Length that points nowhere useful is ignored.
        let wrong = try Self.parse(
            "From x  Mon Nov 30 11:12:35 2026\nContent-Length: 3\n\nbody\n\nFrom y  Mon Nov 30 11:12:36 2026\n\nb\n")
        #expect(wrong.entries.count == 2)
        #expect(wrong.entries[0].size == "\nbody\n".utf8.count)
    }

    @Test func hugeLinesInBoundedPieces() throws {
        // A header line and a body line far longer than the line prefix and the 64 KiB read window, and CRLF.
        let longHeader = "X-Long: " + String(repeating: "h", count: 200_000) + "\r\n"
        let longBody = String(repeating: "b", count: 1_000_000)
        let text =
            "From a  Mon Nov 30 11:12:35 2026\r\n" + longHeader + "X-UID: 7\r\nStatus: R\r\n\r\n" + longBody
            + "\r\n\r\nFrom b  Mon Nov 30 11:12:36 2026\r\nSubject: after\r\n\r\nend\r\n"
        let bytes = Array(text.utf8)
        let parsed = try MboxParser.parse(MboxSource(bytes: bytes))
        #expect(parsed.entries.count == 2)
        #expect(parsed.entries[0].uid == 7)
        #expect(parsed.entries[0].flags == .seen)
        #expect(parsed.entries[0].size == longHeader.utf8.count + 2 + longBody.utf8.count + 2)
        #expect(Self.message(parsed.entries[1], in: bytes) == "Subject: after\r\n\r\nend\r\n")
    }

    @Test func headersAsDovecotWritesThem() {
        let base = MboxBase(uidValidity: 1_796_122_148, nextUID: 5, keywords: ["todo", "$Label1"])
        #expect(MboxHeaders.baseLine(base) == "X-IMAPbase: 1796122148 0000000005 todo $Label1\n")
        #expect(
            MboxHeaders.messageHeaders(
                uid: 3, flags: [.seen, .answered, .deleted, .draft, .flagged], keywords: ["a"], old: true)
                == "X-UID: 3\nStatus: RO\nX-Status: AFTD\nX-Keywords: a\n")
        #expect(MboxHeaders.messageHeaders(uid: 4, flags: [], keywords: [], old: false) == "X-UID: 4\nStatus: \n")
        #expect(MboxHeaders.fromLineDate(1_796_122_146) == "Tue Dec 01 10:49:06 2026")
        #expect(MboxHeaders.date(fromLine: Array("From carla@vm  Tue Dec 01 10:49:06 2026\n".utf8)) == 1_796_122_146)
        #expect(MboxHeaders.date(fromLine: Array("From x Tue Dec  1 10:49:06 2026".utf8)) == 1_796_122_146)
        #expect(MboxHeaders.date(fromLine: Array("From x".utf8)) == nil)
    }
}
