/// A Maildir file name split the way Dovecot reads it: the base (everything before the first `:`), which is
/// the key in dovecot-uidlist, and the info after `:2,` holding flag letters (maildir(5)). Dovecot puts the
/// physical and CRLF sizes into the base as `,S=<size>,W=<vsize>`; files from other writers (Postfix, Tern's
/// MTA) have neither.
public struct MaildirFileName: Sendable, Hashable {
    public var base: String
    /// The letters after `:2,` (uppercase system flags, lowercase keyword indexes); nil without `:2,`.
    public var flagLetters: String?

    public init(base: String, flagLetters: String?) {
        self.base = base
        self.flagLetters = flagLetters
    }

    public init(_ name: String) {
        guard let colon = name.firstIndex(of: ":") else {
            self.init(base: name, flagLetters: nil)
            return
        }
        let info = name[name.index(after: colon)...]
        self.init(base: String(name[..<colon]), flagLetters: info.hasPrefix("2,") ? String(info.dropFirst(2)) : nil)
    }

    /// The base alone (before the first `:`), without parsing the flags.
    public static func base(of name: String) -> String {
        guard let colon = name.utf8.firstIndex(of: UInt8(ascii: ":")) else { return name }
        return String(name[..<colon])
    }

    /// The name with `:2,<letters>`, letters sorted as Dovecot writes them (`DFRST` then `a`..`z`).
    public var name: String {
        guard let flagLetters else { return base }
        return base + ":2," + String(flagLetters.sorted())
    }

    /// The physical size from `,S=` in the base, if present.
    public var size: Int? { Self.field("S", in: base) }
    /// The CRLF size from `,W=` in the base, if present.
    public var virtualSize: Int? { Self.field("W", in: base) }

    public var flags: MessageFlags {
        var flags: MessageFlags = []
        for letter in flagLetters ?? "" {
            if let match = MessageFlags.letters.first(where: { $0.0 == letter }) { flags.insert(match.1) }
        }
        return flags
    }

    /// Keyword indexes (0 for `a`) present in the letters.
    public var keywordIndexes: [Int] {
        (flagLetters ?? "").compactMap { letter in
            guard let ascii = letter.asciiValue, ascii >= 0x61, ascii <= 0x7A else { return nil }
            return Int(ascii - 0x61)
        }
    }

    /// The same file with new flags and keywords; letters Tern does not know (`P`, other uppercase) are kept.
    public func with(flags: MessageFlags, keywordIndexes: [Int]) -> MaildirFileName {
        var letters = (flagLetters ?? "").filter { letter in
            letter.isUppercase && !MessageFlags.letters.contains { $0.0 == letter }
        }
        for (letter, flag) in MessageFlags.letters where flags.contains(flag) { letters.append(letter) }
        for index in Set(keywordIndexes) where (0..<26).contains(index) {
            letters.append(Character(Unicode.Scalar(UInt8(0x61 + index))))
        }
        return MaildirFileName(base: base, flagLetters: String(letters.sorted()))
    }

    /// Parses `,<key>=<digits>` in a base name.
    static func field(_ key: Character, in base: String) -> Int? {
        let chars = Array(base.utf8)
        let keyByte = key.asciiValue ?? 0
        var index = 0
        while index + 3 < chars.count {
            if chars[index] == UInt8(ascii: ","), chars[index + 1] == keyByte, chars[index + 2] == UInt8(ascii: "=") {
                let digits = chars[(index + 3)...].prefix { $0 >= 0x30 && $0 <= 0x39 }
                if !digits.isEmpty, digits.count <= 18, let value = Int(String(decoding: digits, as: UTF8.self)) {
                    return value
                }
            }
            index += 1
        }
        return nil
    }

    /// The time stamp and microseconds at the start of a name (`1796056492.M428127P6760...`), which Dovecot
    /// sorts new files by before giving them UIDs, so the oldest message gets the lowest UID.
    static func arrivalOrder(_ lhs: String, _ rhs: String) -> Bool {
        ArrivalKey(lhs) < ArrivalKey(rhs)
    }

    /// `arrivalOrder` as a value, to sort many names with one parse each.
    struct ArrivalKey: Comparable {
        var seconds = Int.max
        var micros = -1
        var name: String

        init(_ name: String) {
            self.name = name
            let bytes = Array(name.utf8.prefix(40))
            let digits = bytes.prefix { $0 >= 0x30 && $0 <= 0x39 }.prefix(18)
            if !digits.isEmpty { seconds = Self.number(digits) }
            guard let dot = bytes.firstIndex(of: UInt8(ascii: ".")), dot + 1 < bytes.count,
                bytes[dot + 1] == UInt8(ascii: "M")
            else { return }
            let microDigits = bytes[(dot + 2)...].prefix { $0 >= 0x30 && $0 <= 0x39 }.prefix(9)
            if !microDigits.isEmpty { micros = Self.number(microDigits) }
        }

        private static func number(_ digits: ArraySlice<UInt8>) -> Int {
            digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
        }

        static func < (lhs: ArrivalKey, rhs: ArrivalKey) -> Bool {
            if lhs.seconds != rhs.seconds { return lhs.seconds < rhs.seconds }
            if lhs.micros != rhs.micros { return lhs.micros < rhs.micros }
            return lhs.name < rhs.name
        }
    }
}
