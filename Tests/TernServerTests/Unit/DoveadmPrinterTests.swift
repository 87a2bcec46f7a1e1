import Testing
@testable import TernServer

/// The formatters against output captured from Dovecot 2.3.19's doveadm.
@Suite struct DoveadmPrinterTests {
    static func render(
        _ formatter: DoveadmPrinter.Formatter, _ columns: [DoveadmPrinter.Column],
        _ body: (DoveadmPrinter) -> Void
    ) -> String {
        var bytes: [UInt8] = []
        let printer = DoveadmPrinter(formatter) { bytes += $0 }
        printer.header(columns)
        body(printer)
        printer.flush()
        return String(decoding: bytes, as: UTF8.self)
    }

    static let userColumns: [DoveadmPrinter.Column] = [.init("field"), .init("value", expand: true)]
    static let userRows = ["uid", "65534", "gid", "65534", "home", "/tmp/dva/home/carla", "mail", "maildir:~/Maildir"]

    static func user(_ formatter: DoveadmPrinter.Formatter) -> String {
        render(formatter, userColumns) { printer in userRows.forEach(printer.print) }
    }

    @Test func tabWritesTitlesThenRows() {
        #expect(Self.user(.tab) == "field\tvalue\nuid\t65534\ngid\t65534\nhome\t/tmp/dva/home/carla\nmail\tmaildir:~/Maildir\n")
    }

    @Test func flowWritesKeyValuePairs() {
        #expect(
            Self.user(.flow)
                == "field=uid value=65534\nfield=gid value=65534\nfield=home value=/tmp/dva/home/carla\n"
                + "field=mail value=maildir:~/Maildir\n")
    }

    @Test func tableGivesHalfTheSpareWidthToTheExpandingColumn() {
        let lines = Self.user(.table).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.first.map(String.init) == "field value" + String(repeating: " ", count: 41))
        #expect(lines[3] == "home  /tmp/dva/home/carla" + String(repeating: " ", count: 27))
        #expect(lines.dropLast().allSatisfy { $0.count == 52 })
    }

    @Test func tableWithoutExpandingColumnWidensTheLast() {
        let text = Self.render(.table, [.init("uid"), .init("flags")]) { printer in
            ["1", "\\Recent", "2", "\\Recent"].forEach(printer.print)
        }
        #expect(text == "uid flags" + String(repeating: " ", count: 36) + "\n1   \\Recent" + String(repeating: " ", count: 34)
            + "\n2   \\Recent" + String(repeating: " ", count: 34) + "\n")
    }

    @Test func pagerSeparatesRecordsWithFormFeeds() {
        #expect(
            Self.user(.pager)
                == "field: uid\nvalue: 65534\n\u{0C}\nfield: gid\nvalue: 65534\n\u{0C}\nfield: home\n"
                + "value: /tmp/dva/home/carla\n\u{0C}\nfield: mail\nvalue: maildir:~/Maildir\n")
    }

    @Test func pagerStreamsMessageParts() {
        let text = Self.render(.pager, [.init("hdr"), .init("body")]) { printer in
            printer.stream(Array("From: a@example.com\n\n".utf8))
            printer.stream(Array("body one\n".utf8))
        }
        #expect(text == "hdr:\nFrom: a@example.com\n\nbody:\nbody one\n")
    }

    @Test func flowStreamsAfterTheTitle() {
        let text = Self.render(.flow, [.init("uid"), .init("flags"), .init("hdr")]) { printer in
            printer.print("2")
            printer.print("\\Recent")
            printer.stream(Array("From: b@example.com\nSubject: second\n\n".utf8))
        }
        #expect(text == "uid=2 flags=\\Recent hdr=From: b@example.com\nSubject: second\n\n\n")
    }

    @Test func hiddenTitlesLeaveFlowValuesBare() {
        let text = Self.render(.flow, [.init("mailbox", hideTitle: true), .init("messages"), .init("unseen")]) {
            printer in ["INBOX", "2", "2"].forEach(printer.print)
        }
        #expect(text == "INBOX messages=2 unseen=2\n")
    }

    @Test func emptyTabOutputStillEndsTheTitleLine() {
        #expect(Self.render(.tab, Self.userColumns) { _ in } == "field\tvalue\n")
    }
}
