import CSQLite
import Foundation
public import TernPolicy

/// The triplet and client auto-whitelist database in `--dbdir` (`postgrey.sqlite`, SQLite in WAL mode),
/// where postgrey keeps `postgrey.db` and `postgrey_clients.db` (Berkeley DB). A `postgrey.lock` beside it
/// keeps a second server off the same directory, as postgrey's does. Not Sendable: one actor owns it.
public final class GreylistDatabase {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    private var db: OpaquePointer?
    private let lockDescriptor: Int32
    public let path: String

    /// Opens (creating) the database in `directory` and takes the directory's lock.
    public init(directory: String) throws(Failure) {
        let lockPath = directory + "/postgrey.lock"
        lockDescriptor = open(lockPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard lockDescriptor >= 0 else { throw Failure(description: "ERROR: can't open lock file: \(lockPath)") }
        guard flock(lockDescriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(lockDescriptor)
            throw Failure(description: "ERROR: locked: \(lockPath)")
        }
        path = directory + "/postgrey.sqlite"
        guard
            sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
                == SQLITE_OK
        else {
            let reason = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(db)
            close(lockDescriptor)
            throw Failure(description: "ERROR: can't create database \(path): \(reason)")
        }
        do {
            sqlite3_busy_timeout(db, 5000)
            try execute("PRAGMA journal_mode=WAL")
            try execute("PRAGMA synchronous=NORMAL")
            try execute(
                """
                CREATE TABLE IF NOT EXISTS triplet (client_net TEXT NOT NULL, sender TEXT NOT NULL,
                    recipient TEXT NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
                    PRIMARY KEY (client_net, sender, recipient)) WITHOUT ROWID
                """)
            try execute("CREATE INDEX IF NOT EXISTS triplet_last_seen ON triplet (last_seen)")
            try execute(
                """
                CREATE TABLE IF NOT EXISTS client (address TEXT PRIMARY KEY, count INTEGER NOT NULL,
                    last_seen INTEGER NOT NULL) WITHOUT ROWID
                """)
        } catch {
            sqlite3_close(db)
            close(lockDescriptor)
            throw error
        }
    }

    deinit {
        sqlite3_close(db)
        close(lockDescriptor)
    }

    public func triplet(_ keys: GreylistKeys) throws(Failure) -> TripletRecord? {
        try query(
            "SELECT first_seen, last_seen FROM triplet WHERE client_net = ? AND sender = ? AND recipient = ?",
            [keys.network, keys.sender, keys.recipient]
        ) { TripletRecord(firstSeen: sqlite3_column_int64($0, 0), lastSeen: sqlite3_column_int64($0, 1)) }
    }

    public func client(_ keys: GreylistKeys) throws(Failure) -> ClientRecord? {
        try query("SELECT count, last_seen FROM client WHERE address = ?", [keys.client]) {
            ClientRecord(count: Int(sqlite3_column_int64($0, 0)), lastSeen: sqlite3_column_int64($0, 1))
        }
    }

    /// Writes what a decision asks for, in one transaction.
    public func store(_ keys: GreylistKeys, triplet: TripletRecord?, client: ClientRecord?) throws(Failure) {
        guard triplet != nil || client != nil else { return }
        try execute("BEGIN IMMEDIATE")
        do throws(Failure) {
            if let triplet {
                try run(
                    "INSERT OR REPLACE INTO triplet VALUES (?, ?, ?, ?, ?)",
                    [
                        .text(keys.network), .text(keys.sender), .text(keys.recipient), .int(triplet.firstSeen),
                        .int(triplet.lastSeen),
                    ])
            }
            if let client {
                try run(
                    "INSERT OR REPLACE INTO client VALUES (?, ?, ?)",
                    [.text(keys.client), .int(Int64(client.count)), .int(client.lastSeen)])
            }
            try execute("COMMIT")
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// postgrey's maintenance: triplets not seen for max-age, and triplets that never passed and were not
    /// retried within the retry window; clients not seen for max-age. Returns (triplets, clients) before and
    /// after for postgrey's log lines.
    public func clean(now: Int64, parameters: GreylistParameters) throws(Failure)
        -> (triplets: (Int, Int), clients: (Int, Int))
    {
        let tripletsBefore = try count("triplet")
        try run(
            "DELETE FROM triplet WHERE ?1 - last_seen > ?2 OR (last_seen - first_seen < ?3 AND ?1 - last_seen > ?4)",
            [.int(now), .int(parameters.maxAge), .int(parameters.delay), .int(parameters.retryWindow)])
        let clientsBefore = try count("client")
        try run("DELETE FROM client WHERE ?1 - last_seen > ?2", [.int(now), .int(parameters.maxAge)])
        return ((tripletsBefore, try count("triplet")), (clientsBefore, try count("client")))
    }

    // MARK: - SQLite plumbing

    enum Value {
        case text(String)
        case int(Int64)
    }

    private func count(_ table: String) throws(Failure) -> Int {
        try query("SELECT count(*) FROM \(table)", []) { Int(sqlite3_column_int64($0, 0)) } ?? 0
    }

    private func execute(_ sql: String) throws(Failure) {
        guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else { throw failure(sql) }
    }

    private func run(_ sql: String, _ values: [Value]) throws(Failure) {
        let statement = try prepare(sql, values)
        defer { sqlite3_finalize(statement) }
        guard sqlite3_step(statement) == SQLITE_DONE else { throw failure(sql) }
    }

    private func query<T>(_ sql: String, _ texts: [String], row: (OpaquePointer) -> T) throws(Failure) -> T? {
        let statement = try prepare(sql, texts.map { .text($0) })
        defer { sqlite3_finalize(statement) }
        switch sqlite3_step(statement) {
        case SQLITE_ROW: return row(statement)
        case SQLITE_DONE: return nil
        default: throw failure(sql)
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
