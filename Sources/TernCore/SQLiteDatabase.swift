internal import CSQLite

/// An SQLite database file (the system's libsqlite3 through the CSQLite shim): statements with bound values,
/// one thread at a time (SQLITE_OPEN_NOMUTEX). Used by `tern postgrey`'s triplet database and the IMAP
/// full-text index.
public final class SQLiteDatabase {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String

        public init(description: String) { self.description = description }
    }

    public enum Value {
        case text(String)
        case int(Int64)
    }

    /// A result row: column values by position.
    public struct Row {
        fileprivate let statement: OpaquePointer

        public func int(_ column: Int32) -> Int64 { sqlite3_column_int64(statement, column) }
    }

    private var db: OpaquePointer?
    public let path: String

    /// Opens (creating) `path` in WAL mode; `what` names it in the error (`can't create database PATH`).
    public init(path: String) throws(Failure) {
        self.path = path
        guard
            sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
                == SQLITE_OK
        else {
            let reason = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(db)
            throw Failure(description: "ERROR: can't create database \(path): \(reason)")
        }
        sqlite3_busy_timeout(db, 5000)
        do {
            try execute("PRAGMA journal_mode=WAL")
            try execute("PRAGMA synchronous=NORMAL")
        } catch {
            sqlite3_close(db)
            throw error
        }
    }

    deinit { sqlite3_close(db) }

    public func execute(_ sql: String) throws(Failure) {
        guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else { throw failure(sql) }
    }

    public func run(_ sql: String, _ values: [Value]) throws(Failure) {
        let statement = try prepare(sql, values)
        defer { sqlite3_finalize(statement) }
        guard sqlite3_step(statement) == SQLITE_DONE else { throw failure(sql) }
    }

    /// The first row's value made by `row`; nil when there is none.
    public func query<T>(_ sql: String, _ values: [Value], row: (Row) -> T) throws(Failure) -> T? {
        var first: T?
        try rows(sql, values) { if first == nil { first = row($0) } }
        return first
    }

    /// Every row of the result.
    public func rows(_ sql: String, _ values: [Value], _ each: (Row) -> Void) throws(Failure) {
        let statement = try prepare(sql, values)
        defer { sqlite3_finalize(statement) }
        while true {
            switch sqlite3_step(statement) {
            case SQLITE_ROW: each(Row(statement: statement))
            case SQLITE_DONE: return
            default: throw failure(sql)
            }
        }
    }

    /// `body` in one transaction (BEGIN IMMEDIATE), rolled back when it throws.
    public func transaction(_ body: () throws(Failure) -> Void) throws(Failure) {
        try execute("BEGIN IMMEDIATE")
        do throws(Failure) {
            try body()
            try execute("COMMIT")
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    private func prepare(_ sql: String, _ values: [Value]) throws(Failure) -> OpaquePointer {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK, let statement else { throw failure(sql) }
        for (index, value) in values.enumerated() {
            let position = Int32(index + 1)
            switch value {
            case .int(let number): sqlite3_bind_int64(statement, position, number)
            case .text(let text):
                _ = text.withCString { tern_sqlite_bind_text(statement, position, $0, Int32(text.utf8.count)) }
            }
        }
        return statement
    }

    private func failure(_ sql: String) -> Failure {
        Failure(description: "database \(path): \(String(cString: sqlite3_errmsg(db))) (\(sql.prefix(40))...)")
    }
}
