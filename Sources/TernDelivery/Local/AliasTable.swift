import Glibc
public import TernCore

/// One alias_maps entry with the owner of its database file. local(8) runs `|command` and
/// `/file` destinations of an alias with the rights of the database owner, or with default_privs
/// when root owns it (aliases(5) "SECURITY", Postfix alias.c dict_owner).
public struct AliasTable: Sendable {
    public let table: any LookupTable
    /// uid of the database file's owner; 0 for root-owned or non-file tables.
    public let ownerUID: UInt32

    public init(table: any LookupTable, ownerUID: UInt32) {
        self.table = table
        self.ownerUID = ownerUID
    }

    /// Takes the owner from the file behind `table.spec`: `hash:/etc/aliases` is stored in
    /// `/etc/aliases.db`, `lmdb:` in `.lmdb`, `cdb:` in `.cdb`; `texthash:`, `regexp:`, `pcre:` and
    /// `cidr:` read the named file itself. Anything else (static, inline, proxy, sql) counts as root.
    public init(table: any LookupTable) {
        self.init(table: table, ownerUID: Self.databaseOwner(spec: table.spec))
    }

    public static func databaseOwner(spec: String) -> UInt32 {
        guard let colon = spec.firstIndex(of: ":") else { return 0 }
        let type = spec[..<colon].lowercased()
        let name = String(spec[spec.index(after: colon)...])
        let path: String
        switch type {
        case "hash", "btree", "dbm", "sdbm": path = name + ".db"
        case "lmdb": path = name + ".lmdb"
        case "cdb": path = name + ".cdb"
        case "texthash", "regexp", "pcre", "cidr": path = name
        default: return 0
        }
        var st = stat()
        guard stat(path, &st) == 0 else { return 0 }
        return st.st_uid
    }
}
