import TernCore

/// The settings the mail-access daemons use, typed, for one protocol (`protocol imap { }` overrides
/// applied) or for none. Built from a `DovecotConfig`; `<FILE` values are read here.
public struct DovecotSettings: Sendable {
    public enum SSLMode: String, Sendable { case no, yes, required }

    public struct Namespace: Sendable, Equatable {
        public var name: String
        public var type: String
        public var inbox: Bool
        public var separator: String
        public var prefix: String
        public var location: String
        public var hidden: Bool
        public var list: String
        public var subscriptions: Bool
        public var mailboxes: [Mailbox]
    }

    public struct Mailbox: Sendable, Equatable {
        public enum Auto: String, Sendable { case no, create, subscribe }
        public var name: String
        /// `\Drafts`, `\Sent`, ... (several separated by spaces are allowed).
        public var specialUse: [String]
        public var auto: Auto
        /// autoexpunge in seconds (0: never).
        public var autoexpunge: UInt64
    }

    /// A passdb or userdb section.
    public struct Database: Sendable, Equatable {
        public var driver: String
        public var args: String
        public var settings: [String: String]
    }

    public struct InetListener: Sendable, Equatable {
        public var name: String
        public var address: String
        public var port: Int
        public var ssl: Bool
        public var haproxy: Bool
    }

    public struct UnixListener: Sendable, Equatable {
        public var path: String
        /// Permission bits (`mode = 0660`).
        public var mode: UInt32
        public var user: String
        public var group: String
    }

    public struct Service: Sendable, Equatable {
        public var name: String
        public var settings: [String: String]
        public var inetListeners: [InetListener]
        public var unixListeners: [UnixListener]
        public var fifoListeners: [UnixListener]
    }

    public let config: DovecotConfig
    public let protocolName: String?

    public init(config: DovecotConfig, protocol protocolName: String? = nil) {
        self.config = config
        self.protocolName = protocolName
    }

    /// Any global setting's effective value (with this protocol's overrides); "" for unknown names.
    public func string(_ key: String) -> String { config.value(key, protocol: protocolName) ?? "" }
    public func bool(_ key: String) -> Bool { string(key) == "yes" }
    public func number(_ key: String) -> Int { Int(string(key)) ?? 0 }
    /// A time setting in seconds.
    public func seconds(_ key: String) -> UInt64 { DovecotUnits.seconds(string(key)) ?? 0 }
    /// A size setting in bytes.
    public func bytes(_ key: String) -> UInt64 { DovecotUnits.parseSize(string(key).replacingSpaces()) ?? 0 }
    /// A space/comma separated list setting.
    public func list(_ key: String) -> [String] {
        string(key).split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" }).map(String.init)
    }

    /// The contents of a `key = <FILE` setting (or the value itself when it is written inline); throws
    /// Dovecot's error when the file cannot be read.
    public func contents(_ key: String) throws(DovecotConfigError) -> String {
        guard let setting = config.setting(key, protocol: protocolName), let path = setting.filePath else {
            return string(key)
        }
        do throws(FileError) {
            return try ConfigFile.read(path)
        } catch {
            throw DovecotConfigError(
                file: setting.location.file, line: setting.location.line,
                message: "\(key): Can't open file \(path): " + DovecotIncludes.openMessage(error))
        }
    }

    public var protocols: [String] { list("protocols") }
    /// `listen = *, ::`.
    public var listen: [String] { list("listen") }
    public var ssl: SSLMode { SSLMode(rawValue: string("ssl")) ?? .yes }
    public var sslMinProtocol: String { string("ssl_min_protocol") }
    public var disablePlaintextAuth: Bool { bool("disable_plaintext_auth") }
    public var authMechanisms: [String] { list("auth_mechanisms") }
    public var mailLocation: String { string("mail_location") }
    public var firstValidUID: Int { number("first_valid_uid") }
    public var lastValidUID: Int { number("last_valid_uid") }
    public var mailPrivilegedGroup: String { string("mail_privileged_group") }
    public var loginGreeting: String { string("login_greeting") }
    public var logPath: String { string("log_path") }
    public var infoLogPath: String { string("info_log_path") }
    public var authVerbose: Bool { bool("auth_verbose") }
    public var authDebug: Bool { bool("auth_debug") }
    public var mailDebug: Bool { bool("mail_debug") }
    public var mailMaxUserIPConnections: Int { number("mail_max_userip_connections") }
    public var pop3UIDLFormat: String { string("pop3_uidl_format") }
    public var baseDir: String { string("base_dir") }
    public var stateDir: String { string("state_dir") }
    public var authFailureDelay: UInt64 { seconds("auth_failure_delay") }
    public var imapIdleNotifyInterval: UInt64 { seconds("imap_idle_notify_interval") }
    public var defaultLoginUser: String { string("default_login_user") }
    public var defaultInternalUser: String { string("default_internal_user") }

    public var namespaces: [Namespace] {
        let schema = DovecotSchema.root.sections["namespace"]
        let mailboxSchema = schema?.sections["mailbox"]
        return block.sections("namespace").map { section in
            let s = Self.values(section.block, schema)
            let mailboxes = section.block.sections("mailbox").map { mailbox in
                let m = Self.values(mailbox.block, mailboxSchema)
                return Mailbox(
                    name: mailbox.name ?? "", specialUse: (m["special_use"] ?? "").split(separator: " ").map(String.init),
                    auto: Mailbox.Auto(rawValue: m["auto"] ?? "no") ?? .no,
                    autoexpunge: DovecotUnits.seconds(m["autoexpunge"] ?? "0") ?? 0)
            }
            return Namespace(
                name: section.name ?? "", type: s["type"] ?? "private", inbox: s["inbox"] == "yes",
                separator: s["separator"] ?? "", prefix: s["prefix"] ?? "", location: s["location"] ?? "",
                hidden: s["hidden"] == "yes", list: s["list"] ?? "yes", subscriptions: s["subscriptions"] != "no",
                mailboxes: mailboxes)
        }
    }

    public var passdbs: [Database] { databases("passdb") }
    public var userdbs: [Database] { databases("userdb") }

    /// Services with Dovecot's built-in ones (imap-login listening on 143/993, ...) merged in.
    public var services: [Service] {
        let schema = DovecotSchema.root.sections["service"]
        return config.effectiveGlobal().sections("service").map { section in
            let inet = section.block.sections("inet_listener").map { listener in
                let v = Self.values(listener.block, schema?.sections["inet_listener"])
                return InetListener(
                    name: listener.name ?? "", address: v["address"] ?? "", port: Int(v["port"] ?? "") ?? 0,
                    ssl: v["ssl"] == "yes", haproxy: v["haproxy"] == "yes")
            }
            func unix(_ kind: String) -> [UnixListener] {
                section.block.sections(kind).map { listener in
                    let v = Self.values(listener.block, schema?.sections[kind])
                    return UnixListener(
                        path: listener.name ?? "", mode: UInt32(v["mode"] ?? "", radix: 8) ?? 0o600,
                        user: v["user"] ?? "", group: v["group"] ?? "")
                }
            }
            return Service(
                name: section.name ?? "", settings: Self.values(section.block, schema), inetListeners: inet,
                unixListeners: unix("unix_listener"), fifoListeners: unix("fifo_listener"))
        }
    }

    public func service(_ name: String) -> Service? { services.first { $0.name == name } }

    /// `plugin { }` settings.
    public var plugin: [String: String] { block.sections("plugin").first.map { Self.values($0.block, nil) } ?? [:] }

    /// The global block, with sections of matching protocol filters added (a `protocol lda { plugin { } }`).
    private var block: DovecotBlock {
        var merged = config.global
        if let protocolName {
            for (filter, block) in config.filters where filter.matches(protocol: protocolName) {
                merged.merge(DovecotBlock(sectionsOnly: block))
            }
        }
        return merged
    }

    private func databases(_ kind: String) -> [Database] {
        let schema = DovecotSchema.root.sections[kind]
        return block.sections(kind).map { section in
            let v = Self.values(section.block, schema)
            return Database(driver: v["driver"] ?? "", args: v["args"] ?? "", settings: v)
        }
    }

    /// A section's settings over its schema's defaults.
    private static func values(_ block: DovecotBlock, _ schema: DovecotSchema?) -> [String: String] {
        var out: [String: String] = [:]
        for (key, setting) in schema?.settings ?? [:] { out[key] = setting.defaultValue }
        for (key, value) in block.settings { out[key] = value.value }
        return out
    }
}

extension DovecotBlock {
    init(sectionsOnly block: DovecotBlock) {
        self.init()
        sections = block.sections
    }
}

extension String {
    fileprivate func replacingSpaces() -> String { filter { $0 != " " } }
}
