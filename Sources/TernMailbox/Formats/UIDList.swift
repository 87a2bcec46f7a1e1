/// The contents of `dovecot-uidlist`, version 3 as Dovecot 1.1 and later write it (maildir-uidlist.c):
///
///     3 V1796056493 N7 Gde507f22aba50d6bd819000083ecc375
///     1 :1796056492.M428127P6760.vm,S=46,W=51
///     5 S36 W41 :1796056600.Q12345R0N0.vm
///
/// The header holds the version, then `<key><value>` fields: `V` UIDVALIDITY, `N` next UID, `G` the mailbox
/// GUID (32 hex digits), others kept as they are. Each record is a UID, `<key><value>` extension fields with keys
/// `A`..`Z` (`S` physical size, `W` CRLF size, `P` POP3 UIDL, `O` POP3 order, `G` message GUID), then `:` and the
/// file name base (the name before `:2,`). Version 1 (`1 <uidvalidity> <nextuid>`, `<uid> <name>` lines, also
/// Courier's format) is read too.
public struct UIDList: Sendable, Equatable {
    public struct Record: Sendable, Equatable {
        public var uid: UInt32
        /// Extension fields in file order, key and value (`("W", "41")`).
        public var extensions: [(key: Character, value: String)]
        public var base: String

        public init(uid: UInt32, extensions: [(key: Character, value: String)] = [], base: String) {
            self.uid = uid
            self.extensions = extensions
            self.base = base
        }

        public func value(_ key: Character) -> String? { extensions.first { $0.key == key }?.value }

        public mutating func set(_ key: Character, _ value: String?) {
            extensions.removeAll { $0.key == key }
            if let value { extensions.append((key, value)) }
        }

        public static func == (lhs: Record, rhs: Record) -> Bool {
            lhs.uid == rhs.uid && lhs.base == rhs.base
                && lhs.extensions.map { "\($0.key)\($0.value)" } == rhs.extensions.map { "\($0.key)\($0.value)" }
        }
    }

    public var uidValidity: UInt32
    public var nextUID: UInt32
    /// 32 lowercase hex digits, as Dovecot's guid_128_to_string writes them.
    public var guid: String
    /// Header fields other than V, N and G, kept when the file is rewritten.
    public var otherHeaderFields: [String]
    /// Records in ascending UID order.
    public var records: [Record]

    public init(uidValidity: UInt32, nextUID: UInt32 = 1, guid: String, records: [Record] = []) {
        self.uidValidity = uidValidity
        self.nextUID = nextUID
        self.guid = guid
        self.otherHeaderFields = []
        self.records = records
    }

    /// What parsing found wrong. Like Dovecot, a broken file is not fatal: records up to the damage are kept,
    /// and the caller rewrites the file.
    public struct Damage: Sendable, Equatable {
        public var line: Int
        public var reason: String
    }

    /// Parses a uidlist; nil when the header is unusable (Dovecot then deletes the file and starts a new
    /// UIDVALIDITY). `damage` reports the first broken record line; the records before it are returned.
    public static func parse(_ bytes: [UInt8]) -> (list: UIDList, damage: Damage?)? {
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        guard let headerLine = lines.first else { return nil }
        let header = String(decoding: headerLine, as: UTF8.self).split(separator: " ", omittingEmptySubsequences: true)
        guard let version = header.first, version == "3" || version == "1" else { return nil }
        var list = UIDList(uidValidity: 0, nextUID: 0, guid: "")
        if version == "1" {
            guard header.count >= 3, let validity = UInt32(header[1]), let next = UInt32(header[2]) else { return nil }
            list.uidValidity = validity
            list.nextUID = next
        } else {
            for field in header.dropFirst() {
                let key = field.first!
                let value = String(field.dropFirst())
                switch key {
                case "V": list.uidValidity = UInt32(value) ?? 0
                case "N": list.nextUID = UInt32(value) ?? 0
                case "G":
                    guard value.count == 32, value.allSatisfy(\.isHexDigit) else { return nil }
                    list.guid = value.lowercased()
                default: list.otherHeaderFields.append(String(field))
                }
            }
        }
        guard list.uidValidity != 0, list.nextUID != 0 else { return nil }

        var damage: Damage?
        var previous: UInt32 = 0
        for (offset, raw) in lines.dropFirst().enumerated() {
            let lineNumber = offset + 2
            guard let record = parseRecord(String(decoding: raw, as: UTF8.self), version3: version == "3") else {
                damage = Damage(line: lineNumber, reason: "Invalid data")
                break
            }
            guard record.uid > previous else {
                damage = Damage(line: lineNumber, reason: "UIDs not ordered (\(record.uid) >= \(previous))")
                break
            }
            previous = record.uid
            list.records.append(record)
        }
        if list.nextUID <= previous { list.nextUID = previous + 1 }
        return (list, damage)
    }

    static func parseRecord(_ line: String, version3: Bool) -> Record? {
        var rest = Substring(line)
        let digits = rest.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count <= 10, let uid = UInt32(digits), uid != 0, uid != UInt32.max else {
            return nil
        }
        rest = rest.dropFirst(digits.count)
        guard rest.first == " " else { return nil }
        rest = rest.drop { $0 == " " }
        var extensions: [(key: Character, value: String)] = []
        if version3 {
            while let first = rest.first, first != ":" {
                let field = rest.prefix { $0 != " " }
                rest = rest.dropFirst(field.count).drop { $0 == " " }
                // Dovecot drops fields with an invalid key and keeps the record.
                if let key = field.first, key.isASCII, key.isUppercase {
                    extensions.append((key, String(field.dropFirst())))
                }
            }
            guard rest.first == ":" else { return nil }
            rest = rest.dropFirst()
        }
        guard !rest.isEmpty, !rest.contains("/") else { return nil }
        return Record(uid: uid, extensions: extensions, base: String(rest))
    }

    /// The file as Dovecot writes it (always version 3).
    public func serialized() -> [UInt8] {
        var text = "3 V\(uidValidity) N\(nextUID) G\(guid)"
        for field in otherHeaderFields { text += " " + field }
        text += "\n"
        var bytes = Array(text.utf8)
        for record in records { bytes += Self.line(for: record) }
        return bytes
    }

    /// One record line, `<uid>[ <key><value>...] :<base>\n`.
    public static func line(for record: Record) -> [UInt8] {
        var text = String(record.uid)
        for field in record.extensions { text += " \(field.key)\(field.value)" }
        text += " :" + record.base + "\n"
        return Array(text.utf8)
    }

    public func index(ofUID uid: UInt32) -> Int? { records.index(ofUID: uid) }

    /// A new random mailbox GUID in Dovecot's text form.
    public static func newGUID() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in
            let byte = UInt8.random(in: 0...255, using: &generator)
            return (byte < 16 ? "0" : "") + String(byte, radix: 16)
        }.joined()
    }
}
