public import Foundation
import Glibc

/// `doveadm log errors`: Dovecot's master keeps the last 1000 warnings and errors of its children in
/// memory and doveadm asks it over `log-errors`; Tern has no such buffer, so the entries are read back
/// from the log file (log_path), where the daemon writes `Nov 30 19:37:11 auth: Error: text` lines.
public struct DoveadmLogError: Sendable, Equatable {
    public var timestamp: String
    public var prefix: String
    public var type: String
    public var text: String

    /// As many as Dovecot's master keeps.
    public static let kept = 1000
    static let types = ["Warning", "Error", "Fatal", "Panic"]
    /// log_timestamp's default, `%b %d %H:%M:%S ` (the format Tern writes).
    static let timestampLength = 15

    /// The warnings, errors, fatals and panics among `lines`, the last `kept` of them, and only those
    /// later than `since` (a UNIX time, `-s`) when given.
    public static func entries(_ lines: some Sequence<Substring>, since: Int? = nil, now: Date = Date()) -> [DoveadmLogError] {
        var found: [DoveadmLogError] = []
        for line in lines {
            guard let entry = parse(line) else { continue }
            if let since, let time = epochSeconds(entry.timestamp, now: now), time <= since { continue }
            found.append(entry)
        }
        return Array(found.suffix(kept))
    }

    static func parse(_ line: Substring) -> DoveadmLogError? {
        guard line.count > timestampLength + 1 else { return nil }
        let timestamp = line.prefix(timestampLength)
        let rest = line.dropFirst(timestampLength + 1)
        for type in types {
            if let range = rest.range(of: ": \(type): ") {
                return DoveadmLogError(
                    timestamp: String(timestamp), prefix: String(rest[..<range.lowerBound]), type: type,
                    text: String(rest[range.upperBound...]))
            }
        }
        return nil
    }

    /// `Nov 30 19:37:11` in this year (last year when that would be in the future), local time.
    static func epochSeconds(_ timestamp: String, now: Date) -> Int? {
        let fields = timestamp.split(whereSeparator: { $0 == " " || $0 == ":" })
        guard fields.count == 5, let month = DoveadmQuery.monthNames.firstIndex(of: String(fields[0])),
            let day = Int32(fields[1]), let hour = Int32(fields[2]), let minute = Int32(fields[3]),
            let second = Int32(fields[4])
        else { return nil }
        var parts = tm()
        (parts.tm_mon, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec) = (Int32(month), day, hour, minute, second)
        var current = time_t(now.timeIntervalSince1970)
        var today = tm()
        localtime_r(&current, &today)
        parts.tm_year = today.tm_year
        parts.tm_isdst = -1
        var seconds = mktime(&parts)
        if seconds > current + 86400 {
            parts.tm_year -= 1
            seconds = mktime(&parts)
        }
        return Int(seconds)
    }
}
