import TernCore

/// postgrey's smtpd_access_policy as a value: a request's attributes and the stored records in, the action,
/// the records to store and the log line out. No I/O and no clock: the caller reads the records by
/// `GreylistKeys`, passes the time, and writes back what the decision says.
public struct Greylister: Sendable {
    public let parameters: GreylistParameters
    /// The last 10 `instance` values that got an X-Greylist header: one header per message, not per recipient.
    private var recentInstances = Array(repeating: "0", count: 10)

    public init(parameters: GreylistParameters) {
        self.parameters = parameters
    }

    /// The outcome of one request.
    public struct Decision: Sendable, Equatable {
        /// The policy reply's action (`DUNNO`, `DEFER_IF_PERMIT 4.2.0 Greylisted, ...`, `PREPEND X-Greylist: ...`).
        public var action: String
        /// Records to write (nil: leave as it is).
        public var triplet: TripletRecord?
        public var client: ClientRecord?
        /// postgrey's per-request line (`action=greylist, reason=new, client_name=...`), logged at level 2.
        public var log: String?
        /// Lines logged at level 1 (`whitelisted: host[addr]` when a client reaches the auto-whitelist).
        public var notices: [String] = []
        /// Warnings (`attribute missing: sender`).
        public var warnings: [String] = []
    }

    /// The attributes postgrey needs before it decides anything.
    public static let requiredAttributes = ["client_address", "client_name", "recipient", "sender"]

    /// Whitelist checks come first (`whitelisted` is the caller's verdict from `PostgreyWhitelist`, with the
    /// reason `client whitelist` or `recipient whitelist`), then the client auto-whitelist, then the triplet.
    public mutating func decide(
        _ attributes: [String: String], whitelisted: String?, triplet stored: TripletRecord?,
        client: ClientRecord?, now: Int64
    ) -> Decision {
        for name in Self.requiredAttributes where attributes[name] == nil {
            return Decision(action: "DUNNO", warnings: ["attribute missing: \(name)"])
        }
        if let whitelisted {
            return Decision(action: "DUNNO", log: logLine(attributes, "pass", whitelisted))
        }
        let awl = parameters.autoWhitelistClients
        if awl > 0, let client, client.count >= awl {
            var decision = Decision(action: "DUNNO", log: logLine(attributes, "pass", "client AWL"))
            if now >= client.lastSeen + GreylistParameters.clientRecordInterval || client.lastSeen > now {
                decision.client = ClientRecord(count: client.count + 1, lastSeen: now)  // for statistics
            }
            return decision
        }

        var first = now
        var lastWasSuccessful = false
        var warnings: [String] = []
        if let stored {
            first = stored.firstSeen
            if stored.lastSeen - stored.firstSeen >= parameters.delay {
                lastWasSuccessful = true
            } else if now - first > parameters.retryWindow {
                first = now  // the first retry came after the retry window: start again
            }
            if first > now {
                warnings.append("correcting date for first seen in the future!")
                first = now
            }
        }
        var decision = Decision(action: "DUNNO", triplet: TripletRecord(firstSeen: first, lastSeen: now))
        decision.warnings = warnings
        let missing = parameters.delay - (now - first)

        if awl > 0, missing <= 0, !lastWasSuccessful,
            client == nil || now >= client!.lastSeen + GreylistParameters.clientRecordInterval
        {
            let count = (client?.count ?? 0) + 1
            decision.client = ClientRecord(count: count, lastSeen: now)
            if count == awl {
                let name = attributes["client_name"] ?? ""
                let address = attributes["client_address"] ?? ""
                decision.notices.append("whitelisted: " + (name.isEmpty ? address : "\(name)[\(address)]"))
            }
        }

        if missing > 0 {
            var text = parameters.greylistText
            // postgrey sends DSN 4.2.0 (not smtpd's 4.7.1) to work around an Exchange bug; Postfix >= 2.3 always
            // sends etrn_domain, which is how it recognises a Postfix that understands the code.
            if attributes["etrn_domain"] != nil, !(text.first?.isNumber ?? false) { text = "4.2.0 " + text }
            text = Self.replaceFirst("%s", in: text, with: String(missing))
            let recipient = attributes["recipient"] ?? ""
            let domain =
                recipient.lastIndex(of: "@").map { String(recipient[recipient.index(after: $0)...]) } ?? recipient
            text = Self.replaceFirst("%r", in: text, with: domain)
            let reason = now != first ? "early-retry (\(missing)s missing)" : "new"
            decision.log = logLine(attributes, "greylist", reason)
            decision.action = "\(parameters.greylistAction) \(text)"
            return decision
        }

        if !lastWasSuccessful && isNewInstance(attributes["instance"]) {
            let delay = now - first
            decision.log = logLine(attributes, "pass", "triplet found", extra: "delay=\(delay)")
            var header = parameters.headerTemplate
            header = Self.replaceFirst("%t", in: header, with: String(delay))
            header = Self.replaceFirst("%v", in: header, with: GreylistParameters.version)
            header = Self.replaceFirst("%d", in: header, with: Self.headerDate(now))
            header = Self.replaceFirst("%h", in: header, with: parameters.hostname)
            decision.action = "PREPEND " + header
            return decision
        }
        decision.log = logLine(attributes, "pass", "triplet found")
        return decision
    }

    private mutating func isNewInstance(_ instance: String?) -> Bool {
        guard let instance else { return true }  // clients without `instance` (Exim) get a header each time
        if recentInstances.contains(instance) { return false }
        recentInstances.insert(instance, at: 0)
        recentInstances.removeLast()
        return true
    }

    /// postgrey's mylog_action: `QUEUEID: action=..., reason=..., client_name=..., client_address=...,
    /// sender=..., recipient=...` (empty attributes left out).
    func logLine(_ attributes: [String: String], _ action: String, _ reason: String, extra: String? = nil) -> String {
        var info = ["action=\(action)", "reason=\(reason)"]
        if let extra { info.append(extra) }
        for name in ["client_name", "client_address", "sender", "recipient"] {
            if let value = attributes[name], !value.isEmpty { info.append("\(name)=\(value)") }
        }
        let queueID = attributes["queue_id"].flatMap { $0.isEmpty ? nil : "\($0): " } ?? ""
        return queueID + info.joined(separator: ", ")
    }

    /// Perl's `s/pattern/value/` without /g: the first occurrence only.
    static func replaceFirst(_ pattern: String, in text: String, with value: String) -> String {
        guard let range = text.firstRange(of: pattern) else { return text }
        var result = text
        result.replaceSubrange(range, with: value)
        return result
    }

    /// strftime("%a, %d %b %Y %T %Z", localtime) in the C locale, postgrey's header date.
    public static func headerDate(_ time: Int64) -> String {
        LocalTime.format(time, "%a, %d %b %Y %T %Z")
    }
}
