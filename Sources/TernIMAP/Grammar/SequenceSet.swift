/// One end of a sequence range: a number or `*`, the largest number in use (RFC 3501 §9 `seq-number`).
public enum SequenceNumber: Sendable, Hashable {
    case number(UInt32)
    case last

    /// The concrete value, with `*` standing for `largest` (the highest message number or UID).
    public func resolved(largest: UInt32) -> UInt32 {
        switch self {
        case .number(let n): return n
        case .last: return largest
        }
    }
}

/// `seq-range` (RFC 3501 §9): `a:b` covers the same messages as `b:a`; a single number is `a:a`.
public struct SequenceRange: Sendable, Hashable {
    public var first: SequenceNumber
    public var last: SequenceNumber

    public init(_ first: SequenceNumber, _ last: SequenceNumber) {
        self.first = first
        self.last = last
    }

    public init(_ single: SequenceNumber) {
        self.init(single, single)
    }

    /// The closed range this covers once `*` is known.
    public func resolved(largest: UInt32) -> ClosedRange<UInt32> {
        let a = first.resolved(largest: largest)
        let b = last.resolved(largest: largest)
        return min(a, b)...max(a, b)
    }
}

/// `sequence-set` (RFC 3501 §9), or `$`: the result saved by SEARCH RETURN (SAVE) (RFC 5182).
public enum SequenceSet: Sendable, Hashable {
    case ranges([SequenceRange])
    case lastSearchResult

    /// Whether `value` lies in the set; `largest` gives `*` its meaning. `$` never matches here: the
    /// session substitutes the saved result before asking.
    public func contains(_ value: UInt32, largest: UInt32) -> Bool {
        guard case .ranges(let ranges) = self else { return false }
        return ranges.contains { $0.resolved(largest: largest).contains(value) }
    }

    /// Whether no range names `*` (QRESYNC's known-uids and seq-match-data).
    public var hasNoStar: Bool {
        guard case .ranges(let ranges) = self else { return false }
        return !ranges.contains { $0.first == .last || $0.last == .last }
    }

    /// How many numbers a set without `*` names, counting repeats as the client wrote them.
    public var count: UInt64 {
        guard case .ranges(let ranges) = self else { return 0 }
        return ranges.reduce(0) { total, range in
            let bounds = range.resolved(largest: UInt32.max)
            return total + UInt64(bounds.upperBound - bounds.lowerBound) + 1
        }
    }

    /// The numbers of a set without `*`, in the order written (`3:1` gives 3, 2, 1).
    public var numbers: [UInt32] {
        guard case .ranges(let ranges) = self else { return [] }
        var out: [UInt32] = []
        for range in ranges {
            let a = range.first.resolved(largest: UInt32.max)
            let b = range.last.resolved(largest: UInt32.max)
            out.append(contentsOf: a <= b ? Array(a...b) : Array((b...a).reversed()))
        }
        return out
    }

    /// Parses `sequence-set` from the whole of `text`; nil when it is not one (Dovecot: `Invalid messageset`).
    public init?(_ text: some Collection<UInt8>) {
        let bytes = Array(text)
        if bytes == [UInt8(ascii: "$")] {
            self = .lastSearchResult
            return
        }
        var ranges: [SequenceRange] = []
        for item in bytes.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
            let ends = item.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
            guard ends.count == 1 || ends.count == 2 else { return nil }
            guard let a = Self.number(ends[ends.startIndex]) else { return nil }
            guard let b = ends.count == 2 ? Self.number(ends[ends.startIndex + 1]) : a else { return nil }
            ranges.append(SequenceRange(a, b))
        }
        guard !ranges.isEmpty else { return nil }
        self = .ranges(ranges)
    }

    /// `seq-number`: `*` or nz-number (1 to 2^32-1, no leading zero).
    private static func number(_ text: ArraySlice<UInt8>) -> SequenceNumber? {
        if text.elementsEqual([UInt8(ascii: "*")]) { return .last }
        guard let value = IMAPNumber.parse(text, allowZero: false) else { return nil }
        return .number(value)
    }
}

/// Numbers as IMAP writes them: digits only, at most 2^32-1 (RFC 3501 §9 `number`, `nz-number`).
enum IMAPNumber {
    static func parse(_ text: some Collection<UInt8>, allowZero: Bool) -> UInt32? {
        guard !text.isEmpty, text.count <= 10 else { return nil }
        var value: UInt64 = 0
        for byte in text {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + UInt64(byte - UInt8(ascii: "0"))
        }
        guard value <= UInt64(UInt32.max), allowZero || value > 0 else { return nil }
        if !allowZero, text.first == UInt8(ascii: "0") { return nil }
        return UInt32(value)
    }
}

extension SequenceSet: CustomStringConvertible {
    /// The wire form, as a client or a COPYUID/APPENDUID code writes it.
    public var description: String {
        switch self {
        case .lastSearchResult:
            return "$"
        case .ranges(let ranges):
            return ranges.map { range in
                range.first == range.last ? range.first.text : "\(range.first.text):\(range.last.text)"
            }.joined(separator: ",")
        }
    }

    /// The compact form of a list of numbers (`1:3,7`), as Dovecot writes UID sets in responses.
    public static func compact(_ values: [UInt32]) -> SequenceSet {
        var ranges: [SequenceRange] = []
        for value in values {
            if let lastRange = ranges.last, case .number(let end) = lastRange.last, end != UInt32.max,
                end + 1 == value
            {
                ranges[ranges.count - 1].last = .number(value)
            } else {
                ranges.append(SequenceRange(.number(value)))
            }
        }
        return .ranges(ranges)
    }
}

extension SequenceNumber {
    fileprivate var text: String {
        switch self {
        case .number(let n): return String(n)
        case .last: return "*"
        }
    }
}
