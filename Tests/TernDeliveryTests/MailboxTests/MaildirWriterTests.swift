import Glibc
import Testing

@testable import TernDelivery

@Suite struct MaildirWriterTests {
    let message = "From: a@b\nSubject: hello\n\nFrom the body\nlast line without newline"

    @Test func createsLayoutAndNamesFileLikePostfix() throws {
        let root = MailboxTestSupport.makeDirectory()
        defer { MailboxTestSupport.remove(root) }
        let maildir = root + "/Maildir/"
        let fd = MailboxTestSupport.contentFD(message)
        defer { close(fd) }
        let header = Array("Return-Path: <a@b>\nDelivered-To: u@x\n".utf8)

        let path = try MaildirWriter(hostname: "mail.acc.test").deliver(to: maildir, header: header, contentFD: fd)

        for sub in ["tmp", "new", "cur"] {
            #expect(MailboxTestSupport.mode(root + "/Maildir/" + sub) == 0o700)
        }
        #expect(path.hasPrefix(root + "/Maildir/new/"))
        let name = String(path.split(separator: "/").last!)
        #expect(name.wholeMatch(of: /\d{9,}\.[A-Za-z0-9_,=-]+(\.[A-Za-z0-9_-]+)+/) != nil)
        #expect(name.wholeMatch(of: /\d+\.V[0-9a-f]+I[0-9a-f]+M\d+\.mail\.acc\.test/) != nil)
        #expect(!name.contains(":"))
        #expect(MailboxTestSupport.mode(path) == 0o600)
        #expect(MailboxTestSupport.files(in: root + "/Maildir/tmp").isEmpty)
        // Content is copied as is (no >From quoting in Maildir), an incomplete last line gets its newline.
        #expect(MailboxTestSupport.read(path) == "Return-Path: <a@b>\nDelivered-To: u@x\n" + message + "\n")
    }

    @Test func twoDeliveriesGetDistinctNames() throws {
        let root = MailboxTestSupport.makeDirectory()
        defer { MailboxTestSupport.remove(root) }
        let writer = MaildirWriter(hostname: "h")
        var paths: [String] = []
        for index in 0..<2 {
            let fd = MailboxTestSupport.contentFD("Subject: \(index)\n\nx\n")
            paths.append(try writer.deliver(to: root + "/Maildir", header: [], contentFD: fd))
            close(fd)
        }
        #expect(Set(paths).count == 2)
        #expect(MailboxTestSupport.files(in: root + "/Maildir/new").count == 2)
    }

    @Test func largeMessageIsCopiedExactly() throws {
        let root = MailboxTestSupport.makeDirectory()
        defer { MailboxTestSupport.remove(root) }
        // Several copy chunks, with lines that straddle chunk boundaries.
        let body =
            (0..<20_000).map { "line \($0) " + String(repeating: "z", count: $0 % 50) }.joined(separator: "\n") + "\n"
        let fd = MailboxTestSupport.contentFD(body)
        defer { close(fd) }
        let path = try MaildirWriter(hostname: "h").deliver(to: root + "/Maildir", header: [], contentFD: fd)
        #expect(MailboxTestSupport.read(path) == body)
    }

    @Test func sizeLimitRefusesAndRemovesTmpFile() throws {
        let root = MailboxTestSupport.makeDirectory()
        defer { MailboxTestSupport.remove(root) }
        let fd = MailboxTestSupport.contentFD(String(repeating: "y", count: 2000) + "\n")
        defer { close(fd) }
        #expect(throws: DeliveryFailure(dsn: "5.2.2", text: "error writing message: File too large")) {
            _ = try MaildirWriter(hostname: "h", sizeLimit: 1000).deliver(
                to: root + "/Maildir", header: [], contentFD: fd)
        }
        #expect(MailboxTestSupport.files(in: root + "/Maildir/tmp").isEmpty)
        #expect(MailboxTestSupport.files(in: root + "/Maildir/new").isEmpty)
    }

    @Test func uncreatableMaildirIsDeferredWithPostfixText() throws {
        let root = MailboxTestSupport.makeDirectory()
        defer { MailboxTestSupport.remove(root) }
        // A regular file where the Maildir should be: mkdir fails with ENOTDIR.
        let blocker = root + "/Maildir"
        close(open(blocker, O_CREAT | O_WRONLY, 0o600))
        let fd = MailboxTestSupport.contentFD("x\n")
        defer { close(fd) }
        do {
            _ = try MaildirWriter(hostname: "h").deliver(to: blocker + "/", header: [], contentFD: fd)
            Issue.record("delivery into a file should fail")
        } catch {
            #expect(error.dsn == "4.2.0")
            #expect(error.text.hasPrefix("create maildir file \(blocker)/tmp/"))
            #expect(error.text.hasSuffix(": Not a directory"))
        }
    }

    @Test func hostnameIsMadeSafeForMaildirNames() {
        #expect(MaildirWriter.safeHostname("a/b:c") == "a\\057b\\072c")
        #expect(!MaildirWriter.safeHostname("").isEmpty)
    }
}
