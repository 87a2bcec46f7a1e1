public import TernCore

/// One recipient handed to local(8) by the queue manager: the address (already known to be in
/// mydestination), its original form (ORCPT / `X-Original-To:`), the envelope sender, and the
/// `Delivered-To:` values already in the message (for mail forwarding loop detection).
public struct LocalRecipientRequest: Sendable {
    public var recipient: MailAddress
    public var originalRecipient: String
    public var sender: MailAddress
    public var deliveredTo: [String]

    public init(
        recipient: MailAddress, originalRecipient: String? = nil, sender: MailAddress, deliveredTo: [String] = []
    ) {
        self.recipient = recipient
        self.originalRecipient = originalRecipient ?? recipient.text
        self.sender = sender
        self.deliveredTo = deliveredTo
    }
}

/// local(8) address resolution: aliases (aliases(5)), `:include:` files, ~/.forward, then the
/// mailbox (mailbox_command, home_mailbox, mail_spool_directory), following Postfix's
/// src/local/{recipient,alias,token,resolve,include,dotforward,mailbox,unknown}.c. It reads passwd,
/// .forward and :include: files and asks the alias tables; it writes nothing. The result lists what to
/// deliver where, with the rights to use, for the delivery agent and the queue manager to carry out.
public struct LocalRecipientResolver: Sendable {
    public let settings: LocalDeliverySettings
    public let aliasMaps: [AliasTable]
    public let users: any SystemUserDirectory
    /// Whether trivial-rewrite would hand this (lower-cased) domain to local(8): mydestination,
    /// inet_interfaces, proxy_interfaces. Expansions to other domains are forwarded.
    public let isLocalDomain: @Sendable (String) async throws -> Bool

    /// Postfix's recursion bound (state.level > 100 in recipient.c, alias.c, include.c).
    static let nestingLimit = 100

    public init(
        settings: LocalDeliverySettings, aliasMaps: [AliasTable], users: any SystemUserDirectory = SystemPasswd(),
        isLocalDomain: @escaping @Sendable (String) async throws -> Bool
    ) {
        self.settings = settings
        self.aliasMaps = aliasMaps
        self.users = users
        self.isLocalDomain = isLocalDomain
    }

    public func resolve(_ request: LocalRecipientRequest) async -> LocalResolution {
        var walk = Walk(loopInfo: Set(request.deliveredTo.map { $0.trimmingWhitespace().lowercased() }))
        let attr = DeliverAttributes(
            recipient: request.recipient.text, originalRecipient: request.originalRecipient,
            sender: request.sender.text)
        await deliverRecipient(attr, UserAttributes(), &walk)
        return LocalResolution(instructions: walk.instructions, warnings: walk.warnings)
    }

    // MARK: - recipient.c

    /// deliver_recipient: loop and nesting checks, then split the address into user and extension.
    func deliverRecipient(_ attrIn: DeliverAttributes, _ usr: UserAttributes, _ walk: inout Walk) async {
        var attr = attrIn
        attr.level += 1
        if attr.level > Self.nestingLimit {
            walk.warnings.append("recipient nesting limit exceeded for \(attr.recipient)")
            return walk.emit(.bounce(status: "5.4.6", text: DeliveryStatusText.nestingLimit), attr)
        }
        guard walk.firstTime("recipient \(attr.level) \(attr.recipient)") else { return }
        if walk.loopInfo.contains(attr.recipient.lowercased()) {
            return walk.emit(.bounce(status: "5.4.6", text: DeliveryStatusText.forwardingLoop(attr.recipient)), attr)
        }
        if attr.delivered == nil { attr.delivered = attr.recipient }
        let folded = attr.recipient.lowercased()
        if let at = folded.lastIndex(of: "@") {
            attr.local = String(folded[..<at])
            attr.domain = String(folded[folded.index(after: at)...])
        } else {
            walk.warnings.append("no @ in recipient address: \(folded)")
            attr.local = folded
            attr.domain = nil
        }
        attr.user = attr.local
        attr.extension = nil
        if let split = splitAddressExtension(
            attr.local, delimiters: settings.recipientDelimiter, doubleBounceSender: settings.doubleBounceSender)
        {
            if split.extension.contains("/") {
                // Postfix drops an extension with '/' rather than let it reach a file name.
                walk.warnings.append("address with illegal extension: \(attr.local)")
                attr.local = split.user
            } else {
                attr.extension = split.extension
            }
            attr.user = split.user
        }
        attr.unmatched = attr.extension
        if attr.user.isEmpty {
            return walk.emit(.bounce(status: "5.1.3", text: DeliveryStatusText.nullUsername(attr.recipient)), attr)
        }
        await deliverSwitch(attr, usr, &walk)
    }

    /// deliver_switch: aliases first (full local part, then without extension), then forwarding
    /// for owner-/include expansions, then ~/.forward, the mailbox, and finally "unknown user".
    func deliverSwitch(_ attrIn: DeliverAttributes, _ usr: UserAttributes, _ walk: inout Walk) async {
        var attr = attrIn
        attr.level += 1
        attr.unmatched = nil
        if await deliverAlias(attr, usr, name: attr.local, &walk) { return }
        if let ext = attr.extension {
            if settings.propagateUnmatchedExtensions.alias { attr.unmatched = ext }
            if await deliverAlias(attr, usr, name: attr.user, &walk) { return }
            attr.unmatched = ext
        }
        // Mail expanded under an owner- alias, or by another user's .forward, or from an :include:
        // file is resubmitted so each new recipient gets its own queue file record.
        if let owner = attr.owner, owner.lowercased() != attr.user {
            return deliverIndirect(attr, &walk)
        }
        if attr.expansion == .include {
            return deliverIndirect(attr, &walk)
        }
        if settings.requireHomeDirectory {
            do {
                if let account = try users.user(named: attr.user), let error = FileAccess.statError(account.home) {
                    return walk.emit(
                        .defer(status: "4.3.0", text: DeliveryStatusText.homeDirectoryUnavailable(account.home, error)),
                        attr)
                }
            } catch {
                walk.warnings.append(error.description)
                return walk.emit(.defer(status: "4.0.0", text: DeliveryStatusText.userLookupError), attr)
            }
        }
        if await deliverDotForward(attr, usr, &walk) { return }
        if await deliverMailbox(attr, usr, &walk) { return }
        await deliverUnknown(attr, usr, &walk)
    }

    // MARK: - indirect.c, unknown.c

    /// deliver_indirect: submit a new message for this address (duplicates suppressed).
    func deliverIndirect(_ attr: DeliverAttributes, _ walk: inout Walk) {
        guard walk.firstTime("indirect \(attr.recipient)") else { return }
        walk.emit(.forward(MailAddress(attr.recipient)), attr)
    }

    /// deliver_unknown: fallback_transport, luser_relay, the required postmaster/mailer-daemon
    /// aliases (discarded with a warning), else bounce `5.1.1 unknown user: "name"`.
    func deliverUnknown(_ attrIn: DeliverAttributes, _ usr: UserAttributes, _ walk: inout Walk) async {
        var attr = attrIn
        attr.level += 1
        guard walk.firstTime("deliver_unknown \(attr.local)") else { return }
        if !settings.fallbackTransport.isEmpty {
            return walk.emit(.transport(settings.fallbackTransport), attr)
        }
        if !settings.luserRelay.isEmpty {
            attr.unmatched = nil
            let relay = expansion(attr, usr, filter: nil).expand(settings.luserRelay).text
            return await deliverResolve(attr, usr, address: relay, &walk)
        }
        if attr.user == "mailer-daemon" || attr.user == "postmaster" {
            walk.warnings.append("required alias not found: \(attr.user)")
            return walk.emit(.discard(status: "2.0.0", text: DeliveryStatusText.discarded), attr)
        }
        walk.emit(.bounce(status: "5.1.1", text: DeliveryStatusText.unknownUser(attr.user)), attr)
    }

    /// The `$name` values of local_expand.c for this recipient.
    func expansion(_ attr: DeliverAttributes, _ usr: UserAttributes, filter: String?) -> LocalExpansion {
        var values: [String: String] = [
            "user": attr.user, "domain": attr.domain ?? "", "local": attr.local, "mailbox": attr.local,
            "recipient": attr.recipient,
        ]
        if attr.domain == nil { values["domain"] = nil }
        if let home = usr.home { values["home"] = home }
        if let shell = usr.shell { values["shell"] = shell }
        if let ext = attr.extension { values["extension"] = ext }
        // The delimiter actually used in this address (recipient_delimiter may list several).
        if attr.local.count > attr.user.count {
            values["recipient_delimiter"] = String(
                attr.local[attr.local.index(attr.local.startIndex, offsetBy: attr.user.count)])
        }
        return LocalExpansion(values: values, filter: filter)
    }

    /// canon_addr_internal for bare names: append `@$myorigin`.
    func canonical(_ address: String) -> String {
        address.contains("@") ? address : "\(address)@\(settings.myorigin)"
    }
}

/// DELIVER_ATTR: copied at each call so a callee's changes never leak back to the caller.
struct DeliverAttributes: Sendable {
    var level = 0
    var recipient: String
    var originalRecipient: String
    var sender: String
    var local = ""
    var domain: String?
    var user = ""
    var `extension`: String?
    var unmatched: String?
    var owner: String?
    var delivered: String?
    var expansion: ExpansionSources = []
    var expandedFrom: String?
}

/// USER_ATTR: whose rights |command and /file use (uid 0 = "none yet", replaced by default_privs).
struct UserAttributes: Sendable {
    var uid: UInt32 = 0
    var gid: UInt32 = 0
    var home: String?
    var logname: String?
    var shell: String?
    var account: SystemUser?

    init() {}

    init(_ user: SystemUser) {
        uid = user.uid
        gid = user.gid
        home = user.home
        logname = user.name
        shell = user.shell
        account = user
    }
}

/// State shared by the whole expansion of one recipient: the duplicate filter (been_here), the
/// Delivered-To addresses, and the output.
struct Walk {
    var seen: Set<String> = []
    let loopInfo: Set<String>
    var instructions: [LocalDeliveryInstruction] = []
    var warnings: [String] = []

    init(loopInfo: Set<String>) {
        self.loopInfo = loopInfo
    }

    /// been_here: true the first time `key` is seen.
    mutating func firstTime(_ key: String) -> Bool { seen.insert(key).inserted }

    mutating func emit(_ action: LocalDeliveryAction, _ attr: DeliverAttributes) {
        instructions.append(
            LocalDeliveryInstruction(
                action: action, recipient: MailAddress(attr.recipient), originalRecipient: attr.originalRecipient,
                deliveredTo: attr.delivered ?? attr.recipient, sender: MailAddress(attr.sender)))
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
