import Foundation
import TernIMAP
import TernMailbox
import Testing

/// RFC 5464 METADATA, in the replies of a Dovecot 2.3.19 with imap_metadata = yes and a file dict (checked
/// against one), and its file in Dovecot's format.
@Suite struct IMAPMailSessionMetadataTests {
    @Test func withoutTheSettingTheCommandsAreUnknown() throws {
        let f = try SessionFixture()
        #expect(
            f.send("a GETMETADATA \"\" /private/comment\r\n")
                == "a BAD Error in IMAP command GETMETADATA: Unknown command" + done)
    }

    @Test func setAndGetAsDovecotDoes() throws {
        let f = try SessionFixture(metadata: true)
        #expect(f.send("b GETMETADATA \"\" /private/comment\r\n") == "* METADATA \"\" (/private/comment NIL)\r\nb OK Getmetadata completed" + done)
        #expect(f.send("c SETMETADATA \"\" (/private/comment \"my comment\")\r\n") == "c OK Setmetadata completed" + done)
        #expect(
            f.send("e GETMETADATA \"\" (/private/comment /shared/comment)\r\n")
                == "* METADATA \"\" (/private/comment {10}\r\nmy comment /shared/comment NIL)\r\ne OK Getmetadata completed" + done)
        #expect(
            f.send("f SETMETADATA INBOX (/private/comment {5+}\r\nhello /shared/comment NIL /private/multi {11+}\r\nline1\nline2 /shared/s1 \"sv\" /private/a/b \"ab\" /private/a/b/c \"abc\")\r\n")
                == "f OK Setmetadata completed" + done)
        #expect(f.send("g GETMETADATA INBOX (/private/comment)\r\n") == "* METADATA INBOX (/private/comment {5}\r\nhello)\r\ng OK Getmetadata completed" + done)
        #expect(
            f.send("c GETMETADATA (DEPTH 1) INBOX (/private/a)\r\n")
                == "* METADATA INBOX (/private/a/b {2}\r\nab)\r\nc OK Getmetadata completed" + done)
        #expect(
            f.send("d GETMETADATA (DEPTH infinity) INBOX (/private)\r\n")
                == "* METADATA INBOX (/private/comment {5}\r\nhello /private/multi {11}\r\nline1\nline2 /private/a/b {2}\r\nab /private/a/b/c {3}\r\nabc)\r\nd OK Getmetadata completed" + done)
        #expect(f.send("i GETMETADATA (MAXSIZE 3) INBOX /private/comment\r\n") == "i OK [METADATA LONGENTRIES 5] Getmetadata completed" + done)
        #expect(f.send("n SETMETADATA \"\" (/private/comment NIL)\r\n") == "n OK Setmetadata completed" + done)
        #expect(f.send("o GETMETADATA \"\" /private/comment\r\n") == "* METADATA \"\" (/private/comment NIL)\r\no OK Getmetadata completed" + done)
        #expect(f.send("m GETMETADATA nosuch /private/comment\r\n") == "m NO Mailbox doesn't exist: nosuch" + done)
        // Dovecot's dict-file: key and value lines, the newline tab-escaped, server entries under INBOX's GUID.
        let guid = try f.store.openMailbox("INBOX", readOnly: true).guid
        let file = try String(contentsOfFile: (f.root as NSString).deletingLastPathComponent + "/dovecot-attributes", encoding: .utf8)
        #expect(file.hasPrefix("priv/\(guid)/comment\nhello\npriv/\(guid)/multi\nline1\u{1}nline2\nshared/\(guid)/s1\nsv\n"), "\(file)")
    }

    @Test func entryNamesAreCheckedAsDovecotChecksThem() throws {
        let f = try SessionFixture(metadata: true)
        let cases = [
            ("j SETMETADATA \"\" (/foo \"x\")", "SETMETADATA: Entry name must begin with /private or /shared"),
            ("f GETMETADATA INBOX /private/a*", "GETMETADATA: Entry name can't contain '*'"),
            ("g SETMETADATA INBOX (/private/x/ \"v\")", "SETMETADATA: Entry name can't end with '/'"),
            ("h SETMETADATA INBOX (/private//x \"v\")", "SETMETADATA: Entry name can't contain consecutive '/'"),
            ("j GETMETADATA INBOX", "GETMETADATA: Invalid arguments"),
            ("k SETMETADATA INBOX /private/x \"v\"", "SETMETADATA: Invalid arguments"),
            ("m GETMETADATA (FOO 1) INBOX /private/a", "GETMETADATA: Unknown option"),
        ]
        for (command, error) in cases {
            let tag = command.prefix { $0 != " " }
            #expect(f.send(command + "\r\n") == "\(tag) BAD Error in IMAP command \(error)" + done)
        }
    }

    /// RFC 5464 §3.2/§3.3 with RFC 4314, as Dovecot 2.3.19 answers (owner's rights written by hand): a
    /// mailbox's entries need l (else the mailbox does not exist) and one of r s w i p (else NOPERM), for
    /// GETMETADATA and SETMETADATA alike, private or shared; server entries need no rights; bad entry names
    /// are refused first.
    @Test func mailboxEntriesNeedRights() throws {
        let f = try SessionFixture(metadata: true, acl: ACLSettings())
        f.send("c CREATE Work\r\n")
        func owner(_ letters: String) throws {
            try Data("owner \(letters)\n".utf8).write(to: URL(fileURLWithPath: f.root + "/.Work/dovecot-acl"))
        }
        for letters in ["lr", "ls", "lw", "li", "lp", "lwstipekxa"] {
            try owner(letters)
            #expect(
                f.send("a2 GETMETADATA Work /private/comment\r\n")
                    == "* METADATA Work (/private/comment NIL)\r\na2 OK Getmetadata completed" + done, "\(letters)")
            #expect(f.send("a3 SETMETADATA Work (/shared/comment \"s\")\r\n") == "a3 OK Setmetadata completed" + done)
        }
        for letters in ["l", "le", "lk", "lt", "lx", "la"] {
            try owner(letters)
            #expect(f.send("a2 GETMETADATA Work /private/comment\r\n") == "a2 NO [NOPERM] Permission denied" + done)
            #expect(f.send("a3 GETMETADATA Work /shared/comment\r\n") == "a3 NO [NOPERM] Permission denied" + done)
            #expect(
                f.send("a5 SETMETADATA Work (/private/comment \"p\")\r\n") == "a5 NO [NOPERM] Permission denied" + done)
            #expect(
                f.send("a6 SETMETADATA Work (/shared/comment \"s\")\r\n") == "a6 NO [NOPERM] Permission denied" + done)
        }
        #expect(
            f.send("a7 SETMETADATA Work (/private/x/ \"v\")\r\n")
                == "a7 BAD Error in IMAP command SETMETADATA: Entry name can't end with '/'" + done)
        for letters in ["r", "w", "a"] {
            try owner(letters)
            #expect(f.send("a2 GETMETADATA Work /private/comment\r\n") == "a2 NO Mailbox doesn't exist: Work" + done)
            #expect(
                f.send("a3 SETMETADATA Work (/private/comment NIL)\r\n") == "a3 NO Mailbox doesn't exist: Work" + done)
        }
        try Data("owner a\n".utf8).write(to: URL(fileURLWithPath: f.root + "/dovecot-acl"))
        #expect(
            f.send("b1 GETMETADATA \"\" /private/comment\r\n")
                == "* METADATA \"\" (/private/comment NIL)\r\nb1 OK Getmetadata completed" + done)
        #expect(f.send("b2 GETMETADATA INBOX /shared/comment\r\n") == "b2 NO Mailbox doesn't exist: INBOX" + done)
    }
}
