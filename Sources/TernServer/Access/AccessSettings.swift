import Foundation
public import TernAuth
public import TernConfig
public import TernMailbox

/// What the mail-access daemon takes from dovecot.conf: listeners, the auth service, login texts and each
/// user's mail store. Built once at start (and again on reload).
public struct AccessSettings: Sendable {
    /// One inet_listener of imap-login or pop3-login.
    public struct Listener: Sendable, Equatable {
        public var protocolName: String
        public var name: String
        public var host: String
        public var port: Int
        /// Implicit TLS (imaps, pop3s).
        public var ssl: Bool
    }

    public enum SettingsError: Error, CustomStringConvertible {
        case config(DovecotConfigError)
        case invalid(String)

        public var description: String {
            switch self {
            case .config(let error): "doveconf: Fatal: \(error)"
            case .invalid(let message): "Fatal: \(message)"
            }
        }
    }

    public let path: String
    public let config: DovecotConfig
    public let global: DovecotSettings
    public let tlsCertificate: String?
    public let tlsKey: String?

    /// `readingTLSFiles` false: ssl_cert/ssl_key are not read (a mail session worker runs as the user, who
    /// cannot read the key, and has no use for it).
    public static func load(path: String, readingTLSFiles: Bool = true) throws(SettingsError) -> AccessSettings {
        do {
            return try AccessSettings(path: path, config: DovecotConfig.load(path: path), readingTLSFiles: readingTLSFiles)
        } catch {
            throw .config(error)
        }
    }

    init(path: String, config: DovecotConfig, readingTLSFiles: Bool) throws(DovecotConfigError) {
        self.path = path
        self.config = config
        global = DovecotSettings(config: config)
        if global.ssl != .no && readingTLSFiles {
            tlsCertificate = try global.contents("ssl_cert")
            tlsKey = try global.contents("ssl_key")
        } else {
            tlsCertificate = nil
            tlsKey = nil
        }
    }

    public func settings(protocol name: String) -> DovecotSettings { DovecotSettings(config: config, protocol: name) }

    public var baseDirectory: String { global.baseDir }
    public var pidFile: String { baseDirectory + "/master.pid" }
    /// The socket the login processes authenticate on (Dovecot's login processes use `login/login`
    /// through the master; Tern's talk the auth-client protocol on this one).
    public var loginAuthSocket: String { baseDirectory + "/tern-auth-login" }
    public var loginUser: String { global.defaultInternalUser }
    public var tlsEnabled: Bool { tlsCertificate != nil && tlsKey != nil }

    /// The inet listeners of the protocols in `protocols` (port 0 disables one; no address means `listen`).
    public var listeners: [Listener] {
        let protocols = Set(global.protocols)
        var out: [Listener] = []
        for (service, protocolName) in [("imap-login", "imap"), ("pop3-login", "pop3")]
        where protocols.contains(protocolName) {
            for listener in global.service(service)?.inetListeners ?? [] where listener.port > 0 {
                if listener.ssl && !tlsEnabled { continue }
                let addresses = listener.address.isEmpty ? global.listen : Self.words(listener.address)
                for address in addresses {
                    out.append(
                        Listener(
                            protocolName: protocolName, name: listener.name, host: Self.bindAddress(address),
                            port: listener.port, ssl: listener.ssl))
                }
            }
        }
        return out
    }

    /// The most connections a service takes at once: process_limit × client_limit, each falling back to
    /// default_process_limit / default_client_limit (Dovecot's ceiling for a login service).
    public func connectionLimit(service name: String) -> Int {
        let settings = global.service(name)?.settings ?? [:]
        func value(_ key: String, _ fallback: String) -> Int {
            let own = Int(settings[key] ?? "") ?? 0
            return own > 0 ? own : max(1, global.number(fallback))
        }
        let (processes, clients) = (value("process_limit", "default_process_limit"), value("client_limit", "default_client_limit"))
        return processes.multipliedReportingOverflow(by: clients).overflow ? Int.max : processes * clients
    }

    /// `service auth { unix_listener PATH { ... } }` sockets other clients use (Postfix's
    /// `smtpd_sasl_path = private/auth`), relative names under base_dir. Dovecot's internal ones (master,
    /// userdb, token login) speak other protocols and are left out.
    public var authListeners: [AuthSocketServer.Listener] {
        let dovecotInternal: Set<String> = ["auth-master", "auth-userdb", "token-login/tokenlogin", "login/login"]
        return (global.service("auth")?.unixListeners ?? []).filter { !dovecotInternal.contains($0.path) }.map { listener in
            let path = listener.path.hasPrefix("/") ? listener.path : baseDirectory + "/" + listener.path
            return AuthSocketServer.Listener(
                path: path, mode: mode_t(listener.mode), user: reference(listener.user),
                group: reference(listener.group))
        }
    }

    /// A `$setting` reference in a built-in default (`user = $default_internal_user`), resolved.
    func reference(_ value: String) -> String {
        value.hasPrefix("$") ? global.string(String(value.dropFirst())) : value
    }

    /// The auth service of the passdb/userdb sections and auth_* settings.
    public func authService(log: DovecotLog) throws(SettingsError) -> AuthService {
        var settings = AuthSettings()
        settings.mechanisms = global.authMechanisms.compactMap { SASLMechanism(name: $0.uppercased()) }
        settings.failureDelay = .seconds(Int64(global.authFailureDelay))
        settings.verbose = global.authVerbose
        let format = global.string("auth_username_format")
        if !format.isEmpty { settings.usernameFormat = format }
        do {
            let passdbs = try global.passdbs.map { db throws(AuthDrivers.UnknownDriver) in
                try AuthDrivers.passdb(driver: db.driver, args: db.args)
            }
            let userdbs = try global.userdbs.map { db throws(AuthDrivers.UnknownDriver) in
                try AuthDrivers.userdb(driver: db.driver, args: db.args)
            }
            return AuthService(settings: settings, passdbs: passdbs, userdbs: userdbs) { line in
                log.log("auth", line.level == .error ? .error : .info, line.message)
            }
        } catch {
            throw .invalid("\(error)")
        }
    }

    /// `user`'s mail store: mail_location (or a userdb `mail` field) expanded for the user, with the inbox
    /// namespace's separator and mailbox settings. `maildir:` and `mbox:` (fs layout; `INBOX=`; `INDEX=` and
    /// `LAYOUT=fs` are accepted, Tern's index stays under `.imap` of the root) are served.
    /// `sharedHomes`: the users whose mailboxes the shared namespace shows, with their homes; with
    /// `sharedLookup` (a userdb lookup of an owner's home) the session keeps them current as acl_shared_dict
    /// changes (`aclGroups`: the user's groups there).
    public func mailStore(
        user: String, home: String, mailLocation: String?, sharedHomes: [String: String] = [:],
        aclGroups: [String] = [], sharedLookup: SharedOwnerDirectory.HomeLookup? = nil
    ) throws(SettingsError) -> MailStoreSettings {
        let location = (mailLocation?.isEmpty == false ? mailLocation : nil) ?? global.mailLocation
        let expanded = Self.expand(location, user: user, home: home)
        let parts = expanded.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 2, !parts[1].isEmpty, let format = MailStoreSettings.Format(rawValue: parts[0]) else {
            throw .invalid("mail_location \(location): only maildir: and mbox: locations are supported")
        }
        if let layout = parts.dropFirst(2).first(where: { $0.hasPrefix("LAYOUT=") }), layout != "LAYOUT=fs",
            format == .mbox
        {
            throw .invalid("mail_location \(location): mbox supports only LAYOUT=fs")
        }
        let inbox = parts.dropFirst(2).first { $0.hasPrefix("INBOX=") }.map { option in
            let path = String(option.dropFirst(6))
            return path.hasPrefix("~/") ? home + path.dropFirst() : path
        }
        let namespace = global.namespaces.first { $0.inbox } ?? global.namespaces.first
        // Dovecot's default separator is the layout's: `.` for Maildir++, `/` for mbox's fs layout.
        let separator = namespace?.separator.first ?? (format == .mbox ? "/" : ".")
        let mailboxes = (namespace?.mailboxes ?? []).map { mailbox in
            MailboxSettings(
                name: mailbox.name, specialUse: mailbox.specialUse,
                auto: MailboxSettings.Auto(rawValue: mailbox.auto.rawValue) ?? .no)
        }
        var settings = MailStoreSettings(
            format: format, root: parts[1], inboxPath: inbox, separator: separator, mailboxes: mailboxes,
            privilegedGroup: privilegedGroup,
            shared: format == .maildir ? sharedNamespace(user: user, home: home, owners: sharedHomes) : nil)
        if let shared = settings.shared, let sharedLookup, let dictPath = sharedDictPath {
            settings.sharedOwners = SharedOwnerDirectory(
                dictPath: dictPath, user: user, groups: aclGroups, homes: sharedHomes, lookupHome: sharedLookup
            ) { [self] homes in
                sharedNamespace(user: user, home: home, owners: homes) ?? shared
            }
        }
        return settings
    }

    /// mail_privileged_group as a gid (a name or a number); nil when unset or unknown.
    public var privilegedGroup: UInt32? {
        let group = global.mailPrivilegedGroup
        if group.isEmpty { return nil }
        return UInt32(group) ?? getgrnam(group).map { $0.pointee.gr_gid }
    }

    /// %u %n %d %h and ~/ in a mail_location.
    static func expand(_ text: String, user: String, home: String) -> String {
        var out = ""
        var characters = text[...]
        if characters.hasPrefix("maildir:~/") || characters.hasPrefix("mbox:~/") {
            let scheme = characters.prefix { $0 != ":" }
            out = scheme + ":" + home + "/"
            characters = characters.dropFirst(scheme.count + 3)
        }
        let local = user.split(separator: "@", maxSplits: 1).first.map(String.init) ?? user
        let domain = user.contains("@") ? String(user.split(separator: "@", maxSplits: 1)[1]) : ""
        while let c = characters.first {
            characters = characters.dropFirst()
            guard c == "%", let v = characters.first else { out.append(c); continue }
            characters = characters.dropFirst()
            switch v {
            case "u": out += user
            case "n": out += local
            case "d": out += domain
            case "h": out += home
            case "%": out += "%"
            default: out += "%\(v)"
            }
        }
        return out
    }

    static func words(_ text: String) -> [String] {
        text.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
    }

    /// `*` is every IPv4 address, `::` every IPv6 one (Dovecot's listen syntax).
    static func bindAddress(_ address: String) -> String {
        switch address {
        case "*": "0.0.0.0"
        case "[::]": "::"
        default: address.hasPrefix("[") ? String(address.dropFirst().dropLast()) : address
        }
    }
}
