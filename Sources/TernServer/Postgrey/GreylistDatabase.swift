import Foundation
public import TernCore
public import TernPolicy

/// The triplet and client auto-whitelist database in `--dbdir` (`postgrey.sqlite`, SQLite in WAL mode),
/// where postgrey keeps `postgrey.db` and `postgrey_clients.db` (Berkeley DB). A `postgrey.lock` beside it
/// keeps a second server off the same directory, as postgrey's does. Not Sendable: one actor owns it.
public final class GreylistDatabase {
    public typealias Failure = SQLiteDatabase.Failure

    private let database: SQLiteDatabase
    private let lockDescriptor: Int32
    public var path: String { database.path }

    /// Opens (creating) the database in `directory` and takes the directory's lock.
    public init(directory: String) throws(Failure) {
        let lockPath = directory + "/postgrey.lock"
        lockDescriptor = open(lockPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard lockDescriptor >= 0 else { throw Failure(description: "ERROR: can't open lock file: \(lockPath)") }
        guard flock(lockDescriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(lockDescriptor)
            throw Failure(description: "ERROR: locked: \(lockPath)")
        }
        do throws(Failure) {
            database = try SQLiteDatabase(path: directory + "/postgrey.sqlite")
            try database.execute(
                """
                CREATE TABLE IF NOT EXISTS triplet (client_net TEXT NOT NULL, sender TEXT NOT NULL,
                    recipient TEXT NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
                    PRIMARY KEY (client_net, sender, recipient)) WITHOUT ROWID
                """)
            try database.execute("CREATE INDEX IF NOT EXISTS triplet_last_seen ON triplet (last_seen)")
            try database.execute(
                """
                CREATE TABLE IF NOT EXISTS client (address TEXT PRIMARY KEY, count INTEGER NOT NULL,
                    last_seen INTEGER NOT NULL) WITHOUT ROWID
                """)
        } catch {
            close(lockDescriptor)
            throw error
        }
    }

    deinit { close(lockDescriptor) }

    public func triplet(_ keys: GreylistKeys) throws(Failure) -> TripletRecord? {
        try database.query(
            "SELECT first_seen, last_seen FROM triplet WHERE client_net = ? AND sender = ? AND recipient = ?",
            [.text(keys.network), .text(keys.sender), .text(keys.recipient)]
        ) { TripletRecord(firstSeen: $0.int(0), lastSeen: $0.int(1)) }
    }

    public func client(_ keys: GreylistKeys) throws(Failure) -> ClientRecord? {
        try database.query("SELECT count, last_seen FROM client WHERE address = ?", [.text(keys.client)]) {
            ClientRecord(count: Int($0.int(0)), lastSeen: $0.int(1))
        }
    }

    /// Writes what a decision asks for, in one transaction.
    public func store(_ keys: GreylistKeys, triplet: TripletRecord?, client: ClientRecord?) throws(Failure) {
        guard triplet != nil || client != nil else { return }
        try database.transaction { () throws(Failure) in
            if let triplet {
                try database.run(
                    "INSERT OR REPLACE INTO triplet VALUES (?, ?, ?, ?, ?)",
                    [
                        .text(keys.network), .text(keys.sender), .text(keys.recipient), .int(triplet.firstSeen),
                        .int(triplet.lastSeen),
                    ])
            }
            if let client {
                try database.run(
                    "INSERT OR REPLACE INTO client VALUES (?, ?, ?)",
                    [.text(keys.client), .int(Int64(client.count)), .int(client.lastSeen)])
            }
        }
    }

    /// postgrey's maintenance: triplets not seen for max-age, and triplets that never passed and were not
    /// retried within the retry window; clients not seen for max-age. Returns (triplets, clients) before and
    /// after for postgrey's log lines.
    public func clean(now: Int64, parameters: GreylistParameters) throws(Failure)
        -> (triplets: (Int, Int), clients: (Int, Int))
    {
        let tripletsBefore = try count("triplet")
        try database.run(
            "DELETE FROM triplet WHERE ?1 - last_seen > ?2 OR (last_seen - first_seen < ?3 AND ?1 - last_seen > ?4)",
            [.int(now), .int(parameters.maxAge), .int(parameters.delay), .int(parameters.retryWindow)])
        let clientsBefore = try count("client")
        try database.run("DELETE FROM client WHERE ?1 - last_seen > ?2", [.int(now), .int(parameters.maxAge)])
        return ((tripletsBefore, try count("triplet")), (clientsBefore, try count("client")))
    }

    private func count(_ table: String) throws(Failure) -> Int {
        try database.query("SELECT count(*) FROM \(table)", []) { Int($0.int(0)) } ?? 0
    }
}
