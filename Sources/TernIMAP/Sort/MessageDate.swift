/// The time of a `Date:` header as SORT DATE and THREAD compare it: seconds since the epoch in UTC, parsed
/// as Dovecot's message_date_parse does (`[Mon,] 4 Mar [20]24 10:00[:00] [zone]`, `.` also separating the
/// time, two-digit years from 1970, unknown zones as UTC). nil when the value is not such a date.
enum MessageDate {
    static func timestamp(_ value: some Collection<UInt8>) -> Int? {
        var cursor = Cursor(bytes: Array(value))
        cursor.skipSpaceAndComments()
        guard var token = cursor.atom(), !token.isEmpty else { return nil }
        if token.count == 3 {  // the weekday, which must be followed by a comma
            guard cursor.take(UInt8(ascii: ",")) else { return nil }
            cursor.skipSpaceAndComments()
            guard let next = cursor.atom(), !next.isEmpty else { return nil }
            token = next
        }
        guard let day = number(token, digits: 1...2) else { return nil }
        guard let monthToken = cursor.atom(), monthToken.count >= 3,
            let month = months.firstIndex(of: String(decoding: monthToken.prefix(3), as: UTF8.self).lowercased())
        else { return nil }
        guard let yearToken = cursor.atom(), yearToken.count == 2 || yearToken.count == 4,
            var year = number(yearToken, digits: 2...4)
        else { return nil }
        if yearToken.count == 2 {
            year += year < 70 ? 2000 : 1900
        } else if year < 1900 {
            return nil
        }
        guard let hourToken = cursor.atom(), let hour = number(hourToken, digits: 1...2), cursor.takeTimeSeparator(),
            let minuteToken = cursor.atom(), let minute = number(minuteToken, digits: 2...2)
        else { return nil }
        var second = 0
        if cursor.takeTimeSeparator() {
            guard let secondToken = cursor.atom(), let value = number(secondToken, digits: 2...2) else { return nil }
            second = value
        }
        guard let zoneToken = cursor.atom() else { return nil }
        let offsetMinutes = zoneToken.isEmpty ? 0 : zoneOffset(zoneToken)
        let days = daysFromCivil(year: year, month: month + 1, day: day)
        return days * 86400 + hour * 3600 + minute * 60 + second - offsetMinutes * 60
    }

    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    private static func number(_ token: [UInt8], digits: ClosedRange<Int>) -> Int? {
        guard digits.contains(token.count), token.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return token.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }

    /// `+hhmm`/`-hhmm`, military letters, UT/GMT and the US zones of RFC 822; anything else is UTC.
    private static func zoneOffset(_ token: [UInt8]) -> Int {
        let upper = token.map(IMAPArgumentReader.upper)
        if upper.count == 5, upper[0] == UInt8(ascii: "+") || upper[0] == UInt8(ascii: "-"),
            let digits = number(Array(upper[1...]), digits: 4...4)
        {
            let offset = digits / 100 * 60 + digits % 100
            return upper[0] == UInt8(ascii: "+") ? offset : -offset
        }
        if upper.count == 1 {
            let letter = Int(upper[0])
            let a = Int(UInt8(ascii: "A"))
            let (j, m, z) = (Int(UInt8(ascii: "J")), Int(UInt8(ascii: "M")), Int(UInt8(ascii: "Z")))
            // Dovecot counts from the raw byte, as written in the header.
            let raw = Int(token[0])
            if letter < j { return (raw - a + 1) * 60 }
            if letter == j { return 0 }
            if letter <= m { return (raw - a) * 60 }
            if letter < z { return (m - raw) * 60 }
            return 0
        }
        if upper.count == 3, upper[2] == UInt8(ascii: "T") {
            let base: Int
            switch upper[0] {
            case UInt8(ascii: "E"): base = -5 * 60
            case UInt8(ascii: "C"): base = -6 * 60
            case UInt8(ascii: "M"): base = -7 * 60
            case UInt8(ascii: "P"): base = -8 * 60
            default: return 0
            }
            if upper[1] == UInt8(ascii: "D") { return base + 60 }
            if upper[1] == UInt8(ascii: "S") { return base }
        }
        return 0
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil); days past the
    /// month's end roll over as mktime does.
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let monthIndex = month > 2 ? month - 3 : month + 9
        let dayOfYear = (153 * monthIndex + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146097 + dayOfEra - 719468
    }

    /// RFC 822 tokens: atoms separated by spaces and comments.
    private struct Cursor {
        let bytes: [UInt8]
        var index = 0

        static func isAtomText(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"):
                return true
            default:
                return Array("!#$%&'*+-/=?^_`{|}~".utf8).contains(byte) || byte >= 0x80
            }
        }

        mutating func skipSpaceAndComments() {
            var depth = 0
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "(") {
                    depth += 1
                } else if byte == UInt8(ascii: ")") && depth > 0 {
                    depth -= 1
                } else if byte == UInt8(ascii: "\\") && depth > 0 {
                    index += 1
                } else if depth == 0 && byte != 0x20 && byte != 0x09 && byte != 0x0D && byte != 0x0A {
                    return
                }
                index += 1
            }
        }

        /// The next atom (empty at the end of the value), or nil when something else is there.
        mutating func atom() -> [UInt8]? {
            guard index < bytes.count else { return [] }
            let start = index
            while index < bytes.count, Self.isAtomText(bytes[index]) { index += 1 }
            guard index > start else { return nil }
            let token = Array(bytes[start..<index])
            skipSpaceAndComments()
            return token
        }

        mutating func take(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        mutating func takeTimeSeparator() -> Bool {
            guard take(UInt8(ascii: ":")) || take(UInt8(ascii: ".")) else { return false }
            skipSpaceAndComments()
            return true
        }
    }
}
