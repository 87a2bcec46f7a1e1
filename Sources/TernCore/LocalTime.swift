import Glibc

/// strftime(3) in the local time zone (TZ) and the C locale, for log timestamps and dates in texts.
public enum LocalTime {
    /// `seconds` since the epoch formatted with `format` (`%b %e %H:%M:%S` for syslog lines).
    public static func format(_ seconds: Int64, _ format: String) -> String {
        var time = time_t(seconds)
        var parts = tm()
        localtime_r(&time, &parts)
        var buffer = [CChar](repeating: 0, count: 128)
        let count = strftime(&buffer, buffer.count, format, &parts)
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
