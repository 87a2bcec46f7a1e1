public import Foundation
public import TernIMAP

/// A doveadm search query (doveadm-search-query(7)): IMAP SEARCH keys as command-line words, plus
/// `mailbox NAME` / `mailbox-guid GUID` choosing the mailboxes, `saved*` dates and dates written as
/// `2024-01-31`, a UNIX time or an interval (`30d`). The mailbox keys are taken from the top level (ANDed);
/// the rest goes to the IMAP SEARCH grammar.
public struct DoveadmQuery: Sendable {
    public var mailboxPatterns: [String] = []
    public var mailboxGUIDs: [String] = []
    public var key: SearchKey

    /// Whether every message the query can match lies in a named mailbox (expunge insists on it).
    public var namesMailbox: Bool { !mailboxPatterns.isEmpty || !mailboxGUIDs.isEmpty }

    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// How many words follow each key that takes arguments; their words are never taken for keys.
    static let argumentCounts: [String: Int] = [
        "bcc": 1, "body": 1, "cc": 1, "from": 1, "subject": 1, "text": 1, "to": 1, "keyword": 1, "unkeyword": 1,
        "before": 1, "on": 1, "since": 1, "sentbefore": 1, "senton": 1, "sentsince": 1, "savedbefore": 1,
        "savedon": 1, "savedsince": 1, "larger": 1, "smaller": 1, "uid": 1, "header": 2,
    ]
    /// Dovecot's saved dates; a Maildir's received date is when the message was saved.
    static let savedDateKeys: [String: String] = ["savedbefore": "before", "savedon": "on", "savedsince": "since"]
    static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    static let dateKeys: Set<String> = ["before", "on", "since", "sentbefore", "senton", "sentsince"]

    public static func parse(_ words: [String], now: Date = Date()) throws(ParseError) -> DoveadmQuery {
        var patterns: [String] = []
        var guids: [String] = []
        var rest: [String] = []
        var depth = 0
        var index = 0
        while index < words.count {
            let word = words[index]
            let name = word.lowercased()
            if depth == 0, name == "mailbox" || name == "mailbox-guid" {
                guard index + 1 < words.count else { throw ParseError(description: "\(word): Missing argument") }
                if name == "mailbox" { patterns.append(words[index + 1]) } else { guids.append(words[index + 1]) }
                index += 2
                continue
            }
            depth += word.filter { $0 == "(" }.count - word.filter { $0 == ")" }.count
            let count = argumentCounts[name] ?? 0
            rest.append(savedDateKeys[name] ?? word)
            let arguments = words[min(index + 1, words.count)..<min(index + 1 + count, words.count)]
            if dateKeys.contains(savedDateKeys[name] ?? name), let value = arguments.first {
                rest.append(try imapDate(value, now: now))
            } else {
                rest += arguments
            }
            index += 1 + count
        }
        if rest.isEmpty { rest = ["all"] }
        do {
            return DoveadmQuery(mailboxPatterns: patterns, mailboxGUIDs: guids, key: try SearchQuery.parse(words: rest))
        } catch {
            throw ParseError(description: error.description)
        }
    }

    /// A doveadm date as IMAP's `d-Mon-yyyy`: `yyyy-mm-dd`, a UNIX time, an interval back from now
    /// (`30d`, `2w`, `12h`, `45mins`), or already an IMAP date.
    static func imapDate(_ value: String, now: Date) throws(ParseError) -> String {
        let invalid = ParseError(description: "Invalid search date parameter: \(value)")
        if value.contains("-") && !value.hasPrefix("-") {
            let parts = value.split(separator: "-")
            if parts.count == 3, let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
                (1...12).contains(month), (1...31).contains(day), year > 999
            {
                return "\(day)-\(monthNames[month - 1])-\(year)"
            }
            return value
        }
        if let seconds = Int(value) { return format(Date(timeIntervalSince1970: TimeInterval(seconds))) }
        guard let seconds = intervalSeconds(value) else { throw invalid }
        return format(now.addingTimeInterval(-TimeInterval(seconds)))
    }

    /// `30d`, `2 weeks`, `12h`: Dovecot's settings_get_time units.
    static func intervalSeconds(_ value: String) -> Int? {
        let digits = value.prefix { $0.isNumber }
        guard let number = Int(digits) else { return nil }
        let unit = value.dropFirst(digits.count).trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(Set<String>, Int)] = [
            (["s", "sec", "secs", "second", "seconds"], 1), (["m", "min", "mins", "minute", "minutes"], 60),
            (["h", "hour", "hours"], 3600), (["d", "day", "days"], 86400), (["w", "week", "weeks"], 604_800),
        ]
        return units.first { $0.0.contains(unit) }.map { number * $0.1 }
    }

    private static func format(_ date: Date) -> String {
        var time = time_t(date.timeIntervalSince1970)
        var parts = tm()
        localtime_r(&time, &parts)
        let month = monthNames[Int(parts.tm_mon)]
        return "\(parts.tm_mday)-\(month)-\(Int(parts.tm_year) + 1900)"
    }
}
