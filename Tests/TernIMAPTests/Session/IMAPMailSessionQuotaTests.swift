import Foundation
import TernIMAP
import TernMailbox
import Testing

/// RFC 9208 QUOTA and its enforcement, in the replies of a Dovecot 2.3.19 with `quota = maildir:User quota`,
/// `quota_rule = *:storage=1K`, `quota_rule2 = Trash:storage=+1K`, `quota_rule3 = *:messages=5` and imap_quota
/// (captured from one on loopback).
@Suite struct IMAPMailSessionQuotaTests {
    static let plugin = [
        "quota": "maildir:User quota", "quota_rule": "*:storage=1K", "quota_rule2": "Trash:storage=+1K",
        "quota_rule3": "*:messages=5",
    ]

    static func message(_ fill: Int) -> String { "Subject: x\r\n\r\n" + String(repeating: "a", count: fill) + "\r\n" }

    @Test func dovecotTranscript() throws {
        let f = try SessionFixture(mailboxes: [MailboxSettings(name: "Trash", specialUse: ["\\Trash"], auto: .create)], quota: Self.plugin)
        try f.store.applyAutoSettings()
        let quota = "* QUOTA \"User quota\" (STORAGE 0 1 MESSAGE 0 5)\r\n"
        #expect(f.send("c GETQUOTAROOT INBOX\r\n") == "* QUOTAROOT INBOX \"User quota\"\r\n" + quota + "c OK Getquotaroot completed" + done)
        #expect(f.send("d GETQUOTAROOT Trash\r\n") == "* QUOTAROOT Trash \"User quota\"\r\n" + quota + "d OK Getquotaroot completed" + done)
        #expect(f.send("e GETQUOTA \"User quota\"\r\n") == quota + "e OK Getquota completed" + done)
        #expect(f.send("f GETQUOTA \"\"\r\n") == "f NO Quota root doesn't exist" + done)
        #expect(f.send("g GETQUOTA foo\r\n") == "g NO Quota root doesn't exist" + done)
        #expect(f.send("h SETQUOTA \"User quota\" (STORAGE 100)\r\n") == "h NO Quota can be changed only by admin" + done)
        #expect(f.send("i GETQUOTAROOT nonexist\r\n") == "* QUOTAROOT nonexist \"User quota\"\r\n" + quota + "i OK Getquotaroot completed" + done)
        #expect(f.send("j GETQUOTAROOT\r\n") == "j BAD Error in IMAP command GETQUOTAROOT: Missing arguments" + done)
        #expect(f.send("k GETQUOTA\r\n") == "k BAD Error in IMAP command GETQUOTA: Missing arguments" + done)
        #expect(f.send("l SETQUOTA \"\" ()\r\n") == "l NO Quota can be changed only by admin" + done)
        #expect(f.send("o SETQUOTA \"User quota\"\r\n") == "o BAD Error in IMAP command SETQUOTA: Missing arguments" + done)
        #expect(f.send("h SETQUOTA \"User quota\" x\r\n") == "h BAD Error in IMAP command SETQUOTA: Invalid arguments" + done)
        #expect(f.send("f GETQUOTA (a)\r\n") == "f BAD Error in IMAP command GETQUOTA: Invalid arguments" + done)
        #expect(f.send("p GETQUOTA \"User quota\" extra\r\n") == quota + "p OK Getquota completed" + done)
        #expect(
            f.send("g GETQUOTAROOT \"Foo Bar\"\r\n")
                == "* QUOTAROOT \"Foo Bar\" \"User quota\"\r\n" + quota + "g OK Getquotaroot completed" + done)
    }

    /// APPEND, COPY and MOVE over the limits as Dovecot answers them; usage in kilobytes rounded up.
    @Test func enforcementAsDovecot() throws {
        let f = try SessionFixture(mailboxes: [MailboxSettings(name: "Trash", auto: .create)], quota: Self.plugin)
        try f.store.applyAutoSettings()
        let body = Self.message(580)
        #expect(f.send("b APPEND INBOX {\(body.utf8.count)+}\r\n\(body)\r\n").contains("b OK [APPENDUID "))
        #expect(
            f.send("c GETQUOTAROOT INBOX\r\n")
                == "* QUOTAROOT INBOX \"User quota\"\r\n* QUOTA \"User quota\" (STORAGE 1 1 MESSAGE 1 5)\r\nc OK Getquotaroot completed" + done)
        let over = "NO [OVERQUOTA] Quota exceeded (mailbox for user is full)" + done
        #expect(f.send("d APPEND INBOX {\(body.utf8.count)+}\r\n\(body)\r\n") == "d " + over)
        // A synchronizing literal is refused before the client sends it: no `+ OK`.
        #expect(f.send("e APPEND INBOX {\(body.utf8.count)}\r\n") == "e " + over)
        f.send("f SELECT INBOX\r\n")
        #expect(f.send("g COPY 1 INBOX\r\n") == "g " + over)
        // Trash's rule allows 1K more.
        #expect(f.send("h COPY 1 Trash\r\n").contains("h OK [COPYUID "))
        #expect(f.send("i GETQUOTA \"User quota\"\r\n").hasPrefix("* QUOTA \"User quota\" (STORAGE 2 1 MESSAGE 2 5)\r\n"))
        // A MOVE does not change the usage and is not checked.
        #expect(f.send("j MOVE 1 Trash\r\n").contains("j OK Move completed"))
        f.send("k SELECT Trash\r\n")
        #expect(f.send("l MOVE 1 INBOX\r\n").contains("l OK Move completed"))
        #expect(try String(contentsOfFile: f.root + "/maildirsize", encoding: .utf8).hasPrefix("1024S,5C\n"))
        // Expunging makes room again.
        f.send("m STORE 1 +FLAGS \\Deleted\r\n")
        f.send("n EXPUNGE\r\n")
        #expect(f.send("o GETQUOTA \"User quota\"\r\n").hasPrefix("* QUOTA \"User quota\" (STORAGE 1 1 MESSAGE 1 5)\r\n"))
        let small = Self.message(200)
        #expect(f.send("p APPEND INBOX {\(small.utf8.count)+}\r\n\(small)\r\n").contains("p OK [APPENDUID "))
    }

    @Test func messageCountAndExceededMessage() throws {
        var plugin = ["quota": "count:User quota", "quota_rule": "*:messages=1"]
        plugin["quota_exceeded_message"] = "Mailbox full, sorry"
        let f = try SessionFixture(quota: plugin)
        #expect(f.send("a APPEND INBOX {3+}\r\nx\r\n\r\n").contains("a OK [APPENDUID "))
        #expect(f.send("b APPEND INBOX {3+}\r\nx\r\n\r\n") == "b NO [OVERQUOTA] Mailbox full, sorry" + done)
        #expect(
            f.send("c GETQUOTAROOT INBOX\r\n")
                == "* QUOTAROOT INBOX \"User quota\"\r\n* QUOTA \"User quota\" (MESSAGE 1 1)\r\nc OK Getquotaroot completed" + done)
        // The count backend keeps no maildirsize.
        #expect(!FileManager.default.fileExists(atPath: f.root + "/maildirsize"))
    }

    @Test func withoutLimitsThereIsNoQuota() throws {
        let f = try SessionFixture(quota: ["quota": "maildir:User quota"])
        #expect(f.send("b GETQUOTAROOT INBOX\r\n") == "b OK No quota" + done)
        #expect(f.send("c GETQUOTA \"User quota\"\r\n") == "c OK Getquota completed" + done)
    }

    @Test func withoutImapQuotaTheCommandsAreUnknownButQuotaIsEnforced() throws {
        let f = try SessionFixture(quota: ["quota": "count:User quota", "quota_rule": "*:messages=1"], quotaCommands: false)
        #expect(f.send("a GETQUOTAROOT INBOX\r\n") == "a BAD Error in IMAP command GETQUOTAROOT: Unknown command" + done)
        #expect(f.send("b SETQUOTA x ()\r\n") == "b BAD Error in IMAP command SETQUOTA: Unknown command" + done)
        f.send("c APPEND INBOX {3+}\r\nx\r\n\r\n")
        #expect(f.send("d APPEND INBOX {3+}\r\nx\r\n\r\n").hasPrefix("d NO [OVERQUOTA] "))
    }

    /// RFC 9208 §4: without the quota plugin none of this exists.
    @Test func withoutQuotaTheCommandsAreUnknown() throws {
        let f = try SessionFixture()
        #expect(f.send("a GETQUOTA \"\"\r\n") == "a BAD Error in IMAP command GETQUOTA: Unknown command" + done)
    }

    /// MULTIAPPEND counts all its messages; none is kept when they do not fit.
    @Test func multiappendIsAllOrNothing() throws {
        let f = try SessionFixture(quota: ["quota": "maildir:User quota", "quota_rule": "*:messages=2"])
        #expect(f.send("a APPEND INBOX {3+}\r\nx\r\n {3+}\r\ny\r\n {3+}\r\nz\r\n\r\n").hasPrefix("a NO [OVERQUOTA] "))
        #expect(f.send("b GETQUOTA \"User quota\"\r\n").hasPrefix("* QUOTA \"User quota\" (MESSAGE 0 2)\r\n"))
        #expect(f.send("c APPEND INBOX {3+}\r\nx\r\n {3+}\r\ny\r\n\r\n").contains("c OK [APPENDUID "))
    }

    /// quota_warning runs the service's program with the arguments after the service name, once, when usage
    /// crosses the limit upwards.
    @Test func warningRunsWhenUsageCrossesUpwards() throws {
        let base = NSTemporaryDirectory() + "tern-quota-warning-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let script = base + "/warn.sh"
        try "#!/bin/sh\necho \"$@\" >> \(base)/log\n".write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        var plugin = Self.plugin
        plugin["quota_warning"] = "storage=50% quota-warning 50 carla"
        plugin["quota_warning2"] = "messages=40% quota-warning messages carla"
        let f = try SessionFixture(quota: plugin, warningPrograms: ["quota-warning": [script]])
        f.send("a APPEND INBOX {3+}\r\nx\r\n\r\n")
        #expect(!FileManager.default.fileExists(atPath: base + "/log"))
        let body = Self.message(580)
        f.send("b APPEND INBOX {\(body.utf8.count)+}\r\n\(body)\r\n")
        f.send("c APPEND INBOX {3+}\r\ny\r\n\r\n")
        // The first matching warning only (storage crossed with b; messages 2 of 5 = 40% too, but later rules wait).
        #expect(try String(contentsOfFile: base + "/log", encoding: .utf8) == "50 carla\n")
    }
}
