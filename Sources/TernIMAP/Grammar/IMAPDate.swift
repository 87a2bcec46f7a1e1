/// `date` (RFC 3501 §9): `d-Mon-yyyy`, as SEARCH BEFORE/ON/SINCE take it (quoted or not).
public struct IMAPDate: Sendable, Hashable, Comparable {
    public var year: Int
    public var month: Int  // 1...12
    public var day: Int  // 1...31

    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    static let months = [
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ]

    /// Parses `date-day "-" date-month "-" date-year`; one- or two-digit days, months case-insensitive.
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, let day = Self.digits(parts[0], 1...2),
            let year = Self.digits(parts[2], 4...4),
            let month = Self.months.firstIndex(of: parts[1].uppercased()), (1...31).contains(day)
        else { return nil }
        self.init(year: year, month: month + 1, day: day)
    }

    static func digits(_ text: Substring, _ lengths: ClosedRange<Int>) -> Int? {
        guard lengths.contains(text.count), text.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            return nil
        }
        return Int(text)
    }

    public static func < (lhs: IMAPDate, rhs: IMAPDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    /// The `date` text, as a client sends it (`7-Feb-1994`).
    public var text: String {
        "\(day)-\(Self.months[month - 1].prefix(1))\(Self.months[month - 1].dropFirst().lowercased())-\(year)"
    }
}

/// `date-time` (RFC 3501 §9): `"dd-Mon-yyyy hh:mm:ss +zzzz"`, APPEND's and INTERNALDATE's format.
public struct IMAPDateTime: Sendable, Hashable {
    public var date: IMAPDate
    public var hour: Int
    public var minute: Int
    public var second: Int
    /// The zone offset east of UTC in minutes.
    public var zoneMinutes: Int

    public init(date: IMAPDate, hour: Int, minute: Int, second: Int, zoneMinutes: Int) {
        self.date = date
        self.hour = hour
        self.minute = minute
        self.second = second
        self.zoneMinutes = zoneMinutes
    }

    /// Parses the text inside the quotes; the day may be space-padded (`date-day-fixed`).
    public init?(_ text: String) {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 3, text.count <= 26, let date = IMAPDate(String(parts[0]))
        else { return nil }
        let time = parts[1].split(separator: ":", omittingEmptySubsequences: false)
        guard time.count == 3, let h = IMAPDate.digits(time[0], 2...2),
            let m = IMAPDate.digits(time[1], 2...2),
            let s = IMAPDate.digits(time[2], 2...2), h < 24, m < 60, s < 61
        else { return nil }
        let zone = parts[2]
        guard zone.count == 5, let sign = zone.first, sign == "+" || sign == "-",
            let hh = IMAPDate.digits(zone.dropFirst().prefix(2), 2...2),
            let mm = IMAPDate.digits(zone.suffix(2), 2...2),
            mm < 60
        else { return nil }
        let offset = hh * 60 + mm
        self.init(
            date: date, hour: h, minute: m, second: s, zoneMinutes: sign == "-" ? -offset : offset)
    }

    /// Seconds since the epoch (days from civil, H. Hinnant's algorithm; no calendar library needed).
    public var epochSeconds: Int {
        let y = date.month <= 2 ? date.year - 1 : date.year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (date.month + 9) % 12
        let doy = (153 * mp + 2) / 5 + date.day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146097 + doe - 719468
        return days * 86400 + hour * 3600 + minute * 60 + second - zoneMinutes * 60
    }

    /// The date-time at `epochSeconds` shown in the zone `zoneMinutes` east of UTC.
    public init(epochSeconds: Int, zoneMinutes: Int = 0) {
        let local = epochSeconds + zoneMinutes * 60
        let days = Int((Double(local) / 86400).rounded(.down))
        let secs = local - days * 86400
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        self.init(
            date: IMAPDate(year: year, month: month, day: day), hour: secs / 3600,
            minute: secs % 3600 / 60,
            second: secs % 60, zoneMinutes: zoneMinutes)
    }

    /// The wire text without quotes, as Dovecot writes INTERNALDATE (`17-Jul-1996 09:44:25 +0000`, two-digit day).
    public var text: String {
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let month = IMAPDate.months[date.month - 1]
        let monthText = month.prefix(1) + month.dropFirst().lowercased()
        let sign = zoneMinutes < 0 ? "-" : "+"
        let offset = abs(zoneMinutes)
        return "\(two(date.day))-\(monthText)-\(date.year) \(two(hour)):\(two(minute)):\(two(second)) "
            + "\(sign)\(two(offset / 60))\(two(offset % 60))"
    }
}
