public import TernCore

/// SEARCH BODY/TEXT without reading every message (Dovecot's fts plugin, Tern's own index): an SQLite FTS5
/// table per mailbox, `tern.fts.sqlite` beside the mailbox's other index files, holding each message's header
/// and body as the session reads them (CRLF line ends). The trigram tokenizer matches case-insensitive
/// substrings, which is what IMAP SEARCH asks for; it answers ASCII strings of three or more characters
/// without CR or LF exactly like scanning the messages does, and the session scans for anything else.
/// Messages are added when a search finds them missing (so mail any delivery path brought in is read once);
/// expunged ones are left and ignored (results are intersected with the mailbox's messages). Messages above
/// `lastUID` are not in it yet: a search scans those.
public final class FullTextIndex {
    public enum Field { case body, text }

    private let database: SQLiteDatabase
    /// The highest UID in the index (messages are added in UID order).
    public private(set) var lastUID: UInt32 = 0

    /// Opens the index at `path` for a mailbox with `uidValidity`; an index of another UIDVALIDITY is emptied.
    public init(path: String, uidValidity: UInt32) throws(SQLiteDatabase.Failure) {
        database = try SQLiteDatabase(path: path)
        try database.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS message USING fts5(header, body, tokenize = 'trigram')")
        try database.execute("CREATE TABLE IF NOT EXISTS state (uid_validity INTEGER, last_uid INTEGER)")
        let stored = try database.query("SELECT uid_validity, last_uid FROM state", []) { ($0.int(0), $0.int(1)) }
        if let stored, stored.0 == Int64(uidValidity) {
            lastUID = UInt32(clamping: stored.1)
        } else {
            try database.transaction { () throws(SQLiteDatabase.Failure) in
                try database.execute("DELETE FROM message")
                try database.execute("DELETE FROM state")
                try database.run("INSERT INTO state VALUES (?, 0)", [.int(Int64(uidValidity))])
            }
        }
    }

    /// Whether the index can answer a search for `needle` (otherwise the session scans the messages).
    public static func answers(_ needle: String) -> Bool {
        needle.utf8.count >= 3 && needle.utf8.allSatisfy { $0 < 0x80 && $0 != 0x0D && $0 != 0x0A }
    }

    /// Adds the messages with UIDs above `lastUID` (in UID order), at most `limit` of them, reading each with
    /// `read` (header and body bytes; nil: the message is gone). Returns how many it took.
    @discardableResult
    public func add(
        uids: some Sequence<UInt32>, limit: Int = .max, read: (UInt32) -> (header: [UInt8], body: [UInt8])?
    ) throws(SQLiteDatabase.Failure) -> Int {
        var last = lastUID
        var taken = 0
        try database.transaction { () throws(SQLiteDatabase.Failure) in
            // Another session may have added messages since this index was opened.
            last = max(last, try database.query("SELECT last_uid FROM state", []) { UInt32(clamping: $0.int(0)) } ?? 0)
            for uid in uids where uid > last {
                guard taken < limit else { break }
                if let message = read(uid) {
                    try database.run(
                        "INSERT INTO message (rowid, header, body) VALUES (?, ?, ?)",
                        [
                            .int(Int64(uid)), .text(String(decoding: message.header, as: UTF8.self)),
                            .text(String(decoding: message.body, as: UTF8.self)),
                        ])
                }
                last = uid
                taken += 1
            }
            try database.run("UPDATE state SET last_uid = ?", [.int(Int64(last))])
        }
        lastUID = last
        return taken
    }

    /// The UIDs whose body (BODY) or header or body (TEXT) contains `needle`, case-insensitively.
    /// Only for strings `answers` accepts.
    public func uids(_ field: Field, containing needle: String) throws(SQLiteDatabase.Failure) -> Set<UInt32> {
        let phrase = "\"" + needle.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
        let query = field == .body ? "body : " + phrase : phrase
        var uids = Set<UInt32>()
        try database.rows("SELECT rowid FROM message WHERE message MATCH ?", [.text(query)]) {
            uids.insert(UInt32(clamping: $0.int(0)))
        }
        return uids
    }
}
