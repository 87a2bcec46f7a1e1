import Foundation
import Synchronization

/// One line of a Dovecot passwd-file: `user:password:uid:gid:gecos:home:shell:extra_fields`
/// (https://doc.dovecot.org/2.3/configuration_manual/authentication/passwd_file/). Fields may be missing
/// from the end; extra fields are space-separated `key=value`, `userdb_` ones going to the userdb reply.
public struct PasswdFileEntry: Sendable, Equatable {
    public var user: String
    public var password: String
    public var uid: String
    public var gid: String
    public var gecos: String
    public var home: String
    public var shell: String
    public var extraFields: [AuthField]

    /// Parses one line; nil for comments, blank lines and lines without a user name.
    public init?(line: Substring) {
        let trimmed = line.drop { $0 == " " || $0 == "\t" }
        guard !trimmed.isEmpty, !trimmed.hasPrefix("#") else { return nil }
        let columns = line.split(separator: ":", maxSplits: 7, omittingEmptySubsequences: false).map(String.init)
        guard let user = columns.first, !user.isEmpty else { return nil }
        func column(_ index: Int) -> String { index < columns.count ? columns[index] : "" }
        self.user = user
        password = column(1)
        uid = column(2)
        gid = column(3)
        gecos = column(4)
        home = column(5)
        shell = column(6)
        extraFields = column(7).split(separator: " ").map(AuthField.init(parsing:))
    }

    /// True when the line has userdb data (uid and gid, or userdb_ fields); Dovecot refuses userdb lookups
    /// of bare `user:password` lines ("User x is missing userdb info").
    var hasUserdbInfo: Bool {
        (!uid.isEmpty && !gid.isEmpty) || extraFields.contains { $0.key.hasPrefix("userdb_") }
    }
}

/// The parsed file: entries by user name (the first line of a name wins, as in Dovecot).
struct PasswdFileContents: Sendable {
    var entries: [String: PasswdFileEntry] = [:]

    /// A passwd-file larger than this is refused rather than read into memory.
    static let maximumSize = 64 << 20

    init(text: String) {
        for line in text.split(whereSeparator: \.isNewline) {
            guard let entry = PasswdFileEntry(line: line), entries[entry.user] == nil else { continue }
            entries[entry.user] = entry
        }
    }
}

/// Reads passwd-files and re-reads one when its inode, size or mtime changes (checked on every lookup,
/// one stat(2)). Paths may hold variables (`/etc/dovecot/%d/passwd`); each expanded path is cached.
final class PasswdFileCache: Sendable {
    private struct Cached: Sendable {
        var identity: [Int]
        var contents: PasswdFileContents
    }

    private let files = Mutex<[String: Cached]>([:])
    /// Distinct expanded paths kept; beyond it the cache starts over (user-controlled %d must not grow it).
    static let maximumFiles = 1024

    func contents(of path: String) throws -> PasswdFileContents {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw PasswdFileError(message: "stat(\(path)) failed: \(String(cString: strerror(errno)))")
        }
        let identity = [
            Int(info.st_ino), Int(info.st_size), info.st_mtim.tv_sec, info.st_mtim.tv_nsec, Int(info.st_dev),
        ]
        if let cached = files.withLock({ $0[path] }), cached.identity == identity { return cached.contents }
        guard Int(info.st_size) <= PasswdFileContents.maximumSize,
            let data = FileManager.default.contents(atPath: path)
        else { throw PasswdFileError(message: "open(\(path)) failed: \(String(cString: strerror(errno)))") }
        let contents = PasswdFileContents(text: String(decoding: data, as: UTF8.self))
        files.withLock { files in
            if files.count >= Self.maximumFiles { files.removeAll() }
            files[path] = Cached(identity: identity, contents: contents)
        }
        return contents
    }
}

struct PasswdFileError: Error {
    let message: String
}

/// The `passwd-file` passdb and userdb: `args = [scheme=X] [username_format=%u] PATH`.
public struct PasswdFileDB: PassDB, UserDB {
    public let driver = "passwd-file"
    public let path: String
    public let defaultScheme: String
    public let usernameFormat: String
    private let cache = PasswdFileCache()

    public init(path: String, defaultScheme: String = "CRYPT", usernameFormat: String = "%u") {
        self.path = path
        self.defaultScheme = defaultScheme
        self.usernameFormat = usernameFormat
    }

    /// Parses the args string of `passdb { driver = passwd-file  args = ... }`.
    public init(args: String) {
        var scheme = "CRYPT"
        var format = "%u"
        var path = ""
        for word in args.split(separator: " ") {
            if word.hasPrefix("scheme=") {
                scheme = String(word.dropFirst("scheme=".count))
            } else if word.hasPrefix("username_format=") {
                format = String(word.dropFirst("username_format=".count))
            } else {
                path = String(word)
            }
        }
        self.init(path: path, defaultScheme: scheme, usernameFormat: format)
    }

    func entry(for request: AuthRequest) throws -> PasswdFileEntry? {
        let variables = request.variables()
        let contents = try cache.contents(of: variables.expand(path))
        return contents.entries[variables.expand(usernameFormat)]
    }

    public func lookupCredentials(_ request: AuthRequest) async -> CredentialsLookup {
        do {
            guard let entry = try entry(for: request) else { return .userUnknown }
            var fields = entry.extraFields
            // `user=` in the extra fields renames the user (Dovecot's passdb "user" field).
            let user = fields.last { $0.key == "user" }?.value ?? request.user
            fields.removeAll { $0.key == "user" }
            let password = entry.password.isEmpty ? nil : StoredPassword(entry.password, defaultScheme: defaultScheme)
            return .found(PassdbEntry(user: user, password: password, fields: fields))
        } catch let error as PasswdFileError {
            return .internalFailure(error.message)
        } catch {
            return .internalFailure("\(error)")
        }
    }

    public func lookupUser(_ request: AuthRequest) async -> UserdbResult {
        do {
            guard let entry = try entry(for: request) else { return .userUnknown }
            guard entry.hasUserdbInfo else {
                return .internalFailure("passwd-file \(path):User \(entry.user) is missing userdb info")
            }
            var fields: [AuthField] = []
            if !entry.uid.isEmpty { fields.append(AuthField("uid", entry.uid)) }
            if !entry.gid.isEmpty { fields.append(AuthField("gid", entry.gid)) }
            if !entry.home.isEmpty { fields.append(AuthField("home", entry.home)) }
            for field in entry.extraFields where field.key.hasPrefix("userdb_") {
                fields.append(AuthField(String(field.key.dropFirst("userdb_".count)), field.value))
            }
            return .found(UserRecord(user: request.user, fields: fields))
        } catch let error as PasswdFileError {
            return .internalFailure(error.message)
        } catch {
            return .internalFailure("\(error)")
        }
    }
}
