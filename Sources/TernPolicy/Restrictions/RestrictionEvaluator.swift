public import TernCore

/// Postfix's smtpd_check: runs the restriction lists of each protocol stage in Postfix's order and with its
/// reply texts. Pure apart from the injected lookups (tables, DNS, policy service, recipient validation).
public struct RestrictionEvaluator: Sendable {
    public let lists: [RestrictionStage: RestrictionList]
    /// smtpd_relay_restrictions (evaluated before smtpd_recipient_restrictions at RCPT TO).
    public let relayList: RestrictionList
    public let environment: RestrictionEnvironment
    /// smtpd_delay_reject: client, helo and sender restrictions run at RCPT TO.
    public let delayReject: Bool
    /// smtpd_reject_unlisted_recipient / smtpd_reject_unlisted_sender.
    public let rejectUnlistedRecipient: Bool
    public let rejectUnlistedSender: Bool

    public init(
        lists: [RestrictionStage: RestrictionList], relayList: RestrictionList, environment: RestrictionEnvironment,
        delayReject: Bool = true, rejectUnlistedRecipient: Bool = true, rejectUnlistedSender: Bool = false
    ) {
        self.lists = lists
        self.relayList = relayList
        self.environment = environment
        self.delayReject = delayReject
        self.rejectUnlistedRecipient = rejectUnlistedRecipient
        self.rejectUnlistedSender = rejectUnlistedSender
    }

    func list(_ stage: RestrictionStage) -> [Restriction] { lists[stage]?.restrictions ?? [] }

    /// Whether a stage has anything to check (the session skips the round trip otherwise).
    public func hasRestrictions(_ stage: RestrictionStage) -> Bool {
        switch stage {
        case .recipient: true
        case .sender: !list(.sender).isEmpty || rejectUnlistedSender
        default: !list(stage).isEmpty
        }
    }

    /// The check at connect time (smtpd_delay_reject = no only).
    public func checkClient(_ request: RestrictionRequest, _ state: inout RestrictionSessionState) async
        -> RestrictionOutcome
    {
        var run = RestrictionRun(self, request, state)
        let outcome = await run.client()
        state = run.state
        return run.finish(outcome)
    }

    /// HELO/EHLO (smtpd_delay_reject = no only).
    public func checkHelo(_ request: RestrictionRequest, _ state: inout RestrictionSessionState) async
        -> RestrictionOutcome
    {
        var run = RestrictionRun(self, request, state)
        let outcome = await run.helo()
        state = run.state
        return run.finish(outcome)
    }

    /// MAIL FROM (smtpd_delay_reject = no; with yes the sender restrictions run at RCPT TO).
    public func checkSender(_ request: RestrictionRequest, _ state: inout RestrictionSessionState) async
        -> RestrictionOutcome
    {
        var run = RestrictionRun(self, request, state)
        let outcome = await run.sender()
        state = run.state
        return run.finish(outcome)
    }

    /// RCPT TO: the delayed client/helo/sender restrictions, smtpd_relay_restrictions,
    /// smtpd_recipient_restrictions, a pending defer_if_permit, then the unlisted-recipient check.
    public func checkRecipient(_ request: RestrictionRequest, _ state: inout RestrictionSessionState) async
        -> RestrictionOutcome
    {
        var run = RestrictionRun(self, request, state)
        let outcome = await run.recipient()
        state = run.state
        return run.finish(outcome)
    }

    /// DATA or END-OF-MESSAGE.
    public func checkData(
        _ stage: RestrictionStage, _ request: RestrictionRequest, _ state: inout RestrictionSessionState
    ) async -> RestrictionOutcome {
        var run = RestrictionRun(self, request, state)
        let outcome = await run.data(stage)
        state = run.state
        return run.finish(outcome)
    }
}

/// A restriction's verdict (SMTPD_CHECK_DUNNO / OK / REJECT).
enum CheckStatus: Sendable, Equatable {
    case dunno, ok, reject
}

/// Ends the stage at once (smtpd's longjmp): configuration and lookup errors.
struct StageAbort: Error {
    let status: CheckStatus
}

/// One evaluation: the mutable state of smtpd_check.c's SMTPD_STATE for the duration of a command.
struct RestrictionRun {
    let evaluator: RestrictionEvaluator
    var request: RestrictionRequest
    var state: RestrictionSessionState
    var env: RestrictionEnvironment { evaluator.environment }
    var parameters: RestrictionParameters { evaluator.environment.parameters }
    var log: [PolicyLogLine] = []
    var reply: PolicyReply?
    var serverError = false
    var recursion = 0
    var warnIfReject = 0
    var deferIfReject: PolicyReply?
    var recipientRcptmapChecked = false
    var senderRcptmapChecked = false
    /// Nesting of the policy default action (it must not recurse).
    var policyDefaultNesting = 0

    init(_ evaluator: RestrictionEvaluator, _ request: RestrictionRequest, _ state: RestrictionSessionState) {
        self.evaluator = evaluator
        self.request = request
        self.state = state
    }

    func finish(_ status: CheckStatus) -> RestrictionOutcome {
        var outcome = RestrictionOutcome(reply: status == .reject ? reply : nil)
        outcome.log = log
        outcome.isServerError = serverError && status == .reject
        return outcome
    }

    mutating func resetStage() {
        recursion = 0
        warnIfReject = 0
        deferIfReject = nil
    }

    // MARK: - Stages (smtpd_check_client, _helo, _mail, _rcpt, _data)

    mutating func client() async -> CheckStatus {
        state.deferIfPermitActive = false
        resetStage()
        let status = await guarded { run in
            try await run.generic(run.evaluator.list(.client), name: run.request.namaddr, stage: .client)
        }
        state.deferIfPermitClient = state.deferIfPermitActive
        return status
    }

    mutating func helo() async -> CheckStatus {
        guard request.heloName != nil else { return .dunno }
        state.deferIfPermitActive = state.deferIfPermitClient
        resetStage()
        let status = await guarded { run in
            try await run.generic(run.evaluator.list(.helo), name: run.request.heloName ?? "", stage: .helo)
        }
        state.deferIfPermitHelo = state.deferIfPermitActive
        return status
    }

    mutating func sender() async -> CheckStatus {
        guard let sender = request.sender else { return .dunno }
        state.deferIfPermitActive = state.deferIfPermitClient || state.deferIfPermitHelo
        senderRcptmapChecked = false
        resetStage()
        var status = await guarded { run in
            try await run.generic(run.evaluator.list(.sender), name: sender.text, stage: .sender)
        }
        state.deferIfPermitSender = state.deferIfPermitActive
        if evaluator.rejectUnlistedSender && status != .reject && !senderRcptmapChecked && !state.discard
            && !sender.isNull
        {
            status = await guarded { run in try await run.unlisted(sender, stage: .sender) }
        }
        return status
    }

    mutating func recipient() async -> CheckStatus {
        guard let recipient = request.recipient else { return .dunno }
        // RFC 5321 section 4.5.1: bare "postmaster" is always accepted.
        if recipient.text.lowercased() == "postmaster" { return .dunno }
        recipientRcptmapChecked = false
        if evaluator.delayReject {
            if await client() == .reject { return .reject }
            if await helo() == .reject { return .reject }
            if await sender() == .reject { return .reject }
        }
        state.deferIfPermitActive = state.deferIfPermitSender
        resetStage()
        var status = CheckStatus.dunno
        for list in [evaluator.relayList.restrictions, evaluator.list(.recipient)] {
            status = await guarded { run in try await run.generic(list, name: recipient.text, stage: .recipient) }
            if status == .reject { break }
        }
        if status != .reject, state.deferIfPermitActive, let pending = state.deferIfPermit {
            status = rejectNow(pending)
        }
        if evaluator.rejectUnlistedRecipient && status != .reject && !recipientRcptmapChecked && !state.discard {
            status = await guarded { run in try await run.unlisted(recipient, stage: .recipient) }
        }
        return status
    }

    mutating func data(_ stage: RestrictionStage) async -> CheckStatus {
        // With several recipients no single one is named in the log.
        if request.recipientCount > 1 { request.recipient = nil }
        state.deferIfPermitActive = false
        resetStage()
        let name = stage == .data ? "DATA" : "END-OF-MESSAGE"
        var status = await guarded { run in try await run.generic(run.evaluator.list(stage), name: name, stage: stage) }
        if status != .reject, state.deferIfPermitActive, let pending = state.deferIfPermit {
            status = rejectNow(pending)
        }
        return status
    }

    /// Runs `body`, turning an abort (configuration or lookup error) into its status.
    mutating func guarded(_ body: (inout RestrictionRun) async throws -> CheckStatus) async -> CheckStatus {
        do {
            return try await body(&self)
        } catch let abort as StageAbort {
            return abort.status
        } catch {
            return serverErrorStatus()
        }
    }

    // MARK: - generic_checks

    mutating func generic(_ restrictions: [Restriction], name: String, stage: RestrictionStage) async throws
        -> CheckStatus
    {
        let savedRecursion = recursion
        recursion += 1
        defer {
            recursion = savedRecursion
            if warnIfReject >= recursion { warnIfReject = 0 }
        }
        var status = CheckStatus.dunno
        for (index, restriction) in restrictions.enumerated() {
            if state.discard { break }
            if case .warnIfReject = restriction {
                if warnIfReject == 0 { warnIfReject = recursion }
                continue
            }
            status = try await evaluate(restriction, name: name, stage: stage, isLast: index == restrictions.count - 1)
            if warnIfReject >= recursion { warnIfReject = 0 }
            if status != .dunno { break }
            if state.deferIfPermitActive && deferIfReject != nil { break }
        }
        return status
    }

    mutating func evaluate(_ restriction: Restriction, name: String, stage: RestrictionStage, isLast: Bool)
        async throws -> CheckStatus
    {
        let replyClass = stage.replyClass
        switch restriction {
        case .permit:
            return .ok
        case .reject:
            return reject(parameters.rejectCode, "5.7.1", "<\(name)>: \(replyClass) rejected: Access denied")
        case .`defer`:
            return reject(parameters.deferCode, "4.3.2", "<\(name)>: \(replyClass) rejected: Try again later")
        case .deferIfPermit:
            return deferIfPermit(
                450, "4.7.0", "<\(name)>: \(replyClass) rejected: defer_if_permit requested")
        case .deferIfReject:
            deferIfRejectRequest(450, "4.7.0", "<\(name)>: \(replyClass) rejected: defer_if_reject requested")
            return .dunno
        case .warnIfReject:
            return .dunno
        case .permitMynetworks:
            guard let address = IPAddress(request.clientAddress) else { return .dunno }
            let networks = env.mynetworks
            return try await lookup(await networks.contains(address), name: name) ? .ok : .dunno
        case .permitSaslAuthenticated:
            return request.saslUsername != nil ? .ok : .dunno
        case .permitAuthDestination:
            guard let recipient = request.recipient else { return .dunno }
            return try await isAuthorizedDestination(recipient) ? .ok : .dunno
        case .rejectUnauthDestination, .deferUnauthDestination:
            guard let recipient = request.recipient else { return .dunno }
            if try await isAuthorizedDestination(recipient) { return .dunno }
            let deferring = { if case .deferUnauthDestination = restriction { return true } else { return false } }()
            let code = parameters.relayDomainsRejectCode - (deferring ? 100 : 0)
            return reject(code, deferring ? "4.7.1" : "5.7.1", "<\(recipient.text)>: Relay access denied")
        case .rejectUnauthPipelining:
            guard request.improperPipelining else { return .dunno }
            return reject(503, "5.5.0", "<\(name)>: \(replyClass) rejected: Improper use of SMTP command pipelining")
        case .rejectUnknownClientHostname:
            guard request.clientName == "unknown" else { return .dunno }
            return reject(
                parameters.unknownClientRejectCode, "4.7.25",
                "Client host rejected: cannot find your hostname, [\(request.clientAddress)]")
        case .rejectUnknownReverseClientHostname:
            guard request.reverseClientName == "unknown" else { return .dunno }
            return reject(
                parameters.unknownClientRejectCode, "4.7.1",
                "Client host rejected: cannot find your reverse hostname, [\(request.clientAddress)]")
        case .rejectInvalidHeloHostname:
            guard let helo = request.heloName else { return .dunno }
            return rejectInvalidHelo(helo, stage: stage)
        case .rejectNonFQDNHeloHostname:
            guard let helo = request.heloName else { return .dunno }
            if helo.hasPrefix("[") { return rejectInvalidHelo(helo, stage: stage) }
            let name = HostSyntax.truncatingDot(helo)
            if HostSyntax.isValidHostname(name) && name.contains(".") { return .dunno }
            return reject(
                parameters.nonFQDNRejectCode, "5.5.2",
                "<\(helo)>: \(RestrictionStage.helo.replyClass) rejected: need fully-qualified hostname")
        case .rejectUnknownHeloHostname:
            guard let helo = request.heloName else { return .dunno }
            if helo.hasPrefix("[") { return rejectInvalidHelo(helo, stage: stage) }
            switch await env.resolver.host(HostSyntax.truncatingDot(helo)) {
            case .found: return .dunno
            case .notFound:
                return reject(
                    parameters.unknownHostnameRejectCode, "4.7.1", "<\(helo)>: Helo command rejected: Host not found")
            case .tryAgain:
                let text = "<\(helo)>: Helo command rejected: Host not found"
                if parameters.unknownHeloTempfailDefers { return reject(450, "4.7.1", text) }
                return deferIfPermit(450, "4.7.1", text)
            }
        case .rejectNonFQDNSender:
            guard let sender = request.sender, !sender.isNull else { return .dunno }
            return rejectNonFQDN(sender, stage: .sender)
        case .rejectNonFQDNRecipient:
            guard let recipient = request.recipient else { return .dunno }
            return rejectNonFQDN(recipient, stage: .recipient)
        case .rejectUnknownSenderDomain:
            guard let sender = request.sender, !sender.isNull else { return .dunno }
            return try await rejectUnknownAddress(sender, stage: .sender)
        case .rejectUnknownRecipientDomain:
            guard let recipient = request.recipient else { return .dunno }
            return try await rejectUnknownAddress(recipient, stage: .recipient)
        case .rejectUnlistedRecipient:
            guard let recipient = request.recipient, !recipient.isNull else { return .dunno }
            if recipientRcptmapChecked { return .dunno }
            if warnIfReject == 0 { recipientRcptmapChecked = true }
            return try await unlisted(recipient, stage: .recipient)
        case .rejectUnlistedSender:
            guard let sender = request.sender, !sender.isNull else { return .dunno }
            if senderRcptmapChecked { return .dunno }
            if warnIfReject == 0 { senderRcptmapChecked = true }
            return try await unlisted(sender, stage: .sender)
        case .checkAccess(let target, let table):
            return try await checkAccess(target, table, stage: stage)
        case .checkPolicyService(let endpoint):
            return try await checkPolicy(endpoint, name: name, stage: stage)
        case .dnsList(let check, let domain):
            return try await checkDNSList(check, domain: domain, stage: stage)
        case .restrictionClass(let className):
            guard let list = env.classes[className] else {
                log.append(PolicyLogLine(event: nil, text: "warning: unknown smtpd restriction: \"\(className)\""))
                throw StageAbort(status: serverErrorStatus())
            }
            return try await generic(list.restrictions, name: name, stage: stage)
        case .configurationError(let warning):
            log.append(PolicyLogLine(event: nil, text: "warning: \(warning)"))
            throw StageAbort(status: serverErrorStatus())
        }
    }

    // MARK: - Replies (smtpd_check_reject, defer_if)

    /// Formats, logs and returns a rejection; honours warn_if_reject, defer_if_reject and soft_bounce.
    mutating func reject(_ code: Int, _ status: String, _ text: String, isSoftware: Bool = false) -> CheckStatus {
        let warnOnly = warnIfReject != 0 && !isSoftware
        var code = code
        var status = status
        var text = text
        if !(400...599).contains(code) {
            log.append(PolicyLogLine(event: nil, text: "warning: SMTP reply code configuration error: \(code) \(status) \(text)"))
            (code, status, text) = (450, "4.7.1", "Service unavailable")
        } else if !DSNSplit.isValid(status) {
            log.append(PolicyLogLine(event: nil, text: "warning: DSN detail code configuration error: \(code) \(status) \(text)"))
            (code, status, text) = (450, "4.7.1", "Service unavailable")
        }
        text = Self.printable(String(text.prefix(510 - 4 - status.count - 1)))
        if !warnOnly, code >= 500, let pending = deferIfReject {
            warnIfReject = 0
            deferIfReject = nil
            return reject(pending.code, pending.status, pending.text)
        }
        if parameters.softBounce && code >= 500 { code -= 100 }
        status = String(code / 100) + status.dropFirst()
        let result = PolicyReply(code: code, status: status, text: text)
        log.append(PolicyLogLine(event: warnOnly ? "reject_warning" : "reject", text: result.description))
        if warnOnly { return .dunno }
        reply = result
        if isSoftware { serverError = true }
        return .reject
    }

    /// Rejects with a pending deferral (defer_if_permit at the end of a stage).
    mutating func rejectNow(_ pending: PolicyReply) -> CheckStatus {
        reject(pending.code, pending.status, pending.text)
    }

    mutating func deferIfPermit(_ code: Int, _ status: String, _ text: String) -> CheckStatus {
        if !state.deferIfPermitActive {
            state.deferIfPermitActive = true
            state.deferIfPermit = PolicyReply(code: code, status: status, text: text)
        }
        return .dunno
    }

    mutating func deferIfRejectRequest(_ code: Int, _ status: String, _ text: String) {
        if deferIfReject == nil { deferIfReject = PolicyReply(code: code, status: status, text: text) }
    }

    /// `451 4.3.5 Server configuration error` (reject_server_error).
    mutating func serverErrorStatus() -> CheckStatus {
        reject(451, "4.3.5", "Server configuration error", isSoftware: true)
    }

    /// A table could not be read: `451 4.3.0 <name>: Temporary lookup failure` (reject_dict_retry).
    mutating func lookup<T>(_ value: @autoclosure () async throws -> T, name: String) async throws -> T {
        do {
            return try await value()
        } catch let error as LookupError {
            log.append(PolicyLogLine(event: nil, text: "warning: \(error)"))
            throw StageAbort(status: reject(451, "4.3.0", "<\(name)>: Temporary lookup failure", isSoftware: true))
        }
    }

    static func printable(_ text: String) -> String {
        String(text.unicodeScalars.map { $0.value >= 32 && $0.value != 127 ? Character($0) : " " })
    }
}
