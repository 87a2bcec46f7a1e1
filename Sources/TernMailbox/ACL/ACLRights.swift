/// The rights of RFC 4314 §2.1 as Dovecot's acl plugin names them (`lookup`, `read`, ... `admin`).
public struct ACLRights: OptionSet, Sendable, Hashable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let lookup = ACLRights(rawValue: 1 << 0)
    public static let read = ACLRights(rawValue: 1 << 1)
    public static let write = ACLRights(rawValue: 1 << 2)
    public static let writeSeen = ACLRights(rawValue: 1 << 3)
    public static let writeDeleted = ACLRights(rawValue: 1 << 4)
    public static let insert = ACLRights(rawValue: 1 << 5)
    public static let post = ACLRights(rawValue: 1 << 6)
    public static let expunge = ACLRights(rawValue: 1 << 7)
    public static let create = ACLRights(rawValue: 1 << 8)
    public static let delete = ACLRights(rawValue: 1 << 9)
    public static let admin = ACLRights(rawValue: 1 << 10)

    /// Everything: the owner's rights when no ACL entry names the owner (Dovecot's default).
    public static let all: ACLRights = [
        .lookup, .read, .write, .writeSeen, .writeDeleted, .insert, .post, .expunge, .create, .delete, .admin,
    ]

    /// Letters and Dovecot's right names in Dovecot's own order (MYRIGHTS and the owner's defaults use it).
    static let letters: [(Character, String, ACLRights)] = [
        ("l", "lookup", .lookup), ("r", "read", .read), ("w", "write", .write), ("s", "write-seen", .writeSeen),
        ("t", "write-deleted", .writeDeleted), ("i", "insert", .insert), ("p", "post", .post),
        ("e", "expunge", .expunge), ("k", "create", .create), ("x", "delete", .delete), ("a", "admin", .admin),
    ]

    /// The same sorted by name: the order of rights stored in a dovecot-acl file (and so of GETACL).
    static let byName = letters.sorted { $0.1 < $1.1 }

    /// Letters of a dovecot-acl line; letters Dovecot does not know are skipped.
    public init(fileLetters: Substring) {
        var rights: ACLRights = []
        for letter in fileLetters {
            if let entry = Self.letters.first(where: { $0.0 == letter }) { rights.insert(entry.2) }
        }
        self = rights
    }

    /// RFC 4314 letters from a client, with the obsolete `c` (k and x) and `d` (e and t) of §2.1.1 as Dovecot
    /// reads them; throws the letter Dovecot does not know.
    public init(imapLetters: String) throws(InvalidRight) {
        var rights: ACLRights = []
        for letter in imapLetters {
            if let entry = Self.letters.first(where: { $0.0 == letter }) {
                rights.insert(entry.2)
            } else if letter == "c" {
                rights.formUnion([.create, .delete])
            } else if letter == "d" {
                rights.formUnion([.expunge, .writeDeleted])
            } else {
                throw InvalidRight(letter: letter)
            }
        }
        self = rights
    }

    public struct InvalidRight: Error, Sendable { public var letter: Character }

    /// Dovecot's right names (`lookup read ...`), as doveadm acl takes them; nil for a name it does not know.
    public init?(names: [String]) {
        var rights: ACLRights = []
        for name in names {
            guard let entry = Self.letters.first(where: { $0.1 == name }) else { return nil }
            rights.insert(entry.2)
        }
        self = rights
    }

    /// The names, sorted (`doveadm acl get`) or in Dovecot's own order (`doveadm acl rights`).
    public func names(sorted: Bool) -> [String] { (sorted ? Self.byName : Self.letters).filter { contains($0.2) }.map(\.1) }

    /// The letters in dovecot-acl order (`akxeilprwts`).
    public var fileLetters: String { String(Self.byName.filter { contains($0.2) }.map(\.0)) }

    /// The letters as Dovecot's imap_acl sends them: `sorted` in file order (GETACL of stored entries) or in
    /// Dovecot's own order (MYRIGHTS, defaults), then the obsolete `c` when k or x is there and `d` when e or t
    /// is (RFC 4314 §2.1.1).
    public func imapLetters(sorted: Bool) -> String {
        var text = sorted ? fileLetters : String(Self.letters.filter { contains($0.2) }.map(\.0))
        if !isDisjoint(with: [.create, .delete]) { text += "c" }
        if !isDisjoint(with: [.expunge, .writeDeleted]) { text += "d" }
        return text
    }

    /// Whether a session with these rights may change some flags (Dovecot's acl_is_readonly, inverted).
    public var canWrite: Bool { !isDisjoint(with: [.insert, .expunge, .write, .writeDeleted, .writeSeen]) }
}
