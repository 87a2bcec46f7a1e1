import Glibc

/// The header lines Dovecot 2.3 keeps in an mbox message for itself (mbox-sync-rewrite.c), as Tern writes them:
///
///     X-IMAPbase: 1796122148 0000000004 todo $Label1     (first message only)
///     X-UID: 2
///     Status: RO                                         (R \Seen; O: not new)
///     X-Status: AF                                       (A \Answered, F \Flagged, T \Draft, D \Deleted)
///     X-Keywords: todo $Label1
///
/// UIDNEXT is written with ten digits, as Dovecot does.
enum MboxHeaders {
    static func baseLine(_ base: MboxBase, pseudo: Bool = false) -> String {
        let next = String(base.nextUID)
        var line = (pseudo ? "X-IMAP: " : "X-IMAPbase: ") + "\(base.uidValidity) "
        line += String(repeating: "0", count: max(0, 10 - next.count)) + next
        for keyword in base.keywords { line += " " + keyword }
        return line + "\n"
    }

    static func messageHeaders(uid: UInt32, flags: MessageFlags, keywords: [String], old: Bool) -> String {
        var text = "X-UID: \(uid)\n"
        text += "Status: " + (flags.contains(.seen) ? "R" : "") + (old ? "O" : "") + "\n"
        var status = ""
        if flags.contains(.answered) { status += "A" }
        if flags.contains(.flagged) { status += "F" }
        if flags.contains(.draft) { status += "T" }
        if flags.contains(.deleted) { status += "D" }
        if !status.isEmpty { text += "X-Status: \(status)\n" }
        if !keywords.isEmpty { text += "X-Keywords: " + keywords.joined(separator: " ") + "\n" }
        return text
    }

    /// Dovecot's pseudo message, written when the last message of a mailbox is expunged (and by Tern when it
    /// creates a mailbox), so UIDVALIDITY and UIDNEXT survive in the file.
    static func pseudoMessage(_ base: MboxBase, now: Int) -> [UInt8] {
        let date = fromLineDate(now)
        let text = """
            From MAILER_DAEMON  \(date)
            Date: \(rfc822Date(now))
            From: Mail System Internal Data <MAILER-DAEMON@\(Posix.hostname())>
            Subject: DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA
            Message-ID: <\(now)@\(Posix.hostname())>
            \(baseLine(base, pseudo: true))Status: RO

            This text is part of the internal format of your mail folder, and is not
            a real message.  It is created automatically by the mail system software.
            If deleted, important folder data will be lost, and it will be re-created
            with the data reset to initial values.


            """
        return Array(text.utf8)
    }

    /// `From MAILER-DAEMON  Tue Dec 01 10:49:06 2026` for APPEND (Dovecot's form, the date in UTC).
    static func fromLine(sender: String = "MAILER-DAEMON", date: Int) -> [UInt8] {
        Array("From \(sender)  \(fromLineDate(date))\n".utf8)
    }

    static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func fromLineDate(_ seconds: Int) -> String {
        let (parts, clock) = utc(seconds)
        let day = parts.tm_mday < 10 ? "0\(parts.tm_mday)" : "\(parts.tm_mday)"
        return "\(weekdays[Int(parts.tm_wday)]) \(months[Int(parts.tm_mon)]) \(day) \(clock) \(parts.tm_year + 1900)"
    }

    private static func rfc822Date(_ seconds: Int) -> String {
        let (parts, clock) = utc(seconds)
        return "\(weekdays[Int(parts.tm_wday)]), \(parts.tm_mday) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(clock) +0000"
    }

    /// The broken-down UTC time and its `hh:mm:ss`.
    private static func utc(_ seconds: Int) -> (tm, String) {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return (parts, "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))")
    }

    /// INTERNALDATE from a From_ line: `From sender Www Mmm dd hh:mm:ss yyyy` (asctime, as Postfix and Dovecot
    /// write it, read as UTC); nil when it has no such date.
    static func date(fromLine line: [UInt8]) -> Int? {
        let words = String(decoding: line.prefix { $0 != 0x0A && $0 != 0x0D }, as: UTF8.self).split(separator: " ")
        guard let monthAt = words.firstIndex(where: { months.contains(String($0)) }), monthAt + 3 < words.count,
            let month = months.firstIndex(of: String(words[monthAt])), let day = Int32(words[monthAt + 1])
        else { return nil }
        let clock = words[monthAt + 2].split(separator: ":").compactMap { Int32($0) }
        guard clock.count >= 2, let year = Int32(words[monthAt + 3]), year >= 1970 else { return nil }
        var parts = tm()
        parts.tm_year = year - 1900
        parts.tm_mon = Int32(month)
        parts.tm_mday = day
        parts.tm_hour = clock[0]
        parts.tm_min = clock[1]
        parts.tm_sec = clock.count > 2 ? clock[2] : 0
        return Int(timegm(&parts))
    }
}
