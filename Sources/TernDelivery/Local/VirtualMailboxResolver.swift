public import TernCore

/// The virtual(8) parameters, with Postfix 3.7 defaults.
public struct VirtualMailboxSettings: Sendable {
    /// virtual_mailbox_base: prefix of every mailbox path; must be absolute.
    public var mailboxBase: String
    /// virtual_minimum_uid: lowest uid a mailbox may be written as.
    public var minimumUID: Int = 100
    /// virtual_mailbox_limit: mbox size limit in bytes (0 = none); the writer enforces it.
    public var mailboxLimit: Int = 51_200_000
    /// recipient_delimiter, for the `user@domain` lookup after `user+ext@domain`.
    public var recipientDelimiter: String = ""
    public var doubleBounceSender: String = "double-bounce"

    public init(mailboxBase: String) {
        self.mailboxBase = mailboxBase
    }

    /// From main.cf values (after `$name` expansion); missing parameters keep Postfix's defaults.
    public init(parameters: [String: String]) {
        self.init(mailboxBase: parameters["virtual_mailbox_base"] ?? "")
        if let value = parameters["virtual_minimum_uid"], let n = Int(value) { minimumUID = n }
        if let value = parameters["virtual_mailbox_limit"], let n = Int(value) { mailboxLimit = n }
        recipientDelimiter = parameters["recipient_delimiter"] ?? recipientDelimiter
        doubleBounceSender = parameters["double_bounce_sender"] ?? doubleBounceSender
    }
}

/// What virtual(8) should do with one recipient.
public enum VirtualDeliveryAction: Sendable, Hashable {
    /// Write `location` as uid/gid, honouring virtual_mailbox_limit (`sizeLimit`, 0 = none).
    case mailbox(MailboxLocation, uid: UInt32, gid: UInt32, sizeLimit: Int)
    case bounce(status: String, text: String)
    case `defer`(status: String, text: String)
}

public struct VirtualDeliveryInstruction: Sendable, Hashable {
    public let action: VirtualDeliveryAction
    public let recipient: MailAddress
    /// virtual(8) puts the recipient itself in `Delivered-To:`.
    public let deliveredTo: String
    /// A warning to log beside the outcome (`recipient x: bad uid 12 in static:12`), if any.
    public let warning: String?
}

/// virtual(8) address resolution: virtual_mailbox_maps gives the mailbox path under
/// virtual_mailbox_base (trailing `/` = Maildir), virtual_uid_maps / virtual_gid_maps the owner.
/// Each table is searched with `user+ext@domain`, `user@domain`, then `@domain` (virtual(8)
/// "MAILBOX LOCATION"); unknown recipients bounce with `5.1.1 unknown user: "user@domain"`.
public struct VirtualMailboxResolver: Sendable {
    public let settings: VirtualMailboxSettings
    public let mailboxMaps: [any LookupTable]
    public let uidMaps: [any LookupTable]
    public let gidMaps: [any LookupTable]
    /// virtual_mailbox_domains membership (a domain list that may include tables).
    public let isMailboxDomain: @Sendable (String) async throws -> Bool

    public init(
        settings: VirtualMailboxSettings, mailboxMaps: [any LookupTable], uidMaps: [any LookupTable],
        gidMaps: [any LookupTable], isMailboxDomain: @escaping @Sendable (String) async throws -> Bool
    ) {
        self.settings = settings
        self.mailboxMaps = mailboxMaps
        self.uidMaps = uidMaps
        self.gidMaps = gidMaps
        self.isMailboxDomain = isMailboxDomain
    }

    /// Whether `domain` is a virtual mailbox domain (the address class virtual(8) serves).
    public func handles(domain: String) async throws -> Bool {
        try await isMailboxDomain(domain.lowercased())
    }

    public func keys(for address: MailAddress) -> [String] {
        let full = address.text.lowercased()
        let local = address.localPart.lowercased()
        var keys = [full]
        if let split = splitAddressExtension(
            local, delimiters: settings.recipientDelimiter, doubleBounceSender: settings.doubleBounceSender),
            let domain = address.domain
        {
            keys.append("\(split.user)@\(domain)")
        }
        if let domain = address.domain { keys.append("@\(domain)") }
        return keys
    }

    public func resolve(recipient: MailAddress, deliveredTo: [String] = []) async -> VirtualDeliveryInstruction {
        let user = recipient.text.lowercased()
        func result(_ action: VirtualDeliveryAction, warning: String? = nil) -> VirtualDeliveryInstruction {
            VirtualDeliveryInstruction(
                action: action, recipient: recipient, deliveredTo: recipient.text, warning: warning)
        }
        let configError = VirtualDeliveryAction.defer(status: "4.3.5", text: DeliveryStatusText.configurationError)
        if deliveredTo.contains(where: { $0.trimmingWhitespace().lowercased() == user }) {
            return result(.bounce(status: "5.4.6", text: DeliveryStatusText.forwardingLoop(recipient.text)))
        }
        guard settings.mailboxBase.hasPrefix("/") else {
            return result(
                configError, warning: "do not specify relative pathname: virtual_mailbox_base = \(settings.mailboxBase)"
            )
        }
        let mailbox: String
        switch await find(mailboxMaps, recipient) {
        case .failure(let error):
            return result(configError, warning: "table \(error.spec): lookup \(user): \(error.reason)")
        case .success(nil):
            return result(.bounce(status: "5.1.1", text: DeliveryStatusText.unknownUser(user)))
        case .success(let value?):
            mailbox = settings.mailboxBase + "/" + value
        }
        let uid: Int
        switch await find(uidMaps, recipient) {
        case .failure(let error):
            return result(configError, warning: "table \(error.spec): lookup \(user): \(error.reason)")
        case .success(nil):
            return result(configError, warning: "recipient \(user): not found in \(Self.title(uidMaps))")
        case .success(let value?):
            uid = Self.atol(value)
            guard uid >= settings.minimumUID else {
                return result(configError, warning: "recipient \(user): bad uid \(value) in \(Self.title(uidMaps))")
            }
        }
        let gid: Int
        switch await find(gidMaps, recipient) {
        case .failure(let error):
            return result(configError, warning: "table \(error.spec): lookup \(user): \(error.reason)")
        case .success(nil):
            return result(configError, warning: "recipient \(user): not found in \(Self.title(gidMaps))")
        case .success(let value?):
            gid = Self.atol(value)
            guard gid > 0 else {
                return result(configError, warning: "recipient \(user): bad gid \(value) in \(Self.title(gidMaps))")
            }
        }
        guard let uid32 = UInt32(exactly: uid), let gid32 = UInt32(exactly: gid) else {
            return result(configError, warning: "recipient \(user): uid/gid out of range")
        }
        return result(
            .mailbox(MailboxLocation(path: mailbox), uid: uid32, gid: gid32, sizeLimit: settings.mailboxLimit))
    }

    /// mail_addr_find over a list of tables: for each key, each table in order; errors stop the search.
    func find(_ maps: [any LookupTable], _ address: MailAddress) async -> Result<String?, LookupError> {
        for key in keys(for: address) {
            for table in maps {
                do {
                    if let value = try await table.lookup(key) { return .success(value) }
                } catch let error as LookupError {
                    return .failure(error)
                } catch {
                    return .failure(LookupError(spec: table.spec, reason: "\(error)"))
                }
            }
        }
        return .success(nil)
    }

    /// The maps' title for warnings, as Postfix names a parameter's table list.
    static func title(_ maps: [any LookupTable]) -> String {
        maps.map(\.spec).joined(separator: " ")
    }

    /// atol(3): optional sign and leading digits, 0 when there are none.
    static func atol(_ text: String) -> Int {
        let trimmed = text.drop(while: { $0 == " " || $0 == "\t" })
        var sign = 1
        var rest = Substring(trimmed)
        if rest.first == "-" || rest.first == "+" {
            sign = rest.first == "-" ? -1 : 1
            rest = rest.dropFirst()
        }
        let digits = rest.prefix(while: { $0.isASCII && $0.isNumber }).prefix(18)
        return sign * (Int(digits) ?? 0)
    }
}
