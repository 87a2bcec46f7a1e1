import Foundation
import Glibc
import Testing

extension DaemonEndToEnd {
    /// `mail` / `mail -f` reading a mailbox with commands piped to stdin, as scripts drive bsd-mailx. The
    /// expected output was taken from Debian's bsd-mailx 8.1.2 run on the same mailbox.
    @Suite struct MailReader {
        static let mailbox = """
            From alice@example.com  Mon Nov 30 10:00:00 2026
            Return-Path: <alice@example.com>
            Delivered-To: nobody@localhost
            From: Alice Example <alice@example.com>
            To: nobody@localhost
            Subject: First message
            Message-Id: <1@example.com>

            Hello there.
            >From the start.

            From bob@example.org  Mon Nov 30 11:30:05 2026
            From: bob@example.org
            Subject: Second one with a rather long subject line that keeps going and going beyond the width
            Status: RO

            Line 1

            From MAILER-DAEMON  Tue Dec  1 09:05:00 2026
            From: Mail Delivery System <MAILER-DAEMON@host>

            No subject here.

            """ + "\n"

        static let summary = """
            Mail version 8.1.2 01/15/2001.  Type ? for help.
            "BOX": 3 messages 2 new
            >N  1 alice@example.com  Mon Nov 30 10:00   11/257   First message
                2 bob@example.org    Mon Nov 30 11:30    7/185   Second one with a rather lo
             N  3 MAILER-DAEMON@hos  Tue Dec  1 09:05    5/112   

            """

        private func contents(_ path: String) -> String {
            FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? "<missing>"
        }

        @Test func folderReadPrintDeleteAndQuitRewritesTheFile() throws {
            try TernInstance.with(start: false) { instance in
                let box = instance.root + "/box"
                FileManager.default.createFile(atPath: box, contents: Data(Self.mailbox.utf8))
                let result = try instance.tern(["mail", "-f", box], timeout: 20, input: "1\nd 2\nh\nq\n")
                #expect(result.status == 0, "\(result)")
                let expected =
                    Self.summary.replacingOccurrences(of: "BOX", with: box) + """
                        Message 1:
                        From alice@example.com  Mon Nov 30 10:00:00 2026
                        From: Alice Example <alice@example.com>
                        To: nobody@localhost
                        Subject: First message

                        Hello there.
                        >From the start.

                            1 alice@example.com  Mon Nov 30 10:00   11/257   First message
                        >N  3 MAILER-DAEMON@hos  Tue Dec  1 09:05    5/112   
                        "\(box)" complete

                        """
                #expect(result.stdout == expected)
                let rewritten = contents(box)
                #expect(rewritten.contains("Message-Id: <1@example.com>\nStatus: RO\n\nHello there.\n"), "\(rewritten)")
                #expect(!rewritten.contains("From bob@example.org"), "message 2 was deleted")
                #expect(rewritten.hasSuffix("<MAILER-DAEMON@host>\nStatus: O\n\nNo subject here.\n\n"), "\(rewritten)")
                #expect(access(box + ".lock", F_OK) != 0)
            }
        }

        @Test func xitLeavesTheFolderAndSaveAppendsInMboxFormat() throws {
            try TernInstance.with(start: false) { instance in
                let box = instance.root + "/box"
                let saved = instance.root + "/saved"
                FileManager.default.createFile(atPath: box, contents: Data(Self.mailbox.utf8))
                let result = try instance.tern(
                    ["mail", "-f", box], timeout: 20, input: "s 3 \(saved)\ns 2 \(saved)\nfoo\nd 9\nx\n")
                #expect(result.status == 0, "\(result)")
                #expect(
                    result.stdout.hasSuffix(
                        "\"\(saved)\" [New file]\n\"\(saved)\" [Appended]\n"
                            + "Unknown command: \"foo\"\n9: Invalid message number\n"),
                    "\(result)")
                #expect(contents(box) == Self.mailbox)
                #expect(contents(saved).hasPrefix("From MAILER-DAEMON  Tue Dec  1 09:05:00 2026\n"))
                #expect(contents(saved).contains("<MAILER-DAEMON@host>\nStatus: R\n\nNo subject here.\n\nFrom bob@"))
            }
        }

        @Test func systemMailboxMovesReadMessagesToMboxAndKeepsNewMail() throws {
            try TernInstance.with(start: false) { instance in
                let spool = instance.root + "/spool-nobody"
                let home = instance.root + "/home"
                try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
                FileManager.default.createFile(atPath: spool, contents: Data(Self.mailbox.utf8))
                let environment = ["MAIL": spool, "HOME": home, "MBOX": home + "/mbox"]
                let result = try instance.tern(["mail"], timeout: 20, input: "1\nd 3\n", environment: environment)
                #expect(result.status == 0, "\(result)")
                #expect(result.stdout.hasPrefix(Self.summary.replacingOccurrences(of: "BOX", with: spool)))
                #expect(result.stdout.hasSuffix("Saved 1 message in \(home)/mbox\nHeld 1 message in \(spool)\n"))
                #expect(contents(home + "/mbox").hasPrefix("From alice@example.com  Mon Nov 30 10:00:00 2026\n"))
                #expect(contents(spool).hasPrefix("From bob@example.org"), "message 2 was never looked at: held")

                FileManager.default.createFile(atPath: spool, contents: Data())
                let empty = try instance.tern(["mail"], timeout: 20, input: "", environment: environment)
                #expect(empty.status == 1)
                #expect(empty.stderr.hasPrefix("No mail for "), "\(empty)")
            }
        }
    }
}
