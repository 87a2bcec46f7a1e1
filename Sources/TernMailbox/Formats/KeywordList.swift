/// `dovecot-keywords`: which keyword a lowercase flag letter stands for in this mailbox's file names
/// (maildir-keywords.c). One `<index> <name>` line per keyword, index 0 being `a`; at most 26.
public struct KeywordList: Sendable, Equatable {
    public static let capacity = 26
    /// Names by index; nil where the file has a hole.
    public private(set) var names: [String?] = []

    public init(names: [String?] = []) { self.names = Array(names.prefix(Self.capacity)) }

    /// Parses the file; lines that are not `<index 0-25> <name>` are skipped, as Dovecot skips them.
    public static func parse(_ bytes: [UInt8]) -> KeywordList {
        var list = KeywordList()
        for raw in bytes.split(separator: UInt8(ascii: "\n")) {
            let line = String(decoding: raw, as: UTF8.self)
            guard let space = line.firstIndex(of: " "), let index = Int(line[..<space]), (0..<capacity).contains(index)
            else { continue }
            let name = String(line[line.index(after: space)...])
            guard !name.isEmpty, !name.contains(" ") else { continue }
            while list.names.count <= index { list.names.append(nil) }
            list.names[index] = name
        }
        return list
    }

    public func serialized() -> [UInt8] {
        var text = ""
        for (index, name) in names.enumerated() {
            if let name { text += "\(index) \(name)\n" }
        }
        return Array(text.utf8)
    }

    /// The index of a keyword (IMAP keywords are case-insensitive, RFC 3501 §2.3.2).
    public func index(of keyword: String) -> Int? {
        let lowered = keyword.lowercased()
        return names.firstIndex { $0?.lowercased() == lowered }
    }

    public func name(at index: Int) -> String? { index < names.count ? names[index] : nil }

    /// Adds a keyword in the first free slot; nil when all 26 are taken.
    public mutating func add(_ keyword: String) -> Int? {
        if let existing = index(of: keyword) { return existing }
        if let hole = names.firstIndex(where: { $0 == nil }) {
            names[hole] = keyword
            return hole
        }
        guard names.count < Self.capacity else { return nil }
        names.append(keyword)
        return names.count - 1
    }

    /// All keyword names in index order, for FLAGS and PERMANENTFLAGS.
    public var all: [String] { names.compactMap { $0 } }
}
