import Foundation
import TernCore

@testable import TernDelivery

/// An in-memory lookup table that folds keys like a hash: table, optionally failing every lookup.
struct MemoryTable: LookupTable {
    let spec: String
    let entries: [String: String]
    var failing = false

    init(_ spec: String = "hash:/etc/aliases", _ entries: [String: String], failing: Bool = false) {
        self.spec = spec
        self.entries = Dictionary(uniqueKeysWithValues: entries.map { ($0.key.lowercased(), $0.value) })
        self.failing = failing
    }

    func lookup(_ key: String) async throws -> String? {
        if failing { throw LookupError(spec: spec, reason: "cannot open file") }
        return entries[key.lowercased()]
    }
}

/// `static:value`: every key maps to the same value (virtual_uid_maps = static:5000).
struct StaticTable: LookupTable {
    let value: String
    var spec: String { "static:\(value)" }
    func lookup(_ key: String) async throws -> String? { value }
}

/// A passwd database for tests, homes under a temporary directory.
struct FakeUsers: SystemUserDirectory {
    let accounts: [SystemUser]

    func user(named name: String) throws(UserLookupError) -> SystemUser? {
        accounts.first { $0.name == name }
    }

    func user(uid: UInt32) throws(UserLookupError) -> SystemUser? {
        accounts.first { $0.uid == uid }
    }
}

/// A scratch directory with a few home directories; removed by `remove()`.
struct Sandbox {
    let root: String
    let users: FakeUsers

    init() throws {
        var template = Array((NSTemporaryDirectory() + "tern-local-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw CocoaError(.fileWriteUnknown) }
        let base = String(cString: made)
        func account(_ name: String, _ uid: UInt32) -> SystemUser {
            SystemUser(name: name, uid: uid, gid: uid == 0 ? 0 : 100, home: "\(base)/\(name)", shell: "/bin/sh")
        }
        let accounts = [
            account("root", 0), account("alice", 1001), account("bob", 1002), account("carol", 1003),
            SystemUser(name: "nobody", uid: 65534, gid: 65534, home: "/nonexistent", shell: "/usr/sbin/nologin"),
        ]
        for user in accounts where user.home.hasPrefix(base) {
            try FileManager.default.createDirectory(atPath: user.home, withIntermediateDirectories: true)
        }
        root = base
        users = FakeUsers(accounts: accounts)
    }

    func user(_ name: String) -> SystemUser { users.accounts.first { $0.name == name }! }

    func home(_ name: String) -> String { user(name).home }

    /// Writes `content` to `path` with `mode` (owned by whoever runs the tests).
    @discardableResult
    func write(_ path: String, _ content: String, mode: mode_t = 0o644) throws -> String {
        try content.write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, mode)
        return path
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }

    /// A resolver for domain acc.test with the given aliases and settings changes.
    func resolver(
        aliases: [String: String] = [:], aliasOwner: UInt32 = 0, failing: Bool = false,
        configure: (inout LocalDeliverySettings) -> Void = { _ in }
    ) -> LocalRecipientResolver {
        var settings = LocalDeliverySettings(myorigin: "acc.test")
        settings.homeMailbox = "Maildir/"
        configure(&settings)
        let table = AliasTable(table: MemoryTable("hash:/etc/aliases", aliases, failing: failing), ownerUID: aliasOwner)
        return LocalRecipientResolver(settings: settings, aliasMaps: [table], users: users) { domain in
            ["acc.test", "localhost"].contains(domain)
        }
    }
}

extension LocalRecipientResolver {
    /// Resolves `address` sent by s@client.example.
    func resolve(_ address: String, deliveredTo: [String] = []) async -> LocalResolution {
        await resolve(
            LocalRecipientRequest(
                recipient: MailAddress(address), sender: MailAddress("s@client.example"), deliveredTo: deliveredTo))
    }
}

extension LocalResolution {
    var actions: [LocalDeliveryAction] { instructions.map(\.action) }

    /// Mailbox paths, forwards and the like in a compact comparable form.
    var summary: [String] {
        instructions.map { instruction in
            switch instruction.action {
            case .mailbox(let user, .maildir(let path)): return "maildir \(user.name) \(path)"
            case .mailbox(let user, .mbox(let path)): return "mbox \(user.name) \(path)"
            case .command(let command, let user, _, _): return "command \(user.name) \(command)"
            case .file(let path, let user): return "file \(user.name) \(path)"
            case .forward(let address): return "forward \(address)"
            case .transport(let name): return "transport \(name)"
            case .discard(let status, let text): return "discard \(status) \(text)"
            case .bounce(let status, let text): return "bounce \(status) \(text)"
            case .defer(let status, let text): return "defer \(status) \(text)"
            }
        }
    }
}
