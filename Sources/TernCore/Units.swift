import Foundation

/// Postfix time and size values (postconf(5) "time units": s, m, h, d, w).
public enum TimeValue {
    /// Parses "1800s", "2h", "5d", "1w", or a bare number in `defaultUnit` ("s", "m", "h", "d", "w").
    /// Returns seconds, or nil when the text is not a valid time.
    public static func seconds(_ text: String, defaultUnit: Character = "s") -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let first = trimmed.first, first.isNumber else { return nil }
        let digits = trimmed.prefix { $0.isNumber }
        let rest = trimmed.dropFirst(digits.count)
        guard let number = Int(digits), rest.count <= 1 else { return nil }
        let unit = rest.first ?? defaultUnit
        let factor: Int
        switch unit.lowercased() {
        case "s": factor = 1
        case "m": factor = 60
        case "h": factor = 3600
        case "d": factor = 86400
        case "w": factor = 7 * 86400
        default: return nil
        }
        let (product, overflow) = number.multipliedReportingOverflow(by: factor)
        return overflow ? nil : product
    }
}

public enum SizeValue {
    /// Parses a byte count. Postfix size parameters are plain integers; k/m/g suffixes are accepted as a courtesy.
    public static func bytes(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let n = Int(trimmed) { return n }
        guard let last = trimmed.last?.lowercased(), let n = Int(trimmed.dropLast()) else { return nil }
        switch last {
        case "k": return n * 1024
        case "m": return n * 1024 * 1024
        case "g": return n * 1024 * 1024 * 1024
        default: return nil
        }
    }
}

