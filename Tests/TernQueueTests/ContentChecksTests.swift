import Foundation
import TernCore
import TernMIME
import Testing
@testable import TernQueue

/// header_checks / body_checks actions inside cleanup (header_checks(5)), with a table that matches by
/// case-insensitive substring so that these tests need no regexp library.
@Suite struct ContentChecksTests {
    let id = QueueID("E93D0F786D2")!
    let origin = ContentCheckOrigin(
        client: "client.example[192.0.2.1]", sender: "a@client.example", recipient: "c@dest.example",
        protocolName: "ESMTP", helo: "client.example")

    static func table(_ parameter: String, _ rules: [(String, String)]) -> ContentCheckTable {
        ContentCheckTable(parameter: parameter) { key in
            rules.first { key.lowercased().contains($0.0.lowercased()) }?.1
        }
    }

    func run(
        _ content: String, header: [(String, String)] = [], body: [(String, String)] = [],
        mime: [(String, String)]? = nil, nested: [(String, String)]? = nil, bodyLimit: Int = 51_200
    ) -> (output: String, cleanup: Cleanup, log: [CleanupLogLine]) {
        let headerTable = header.isEmpty ? nil : Self.table("header_checks", header)
        let checks = ContentChecks(
            header: headerTable, mimeHeader: mime.map { Self.table("mime_header_checks", $0) } ?? headerTable,
            nestedHeader: nested.map { Self.table("nested_header_checks", $0) } ?? headerTable,
            body: body.isEmpty ? nil : Self.table("body_checks", body), bodySizeLimit: bodyLimit)
        var cleanup = Cleanup(
            queueID: id, sender: MailAddress("a@client.example"), arrivalSeconds: 1_796_037_432,
            options: CleanupOptions(myHostname: "mail.test", addMissingHeaders: false, zone: .utc),
            inspector: ContentInspector(checks: checks, queueID: id, origin: origin))
        var out: [UInt8] = []
        var lines = content.split(separator: "\n", omittingEmptySubsequences: false)
        if content.hasSuffix("\n") { lines.removeLast() }
        for line in lines { cleanup.process(line: Array(line.utf8), into: &out) }
        cleanup.finish(into: &out)
        let log = cleanup.takeLogLines()
        return (String(decoding: out, as: UTF8.self), cleanup, log)
    }

    @Test func rejectLogsLikePostfixAndRefusesWith550() {
        let (_, cleanup, log) = run(
            "Subject: please rejectme now\n\nhello\n", header: [("rejectme", "REJECT Subject not allowed here")])
        #expect(cleanup.error == .contentRejected(reason: "5.7.1 Subject not allowed here"))
        #expect(cleanup.error?.reply == "550 5.7.1 Subject not allowed here")
        #expect(log.map(\.text) == [
            "E93D0F786D2: reject: header Subject: please rejectme now from client.example[192.0.2.1]; "
                + "from=<a@client.example> to=<c@dest.example> proto=ESMTP helo=<client.example>: "
                + "5.7.1 Subject not allowed here"
        ])
    }

    @Test func rejectDefaultTextAndOwnStatusCodes() {
        #expect(run("Subject: x\n\n", header: [("subject", "REJECT")]).cleanup.error?.reply
            == "550 5.7.1 message content rejected")
        #expect(run("Subject: x\n\n", header: [("subject", "REJECT 4.7.0 later")]).cleanup.error?.reply
            == "451 4.7.0 later")
        #expect(run("Subject: x\n\n", header: [("subject", "REJECT 5.7.9 no")]).cleanup.error?.reply == "550 5.7.9 no")
        let (_, cleanup, log) = run("Subject: x\n\n", header: [("subject", "REJECT 2.0.0 fine")])
        #expect(cleanup.error?.reply == "451 4.0.0 fine")
        #expect(log.first == CleanupLogLine(warning: true, text: "bad DSN action in 2.0.0 fine -- need 4.x.x or 5.x.x"))
    }

    @Test func bodyRejectAndFirstMatchStopsFurtherChecks() {
        let (_, cleanup, log) = run(
            "Subject: x\n\nline one\nhere is the forbidden-phrase\nwarn-me\n",
            body: [("forbidden-phrase", "REJECT Body contains a forbidden phrase"), ("warn-me", "WARN seen")])
        #expect(cleanup.error?.reply == "550 5.7.1 Body contains a forbidden phrase")
        #expect(log.count == 1, "after REJECT nothing else is checked")
        #expect(log[0].text.hasPrefix("E93D0F786D2: reject: body here is the forbidden-phrase from client.example"))
    }

    @Test func warnKeepsTheMessageAndLogs() {
        let (out, cleanup, log) = run("Subject: warnme\n\nbody\n", header: [("warnme", "WARN suspicious subject seen")])
        #expect(cleanup.error == nil)
        #expect(out == "Subject: warnme\n\nbody\n")
        #expect(log.map(\.text) == [
            "E93D0F786D2: warning: header Subject: warnme from client.example[192.0.2.1]; from=<a@client.example> "
                + "to=<c@dest.example> proto=ESMTP helo=<client.example>: suspicious subject seen"
        ])
    }

    @Test func discardHoldRedirectFilterSetTheDisposition() {
        #expect(run("Subject: d\n\n", header: [("subject", "DISCARD")]).cleanup.disposition == MessageDisposition(discard: true))
        let held = run("Subject: h\n\n", header: [("subject", "HOLD spam?")])
        #expect(held.cleanup.disposition == MessageDisposition(hold: true))
        #expect(held.log.first?.text.contains(": hold: header Subject: h from ") == true)
        #expect(run("Subject: r\n\n", header: [("subject", "REDIRECT x@y.example")]).cleanup.disposition
            == MessageDisposition(redirect: "x@y.example"))
        #expect(run("Subject: f\n\nscan me\n", body: [("scan", "FILTER smtp:[127.0.0.1]:10025")]).cleanup.disposition
            == MessageDisposition(filter: "smtp:[127.0.0.1]:10025"))
        #expect(run("Subject: b\n\n", header: [("subject", "BCC x@y.example")]).cleanup.disposition
            == MessageDisposition(bcc: ["x@y.example"]))
        let bad = run("Subject: r\n\n", header: [("subject", "REDIRECT nobody")])
        #expect(bad.cleanup.disposition.isNormal)
        #expect(bad.log == [CleanupLogLine(warning: true, text: "bad REDIRECT target \"nobody\" in header_checks map -- need user@domain")])
    }

    @Test func discardWinsOverHold() {
        let (_, cleanup, _) = run("Subject: a\nX-B: b\n\n", header: [("subject", "DISCARD"), ("x-b", "HOLD")])
        #expect(cleanup.disposition == MessageDisposition(discard: true))
    }

    @Test func ignoreReplacePrependEditHeaders() {
        let (out, _, _) = run(
            "Subject: hello\nX-Drop: me\nX-Old: value\n\nbody\n",
            header: [("x-drop", "IGNORE"), ("x-old", "REPLACE X-New: other"), ("subject", "PREPEND X-Tag: tagged")])
        #expect(out == "X-Tag: tagged\nSubject: hello\nX-New: other\n\nbody\n")
    }

    @Test func badPrependAndUnknownCommandsAreWarnedAndIgnored() {
        let (out, _, log) = run(
            "Subject: hello\nX-A: b\n\n", header: [("subject", "PREPEND not a header"), ("x-a", "FROBNICATE")])
        #expect(out == "Subject: hello\nX-A: b\n\n")
        #expect(log.map(\.text) == [
            "bad PREPEND header text \"not a header\" in header_checks map -- need \"headername: headervalue\"",
            "unknown command in header_checks map: FROBNICATE",
        ])
    }

    @Test func bodyReplacePrependAndIgnore() {
        let (out, _, _) = run(
            "Subject: s\n\nkeep\ndrop this\nchange this\nmark this\n",
            body: [("drop", "IGNORE"), ("change", "REPLACE changed"), ("mark", "PREPEND marked:")])
        #expect(out == "Subject: s\n\nkeep\nchanged\nmarked:\nmark this\n")
    }

    @Test func foldedHeadersAreMatchedWholeAndLoggedWithQuestionMarks() {
        let (_, _, log) = run("Subject: first\n\tsecond-part\n\n", header: [("first\n\tsecond", "WARN folded")])
        #expect(log.first?.text.contains("warning: header Subject: first??second-part from ") == true)
    }

    @Test func bodyChecksSizeLimitStopsLooking() {
        let (_, cleanup, _) = run("Subject: s\n\n0123456789\nbad\n", body: [("bad", "REJECT")], bodyLimit: 11)
        #expect(cleanup.error == nil, "the line starts at body offset 11, beyond the limit")
        let (_, within, _) = run("Subject: s\n\n0123456789\nbad\n", body: [("bad", "REJECT")], bodyLimit: 12)
        #expect(within.error != nil)
    }

    @Test func lookupErrorsDeferTheMessage() {
        struct Broken: Error {}
        let checks = ContentChecks(header: ContentCheckTable(parameter: "header_checks") { _ in throw Broken() })
        var cleanup = Cleanup(
            queueID: id, sender: MailAddress("a@b.example"), arrivalSeconds: 0,
            options: CleanupOptions(myHostname: "m", addMissingHeaders: false),
            inspector: ContentInspector(checks: checks, queueID: id, origin: origin))
        var out: [UInt8] = []
        cleanup.process(line: Array("Subject: x".utf8), into: &out)
        cleanup.finish(into: &out)
        #expect(cleanup.error?.reply == "451 4.3.0 Error: queue file write error")
        #expect(cleanup.takeLogLines().first?.text
            == "E93D0F786D2: header_checks map lookup problem -- message not accepted, try again later")
    }

    /// Content-Type and MIME-Version in the message header go to mime_header_checks; part headers too;
    /// headers of an attached message to nested_header_checks; boundaries and part bodies to body_checks.
    @Test func mimeStructureSelectsTheTables() {
        let message = """
            Subject: top
            MIME-Version: 1.0
            Content-Type: multipart/mixed;
            \tboundary="b1"

            preamble
            --b1
            Content-Type: text/plain

            part one text
            --b1
            Content-Type: message/rfc822

            Subject: inner subject
            Content-Type: text/plain

            inner body
            --b1--
            epilogue

            """
        let rules = [("subject", "WARN"), ("content-type", "WARN"), ("mime-version", "WARN")]
        let (out, _, log) = run(
            message, header: rules, body: [("text", "WARN"), ("inner body", "WARN"), ("--b1", "WARN")],
            mime: rules, nested: rules)
        #expect(out == message, "nothing changed")
        let seen = log.map { line -> String in
            let text = line.text.dropFirst("E93D0F786D2: warning: ".count)
            return String(text[..<(text.range(of: "; from=<")?.lowerBound ?? text.endIndex)])
        }
        let suffix = " from client.example[192.0.2.1]"
        #expect(seen == [
            "header Subject: top", "header MIME-Version: 1.0", "header Content-Type: multipart/mixed;??boundary=\"b1\"",
            "body --b1", "header Content-Type: text/plain", "body part one text", "body --b1",
            "header Content-Type: message/rfc822", "header Subject: inner subject", "header Content-Type: text/plain",
            "body inner body", "body --b1--",
        ].map { $0 + suffix })
        // Which table saw what: only mime_header_checks for Content-*, only nested_header_checks for the inner Subject.
        let (_, _, mimeOnly) = run(message, header: [("subject", "WARN")], mime: [], nested: [])
        #expect(mimeOnly.count == 1, "the nested Subject: is not checked by header_checks")
        let (_, _, nestedOnly) = run(message, header: [("x-none", "WARN")], mime: [], nested: [("subject", "WARN")])
        #expect(nestedOnly.map { $0.text.contains("inner subject") } == [true])
    }
}
