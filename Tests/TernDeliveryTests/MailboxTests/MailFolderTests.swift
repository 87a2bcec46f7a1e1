import Foundation
import Glibc
import Testing

@testable import TernDelivery

@Suite struct MailFolderTests {
    static let twoMessages = """
        From alice@example.com  Mon Nov 30 10:00:00 2026
        Return-Path: <alice@example.com>
        From: Alice Example <alice@example.com>
        Subject: First
         folded
        Date: Mon, 30 Nov 2026 10:00:00 +0000

        Hello.
        >From the start.

        From bob@example.org  Mon Nov 30 11:30:05 2026
        From: bob@example.org
        Subject: Second
        Status: RO

        Line 1

        """ + "\n"

    private func folder(_ text: String, in dir: String) -> MailFolder {
        let path = dir + "/box"
        write(text, to: path)
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        return MailFolder.scanMbox(path: path, fd: fd, size: Int(lseek(fd, 0, SEEK_END)))
    }

    private func write(_ text: String, to path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        _ = Array(text.utf8).withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    private func read(_ path: String) -> String {
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        var reader = FolderLineReader(fd: fd)
        var text = ""
        while let piece = reader.next() { text += String(decoding: piece.bytes, as: UTF8.self) }
        return text
    }

    @Test func scansMessagesWithSizesLinesAndSummaryFields() {
        let dir = MailboxTestSupport.makeDirectory()
        defer { MailboxTestSupport.remove(dir) }
        let folder = folder(Self.twoMessages, in: dir)
        #expect(folder.messages.count == 2)
        #expect(folder.preambleLength == 0)
        let first = folder.messages[0]
        #expect(first.fromLine == "From alice@example.com  Mon Nov 30 10:00:00 2026")
        #expect(first.lines == 10)
        #expect(first.subject == "First folded")
        #expect(first.from == "Alice Example <alice@example.com>")
        #expect(first.status == nil)
        #expect(folder.messages[1].status == "RO")
        #expect(folder.messages[1].offset == first.end)
        #expect(folder.messages[1].end == Self.twoMessages.utf8.count)
    }

    @Test func fromLinesInsideABodyDoNotStartMessages() {
        let dir = MailboxTestSupport.makeDirectory()
        defer { MailboxTestSupport.remove(dir) }
        let folder = folder("From a  Mon Nov 30 10:00:00 2026\n\nbody\nFrom b  not a separator\n", in: dir)
        #expect(folder.messages.count == 1)
    }

    @Test func brokenInputNeverCrashesAndKeepsItsBytes() {
        let dir = MailboxTestSupport.makeDirectory()
        defer { MailboxTestSupport.remove(dir) }
        #expect(folder("no From line at all\n\nbody\n", in: dir).messages.isEmpty)
        let junk = String(decoding: (0..<50_000).map { UInt8(truncatingIfNeeded: $0 &* 7919) }, as: UTF8.self)
        _ = folder(junk, in: dir)
        let huge = "From x  Mon Nov 30 10:00:00 2026\nSubject: " + String(repeating: "a", count: 300_000) + "\n\nb\n"
        let scanned = folder("preamble\n\n" + huge, in: dir)
        #expect(scanned.preambleLength == 10)
        #expect(scanned.messages.count == 1)
        #expect(scanned.messages[0].lines == 4)
        #expect(scanned.messages[0].subject?.count == MailFolder.maxValue)
    }

    @Test func rewriteKeepsMessagesWithNewStatusAndMailThatArrivedMeanwhile() throws {
        let dir = MailboxTestSupport.makeDirectory()
        defer { MailboxTestSupport.remove(dir) }
        let scanned = folder(Self.twoMessages, in: dir)
        let late = "From carol@example.net  Tue Dec  1 09:00:00 2026\nSubject: late\n\nnew\n\n"
        let fd = open(scanned.path, O_WRONLY | O_APPEND)
        _ = Array(late.utf8).withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        let writer = FolderWriter(lockPolicy: MailboxTestSupport.fastLocks)
        let arrived = try writer.rewrite(scanned, keeping: [FolderWriter.Item(scanned.messages[0], status: "RO")])
        #expect(arrived)
        let first = String(decoding: Array(Self.twoMessages.utf8)[..<scanned.messages[0].end], as: UTF8.self)
        let withStatus = first.replacingOccurrences(of: "\n\nHello", with: "\nStatus: RO\n\nHello")
        #expect(read(scanned.path) == withStatus + late)
        #expect(access(scanned.path + ".lock", F_OK) != 0, "the dot-lock is gone")
    }

    @Test func appendReplacesStatusAndWriteKeepsOnlyTheBody() throws {
        let dir = MailboxTestSupport.makeDirectory()
        defer { MailboxTestSupport.remove(dir) }
        let scanned = folder(Self.twoMessages, in: dir)
        let writer = FolderWriter(lockPolicy: MailboxTestSupport.fastLocks)
        #expect(try !writer.append([FolderWriter.Item(scanned.messages[1], status: "R")], of: scanned, to: dir + "/s"))
        #expect(
            read(dir + "/s") == "From bob@example.org  Mon Nov 30 11:30:05 2026\nFrom: bob@example.org\n"
                + "Subject: Second\nStatus: R\n\nLine 1\n\n")
        #expect(
            try writer.append(
                [FolderWriter.Item(scanned.messages[0], status: nil)], of: scanned, to: dir + "/w", bodyOnly: true)
                == false)
        #expect(read(dir + "/w") == "Hello.\n>From the start.\n")
    }

    @Test func maildirMessagesAreListedAndFlagsFollowTheQuit() throws {
        let dir = MailboxTestSupport.makeDirectory()
        defer { MailboxTestSupport.remove(dir) }
        for sub in ["cur", "new", "tmp"] { mkdir(dir + "/" + sub, 0o700) }
        write("Return-Path: <a@example.com>\nSubject: one\n\nFrom here\n", to: dir + "/new/1.a.host")
        write("Subject: two\n\nseen\n", to: dir + "/cur/2.b.host:2,S")
        #expect(MailFolder.isMaildir(dir))
        let folder = try MailFolder.read(path: dir, lockPolicy: MailboxTestSupport.fastLocks)
        #expect(folder.messages.map(\.subject) == ["one", "two"] || folder.messages.map(\.subject) == ["two", "one"])
        let one = try #require(folder.messages.first { $0.subject == "one" })
        #expect(one.fromLine.hasPrefix("From a@example.com  "))
        #expect(one.status == nil)
        #expect(folder.messages.first { $0.subject == "two" }?.status == "RO")
        let writer = FolderWriter(lockPolicy: MailboxTestSupport.fastLocks)
        try writer.append([FolderWriter.Item(one, status: "RO")], of: folder, to: dir + "/saved")
        #expect(read(dir + "/saved").hasSuffix("Subject: one\nStatus: RO\n\n>From here\n\n"))
        try writer.rewriteMaildir(folder, keeping: [FolderWriter.Item(one, status: "RO")])
        #expect(access(dir + "/cur/1.a.host:2,S", F_OK) == 0)
        #expect(access(dir + "/cur/2.b.host:2,S", F_OK) != 0, "a message not kept is removed")
    }
}
