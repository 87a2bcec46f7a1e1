import Glibc

/// The time zone a date is rendered in: the process's local zone (TZ, /etc/localtime) or a fixed
/// offset with its abbreviation (for tests and for callers that carry a zone explicitly).
public enum MailTimeZone: Sendable, Equatable {
    case local
    case fixed(offsetSeconds: Int, name: String)

    public static let utc = MailTimeZone.fixed(offsetSeconds: 0, name: "UTC")
}

/// Broken-down calendar time in a given zone, computed without Foundation's locale machinery so that
/// names are always the English ones RFC 5322 §3.3 requires.
public struct CalendarTime: Sendable, Equatable {
    public var year: Int
    public var month: Int  // 1...12
    public var day: Int  // 1...31
    public var hour: Int
    public var minute: Int
    public var second: Int
    public var weekday: Int  // 0 = Sunday
    public var offsetSeconds: Int
    public var zoneName: String

    public static let dayNames = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    public static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    public init(epochSeconds: Int, zone: MailTimeZone) {
        var parts = tm()
        var clock = time_t(epochSeconds)
        switch zone {
        case .local:
            localtime_r(&clock, &parts)
            offsetSeconds = Int(parts.tm_gmtoff)
            zoneName = parts.tm_zone.map { String(cString: $0) } ?? "UTC"
        case .fixed(let offset, let name):
            clock += time_t(offset)
            gmtime_r(&clock, &parts)
            offsetSeconds = offset
            zoneName = name
        }
        year = Int(parts.tm_year) + 1900
        month = Int(parts.tm_mon) + 1
        day = Int(parts.tm_mday)
        hour = Int(parts.tm_hour)
        minute = Int(parts.tm_min)
        second = Int(parts.tm_sec)
        weekday = Int(parts.tm_wday)
    }
}

/// Date formats Postfix writes.
public enum MailDate {
    /// RFC 5322 §3.3 date as Postfix's `mail_date()` writes it for `Date:` and `Received:` headers:
    /// `Mon,  2 Sep 2024 10:00:00 +0200 (CEST)` — day space-padded (`%e`), numeric offset, zone name comment.
    public static func rfc5322(epochSeconds: Int, zone: MailTimeZone = .local) -> String {
        let t = CalendarTime(epochSeconds: epochSeconds, zone: zone)
        let sign = t.offsetSeconds < 0 ? "-" : "+"
        let minutes = abs(t.offsetSeconds) / 60
        return "\(CalendarTime.dayNames[t.weekday]), \(pad(t.day, 2, " ")) \(CalendarTime.monthNames[t.month - 1]) "
            + "\(t.year) \(pad(t.hour, 2)):\(pad(t.minute, 2)):\(pad(t.second, 2)) "
            + "\(sign)\(pad(minutes / 60, 2))\(pad(minutes % 60, 2)) (\(t.zoneName))"
    }

    /// asctime(3) without the trailing newline, `Mon Sep  2 10:00:00 2024`, as postqueue and postcat print
    /// arrival times.
    public static func asctime(epochSeconds: Int, zone: MailTimeZone = .local) -> String {
        let t = CalendarTime(epochSeconds: epochSeconds, zone: zone)
        return "\(CalendarTime.dayNames[t.weekday]) \(CalendarTime.monthNames[t.month - 1]) \(pad(t.day, 2, " ")) "
            + "\(pad(t.hour, 2)):\(pad(t.minute, 2)):\(pad(t.second, 2)) \(t.year)"
    }

    /// `YYYYMMDDhhmmss` in UTC, the time stamp Postfix puts in generated Message-Id values.
    public static func compactUTC(epochSeconds: Int) -> String {
        let t = CalendarTime(epochSeconds: epochSeconds, zone: .utc)
        return "\(pad(t.year, 4))\(pad(t.month, 2))\(pad(t.day, 2))\(pad(t.hour, 2))\(pad(t.minute, 2))\(pad(t.second, 2))"
    }

    static func pad(_ value: Int, _ width: Int, _ fill: Character = "0") -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: fill, count: width - text.count) + text
    }
}
