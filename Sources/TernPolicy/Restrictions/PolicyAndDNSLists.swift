public import TernCore

extension RestrictionRun {
    // MARK: - check_policy_service

    mutating func checkPolicy(_ endpoint: String, name: String, stage: RestrictionStage) async throws -> CheckStatus {
        let attributes = PolicyRequest.attributes(request, parameters: parameters)
        let action: String
        do {
            action = try await env.policy.query(endpoint: endpoint, attributes: attributes)
        } catch {
            let server = endpoint.drop { $0 != ":" }.dropFirst()
            log.append(PolicyLogLine(event: nil, text: "warning: problem talking to server \(server): \(error)"))
            // The default action must not start another default action (Postfix's nesting guard).
            policyDefaultNesting += 1
            defer { policyDefaultNesting -= 1 }
            let fallback =
                policyDefaultNesting == 1
                ? parameters.policyDefaultAction : RestrictionParameters().policyDefaultAction
            return try await tableResult(fallback, table: endpoint, key: "policy query", replyName: name, stage: stage)
        }
        return try await tableResult(action, table: endpoint, key: "policy query", replyName: name, stage: stage)
    }

    // MARK: - DNS lists (reject_rbl_client, reject_rhsbl_*, permit_dnswl_client)

    mutating func checkDNSList(_ check: DNSListCheck, domain listSpec: String, stage: RestrictionStage) async throws
        -> CheckStatus
    {
        let what: String
        let query: String
        switch check {
        case .rejectRBLClient, .permitDNSWLClient:
            guard let address = IPAddress(request.clientAddress) else { return .dunno }
            what = request.clientAddress
            query = DNSListQuery.reversed(address)
        case .rejectRHSBLClient, .rejectRHSBLReverseClient, .rejectRHSBLSender, .rejectRHSBLHelo,
            .rejectRHSBLRecipient:
            let subject: String?
            switch check {
            case .rejectRHSBLClient: subject = request.clientName == "unknown" ? nil : request.clientName
            case .rejectRHSBLReverseClient:
                subject = request.reverseClientName == "unknown" ? nil : request.reverseClientName
            case .rejectRHSBLSender: subject = request.sender.flatMap { $0.isNull ? nil : $0.text }
            case .rejectRHSBLRecipient: subject = request.recipient?.text
            default: subject = request.heloName
            }
            guard let subject, let name = DNSListQuery.domain(of: subject) else { return .dunno }
            what = subject
            query = name
        }
        let (listDomain, pattern) = DNSListQuery.splitPattern(listSpec)
        let answer = await env.resolver.list("\(query).\(listDomain)")
        let replyClass: String = {
            switch check {
            case .rejectRHSBLSender: RestrictionStage.sender.replyClass
            case .rejectRHSBLRecipient: RestrictionStage.recipient.replyClass
            case .rejectRHSBLHelo: RestrictionStage.helo.replyClass
            default: RestrictionStage.client.replyClass
            }
        }()
        switch answer {
        case .notListed:
            return .dunno
        case .tryAgain(let why):
            log.append(PolicyLogLine(event: nil, text: "warning: \(query).\(listDomain): RBL lookup error: \(why)"))
            if check == .permitDNSWLClient {
                deferIfRejectRequest(450, "4.7.1", "<\(what)>: \(replyClass) rejected: Service unavailable")
            }
            return .dunno
        case .listed(let addresses, let text):
            if let pattern, !addresses.contains(where: { DNSListQuery.matches($0, pattern) }) { return .dunno }
            if check == .permitDNSWLClient {
                // Never allowlist an unauthorised recipient.
                if request.command == "RCPT", let recipient = request.recipient,
                    try await !isAuthorizedDestination(recipient)
                {
                    return .dunno
                }
                return .ok
            }
            return try await rblReject(listSpec: listSpec, listDomain: listDomain, what: what, reason: text ?? "",
                replyClass: replyClass)
        }
    }

    mutating func rblReject(listSpec: String, listDomain: String, what: String, reason: String, replyClass: String)
        async throws -> CheckStatus
    {
        var template: String?
        for table in parameters.rblReplyMaps {
            do {
                if let found = try await table.lookup(listSpec) {
                    template = found
                    break
                }
            } catch {
                log.append(PolicyLogLine(event: nil, text: "warning: \(error)"))
                throw StageAbort(status: serverErrorStatus())
            }
        }
        let values: [String: String] = [
            "rbl_code": String(parameters.mapsRBLRejectCode), "rbl_domain": listDomain, "rbl_reason": reason,
            "rbl_txt": reason, "rbl_what": what, "rbl_class": replyClass,
            "client_address": request.clientAddress, "client_name": request.clientName,
            "reverse_client_name": request.reverseClientName, "helo_name": request.heloName ?? "",
            "sender": request.sender?.text ?? "", "recipient": request.recipient?.text ?? "",
        ]
        let text = TemplateExpansion.expand(template ?? parameters.defaultRBLReply, values)
        let chars = Array(text)
        guard chars.count > 4, chars[0] == "4" || chars[0] == "5", chars[1].isNumber, chars[2].isNumber,
            chars[3] == " ", let code = Int(String(chars[0...2]))
        else {
            log.append(PolicyLogLine(event: nil, text: "warning: rbl response code configuration error: \(text)"))
            return reject(450, "4.7.1", "Service unavailable")
        }
        let (dsn, rest) = DSNSplit.split(String(chars[4...]), default: "4.7.1")
        return reject(code, DSNSplit.fix(dsn, replyClass: replyClass), rest.isEmpty ? "Service unavailable" : rest)
    }
}

/// The attributes of a policy delegation request (SMTPD_POLICY_README), in the order Postfix 3.7 sends them.
public enum PolicyRequest {
    public static func attributes(_ r: RestrictionRequest, parameters: RestrictionParameters) -> [(String, String)] {
        let countsRecipients = ["DATA", "BDAT", "END-OF-MESSAGE"].contains(r.command)
        return [
            ("request", "smtpd_access_policy"),
            ("protocol_state", r.command == "BDAT" ? "DATA" : r.command),
            ("protocol_name", r.protocolName),
            ("client_address", r.clientAddress),
            ("client_name", r.clientName),
            ("client_port", String(r.clientPort)),
            ("reverse_client_name", r.reverseClientName),
            ("server_address", r.serverAddress),
            ("server_port", String(r.serverPort)),
            ("helo_name", r.heloName ?? ""),
            ("sender", r.sender?.text ?? ""),
            ("recipient", r.recipient?.text ?? ""),
            ("recipient_count", String(countsRecipients ? r.recipientCount : 0)),
            ("queue_id", r.queueID ?? ""),
            ("instance", r.instance),
            ("size", String(r.size)),
            ("etrn_domain", r.etrnDomain ?? ""),
            ("stress", parameters.stress),
            ("sasl_method", r.saslMethod ?? ""),
            ("sasl_username", r.saslUsername ?? ""),
            ("sasl_sender", r.saslSender ?? ""),
            ("ccert_subject", ""),
            ("ccert_issuer", ""),
            ("ccert_fingerprint", ""),
            ("ccert_pubkey_fingerprint", ""),
            ("encryption_protocol", r.tlsProtocol ?? ""),
            ("encryption_cipher", r.tlsCipher ?? ""),
            ("encryption_keysize", String(r.tlsProtocol == nil ? 0 : r.tlsKeySize)),
            ("policy_context", parameters.policyContext),
            ("compatibility_level", parameters.compatibilityLevel),
            ("mail_version", parameters.mailVersion),
        ]
    }

    /// `name=value` lines and the empty line that ends the request. Values with a newline are cut there
    /// (the protocol has no quoting).
    public static func encode(_ attributes: [(String, String)]) -> String {
        var text = ""
        for (name, value) in attributes {
            text += "\(name)=\(value.prefix { $0 != "\n" && $0 != "\r" })\n"
        }
        return text + "\n"
    }

    /// The `action` of a reply (the lines before the empty line); nil when the reply has none.
    public static func action(fromReply lines: [String]) -> String? {
        for line in lines {
            guard let equals = line.firstIndex(of: "=") else { continue }
            if line[..<equals] == "action" { return String(line[line.index(after: equals)...]) }
        }
        return nil
    }
}

/// DNS list query names and answer patterns.
enum DNSListQuery {
    /// `4.3.2.1` for 1.2.3.4; IPv6 as reversed nibbles.
    static func reversed(_ address: IPAddress) -> String {
        if address.isIPv4 { return address.bytes[12...].reversed().map(String.init).joined(separator: ".") }
        return address.bytes.reversed().map { byte in
            "\(String(byte & 0xF, radix: 16)).\(String(byte >> 4, radix: 16))"
        }.joined(separator: ".")
    }

    /// The domain of a name or address for an RHSBL query; nil for literals and numeric names.
    static func domain(of what: String) -> String? {
        var domain = what
        if let at = what.lastIndex(of: "@") { domain = String(what[what.index(after: at)...]) }
        if domain.isEmpty || domain.hasPrefix("[") { return nil }
        let last = domain.split(separator: ".").last.map(String.init) ?? domain
        if last.allSatisfy(\.isNumber) { return nil }
        let name = HostSyntax.truncatingDot(domain)
        return HostSyntax.isValidHostname(name) ? name : nil
    }

    /// `list.example=127.0.0.[2..4]` into the domain and the answer pattern.
    static func splitPattern(_ spec: String) -> (String, String?) {
        guard let equals = spec.firstIndex(of: "=") else { return (spec, nil) }
        return (String(spec[..<equals]), String(spec[spec.index(after: equals)...]))
    }

    /// An IPv4 answer against a pattern: octets are numbers or `[a..b;c]` sets.
    static func matches(_ address: String, _ pattern: String) -> Bool {
        let octets = address.split(separator: ".").compactMap { Int($0) }
        // Dots inside `[...]` belong to ranges, not to the octet separators.
        var parts: [Substring] = []
        var start = pattern.startIndex
        var depth = 0
        for index in pattern.indices {
            switch pattern[index] {
            case "[": depth += 1
            case "]": depth -= 1
            case "." where depth == 0:
                parts.append(pattern[start..<index])
                start = pattern.index(after: index)
            default: break
            }
        }
        parts.append(pattern[start...])
        guard octets.count == 4, parts.count == 4 else { return false }
        for (octet, part) in zip(octets, parts) {
            if let exact = Int(part) {
                if exact != octet { return false }
                continue
            }
            guard part.hasPrefix("["), part.hasSuffix("]") else { return false }
            let choices = part.dropFirst().dropLast().split(separator: ";")
            let hit = choices.contains { choice in
                let bounds = choice.split(separator: "..").compactMap { Int($0) }
                if bounds.count == 2 { return (bounds[0]...max(bounds[0], bounds[1])).contains(octet) }
                return bounds.first == octet
            }
            if !hit { return false }
        }
        return true
    }
}

/// Postfix's $name, ${name}, ${name?text} and ${name:text} expansion for reply templates.
enum TemplateExpansion {
    static func expand(_ template: String, _ values: [String: String]) -> String {
        var result = ""
        var rest = Substring(template)
        while let dollar = rest.firstIndex(of: "$") {
            result += rest[..<dollar]
            rest = rest[rest.index(after: dollar)...]
            if rest.first == "{", let close = rest.firstIndex(of: "}") {
                let inner = rest[rest.index(after: rest.startIndex)..<close]
                rest = rest[rest.index(after: close)...]
                if let mark = inner.firstIndex(where: { $0 == "?" || $0 == ":" }) {
                    let name = String(inner[..<mark])
                    let text = String(inner[inner.index(after: mark)...])
                    let value = values[name] ?? ""
                    if inner[mark] == "?" { result += value.isEmpty ? "" : expand(text, values) }
                    else { result += value.isEmpty ? expand(text, values) : "" }
                } else {
                    result += values[String(inner)] ?? ""
                }
            } else {
                let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
                result += values[String(name)] ?? ""
                rest = rest[name.endIndex...]
            }
        }
        return result + rest
    }
}
