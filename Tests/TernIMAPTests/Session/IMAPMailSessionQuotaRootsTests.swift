import Foundation
import TernIMAP
import TernMailbox
import Testing

/// Several quota roots, `ignore` rules, the dict backend and downward warnings, in the replies of a Dovecot
/// 2.3.19 with imap_quota and `quota = maildir:User quota`, `quota_rule = *:storage=10K`,
/// `quota_rule2 = Trash:ignore`, `quota_rule3 = Spam:storage=+20M`, `quota2 = count:Archive`,
/// `quota2_rule = *:messages=3`, `quota3 = count:Empty` and `quota4 = count:Hid:hidden` with
/// `quota4_rule = *:messages=100` (captured from one on loopback).
@Suite struct IMAPMailSessionQuotaRootsTests {
    static let plugin = [
        "quota": "maildir:User quota", "quota_rule": "*:storage=10K", "quota_rule2": "Trash:ignore",
        "quota_rule3": "Spam:storage=+20M", "quota2": "count:Archive", "quota2_rule": "*:messages=3",
        "quota3": "count:Empty", "quota4": "count:Hid:hidden", "quota4_rule": "*:messages=100",
    ]

    static func append(_ f: SessionFixture, _ tag: String, _ mailbox: String, fill: Int) -> String {
        let body = "From: a@b\r\nSubject: x\r\n\r\n" + String(repeating: "x", count: fill) + "\r\n"
        return f.send("\(tag) APPEND \(mailbox) {\(body.utf8.count)+}\r\n\(body)\r\n")
    }

    /// Every root that is not hidden is listed, those with limits get a QUOTA line; GETQUOTA answers for
    /// hidden roots too.
    @Test func dovecotTranscript() throws {
        let f = try SessionFixture(mailboxes: [MailboxSettings(name: "Trash", auto: .create)], quota: Self.plugin)
        try f.store.applyAutoSettings()
        let quotas = "* QUOTA \"User quota\" (STORAGE 0 10)\r\n* QUOTA Archive (MESSAGE 0 3)\r\n"
        #expect(
            f.send("a GETQUOTAROOT INBOX\r\n")
                == "* QUOTAROOT INBOX \"User quota\" Archive Empty\r\n" + quotas + "a OK Getquotaroot completed" + done)
        // Trash's `ignore` rule does not hide the root.
        #expect(
            f.send("b GETQUOTAROOT Trash\r\n")
                == "* QUOTAROOT Trash \"User quota\" Archive Empty\r\n" + quotas + "b OK Getquotaroot completed" + done)
        #expect(f.send("c GETQUOTA \"User quota\"\r\n") == "* QUOTA \"User quota\" (STORAGE 0 10)\r\nc OK Getquota completed" + done)
        #expect(f.send("d GETQUOTA Archive\r\n") == "* QUOTA Archive (MESSAGE 0 3)\r\nd OK Getquota completed" + done)
        #expect(f.send("e GETQUOTA Empty\r\n") == "e OK Getquota completed" + done)
        #expect(f.send("f GETQUOTA Hid\r\n") == "* QUOTA Hid (MESSAGE 0 100)\r\nf OK Getquota completed" + done)
        #expect(f.send("g GETQUOTA nope\r\n") == "g NO Quota root doesn't exist" + done)
    }

    /// A save is refused when any root is full: the fourth message goes over Archive's 3 even into Trash,
    /// which "User quota" ignores (and whose saves write no maildirsize line).
    @Test func enforcementChecksEveryRoot() throws {
        let f = try SessionFixture(mailboxes: [MailboxSettings(name: "Trash", auto: .create)], quota: Self.plugin)
        try f.store.applyAutoSettings()
        for tag in ["a", "b", "c"] { #expect(Self.append(f, tag, "INBOX", fill: 3000).contains("\(tag) OK [APPENDUID ")) }
        #expect(Self.append(f, "d", "Trash", fill: 3000) == "d NO [OVERQUOTA] Quota exceeded (mailbox for user is full)" + done)
        #expect(
            f.send("e GETQUOTAROOT INBOX\r\n")
                == "* QUOTAROOT INBOX \"User quota\" Archive Empty\r\n* QUOTA \"User quota\" (STORAGE 9 10)\r\n"
                + "* QUOTA Archive (MESSAGE 3 3)\r\ne OK Getquotaroot completed" + done)
    }

    /// `Trash:ignore`: Trash neither counts nor is checked, and maildirsize gets no line for it, as Dovecot.
    @Test func ignoredMailboxIsNotCounted() throws {
        let plugin = ["quota": "maildir:User quota", "quota_rule": "*:storage=10K", "quota_rule2": "Trash:ignore"]
        let f = try SessionFixture(mailboxes: [MailboxSettings(name: "Trash", auto: .create)], quota: plugin)
        try f.store.applyAutoSettings()
        #expect(Self.append(f, "a", "INBOX", fill: 100).contains("a OK [APPENDUID "))
        for tag in ["b", "c", "d", "e"] { #expect(Self.append(f, tag, "Trash", fill: 3000).contains("\(tag) OK [APPENDUID ")) }
        let maildirsize = try String(contentsOfFile: f.root + "/maildirsize", encoding: .utf8)
        // Dovecot wrote `127 1` for the same APPEND (with quota_vsizes = yes) and nothing for Trash.
        #expect(maildirsize == "10240S\n0 0\n127 1\n", "\(maildirsize)")
        #expect(f.send("f GETQUOTA \"User quota\"\r\n").hasPrefix("* QUOTA \"User quota\" (STORAGE 1 10)\r\n"))
        // Recounting leaves Trash out too.
        try FileManager.default.removeItem(atPath: f.root + "/maildirsize")
        #expect(f.send("g GETQUOTA \"User quota\"\r\n").hasPrefix("* QUOTA \"User quota\" (STORAGE 1 10)\r\n"))
        #expect(try String(contentsOfFile: f.root + "/maildirsize", encoding: .utf8) == "10240S\n127 1\n")
    }

    /// `-messages=100%%` runs when an EXPUNGE takes the usage below the limit; each root runs its own first
    /// matching warning (a Dovecot 2.3.19 wrote `2 dave`, `50 dave` on the way up and `below2 dave` after
    /// the expunge).
    @Test func downwardWarningAfterExpunge() throws {
        let base = NSTemporaryDirectory() + "tern-quota-below-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let script = base + "/warn.sh"
        try "#!/bin/sh\necho \"$@\" >> \(base)/log\n".write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        let plugin = [
            "quota": "maildir:User quota", "quota_rule": "*:storage=10K",
            "quota_warning": "-storage=100% quota-warning below tuser", "quota_warning2": "storage=50% quota-warning 50 tuser",
            "quota2": "count:Archive", "quota2_rule": "*:messages=3", "quota2_warning": "messages=2 quota-warning 2 tuser",
            "quota2_warning2": "-messages=100% quota-warning below2 tuser",
        ]
        let f = try SessionFixture(quota: plugin, warningPrograms: ["quota-warning": [script]])
        for tag in ["a", "b", "c"] { _ = Self.append(f, tag, "INBOX", fill: 2000) }
        #expect(try String(contentsOfFile: base + "/log", encoding: .utf8) == "2 tuser\n50 tuser\n")
        f.send("d SELECT INBOX\r\n")
        f.send("e STORE 1 +FLAGS \\Deleted\r\n")
        #expect(f.send("f EXPUNGE\r\n").hasPrefix("* 1 EXPUNGE\r\n"))
        #expect(try String(contentsOfFile: base + "/log", encoding: .utf8) == "2 tuser\n50 tuser\nbelow2 tuser\n")
        // CLOSE expunges too; 2 → 1 crosses nothing.
        f.send("g STORE 1 +FLAGS \\Deleted\r\n")
        f.send("h CLOSE\r\n")
        #expect(try String(contentsOfFile: base + "/log", encoding: .utf8) == "2 tuser\n50 tuser\nbelow2 tuser\n")
    }

    /// The dict backend keeps `priv/quota/storage` and `priv/quota/messages` in a dict-file, as Dovecot's
    /// `quota = dict:User quota::file:PATH`: counted when missing, then added to and taken from.
    @Test func dictFileCounters() throws {
        let base = NSTemporaryDirectory() + "tern-quota-dict-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let path = base + "/quota.dict"
        let f = try SessionFixture(quota: ["quota": "dict:User quota::file:\(path)", "quota_rule": "*:messages=2"])
        try f.deliver("Subject: a\n\nfirst\n", name: "1.M1P1.host,S=18")
        #expect(f.send("a GETQUOTA \"User quota\"\r\n").hasPrefix("* QUOTA \"User quota\" (MESSAGE 1 2)\r\n"))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "priv/quota/messages\n1\npriv/quota/storage\n18\n")
        #expect(f.send("b APPEND INBOX {3+}\r\nx\r\n\r\n").contains("b OK [APPENDUID "))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "priv/quota/messages\n2\npriv/quota/storage\n21\n")
        #expect(f.send("c APPEND INBOX {3+}\r\ny\r\n\r\n").hasPrefix("c NO [OVERQUOTA] "))
        f.send("d SELECT INBOX\r\n")
        f.send("e STORE 1:* +FLAGS \\Deleted\r\n")
        f.send("f EXPUNGE\r\n")
        let after = try String(contentsOfFile: path, encoding: .utf8)
        #expect(after == "priv/quota/messages\n0\npriv/quota/storage\n0\n", "\(after)")
    }

    /// MOVE between mailboxes a root counts leaves its usage (and dict counters) as they are; a MOVE out of an
    /// ignored mailbox is checked like a save (Dovecot's quota_move_requires_check).
    @Test func moveIsCheckedOnlyWhereItAddsUsage() throws {
        let base = NSTemporaryDirectory() + "tern-quota-move-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let path = base + "/quota.dict"
        let plugin = ["quota": "dict:User quota::file:\(path)", "quota_rule": "*:messages=2", "quota_rule2": "Trash:ignore"]
        let f = try SessionFixture(
            mailboxes: [MailboxSettings(name: "Trash", auto: .create), MailboxSettings(name: "Archive", auto: .create)],
            quota: plugin)
        try f.store.applyAutoSettings()
        #expect(Self.append(f, "a", "INBOX", fill: 10).contains("a OK [APPENDUID "))
        #expect(Self.append(f, "b", "INBOX", fill: 10).contains("b OK [APPENDUID "))
        for tag in ["c", "d"] { #expect(Self.append(f, tag, "Trash", fill: 10).contains("\(tag) OK [APPENDUID ")) }
        let full = try String(contentsOfFile: path, encoding: .utf8)
        #expect(full.hasPrefix("priv/quota/messages\n2\n"), "\(full)")
        f.send("s SELECT INBOX\r\n")
        // INBOX to Archive: both counted, the root is full, the move is still allowed.
        #expect(f.send("m MOVE 1 Archive\r\n").contains("m OK Move completed"))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == full)
        f.send("t SELECT Trash\r\n")
        // Trash to INBOX adds a counted message: over the limit.
        #expect(f.send("n MOVE 1 INBOX\r\n").hasPrefix("n NO [OVERQUOTA] "))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == full)
    }
}
