public import TernCore

extension RestrictionRun {
    // MARK: - check_*_access: the lookup keys in Postfix's order (access(5))

    mutating func checkAccess(_ target: AccessTarget, _ table: any LookupTable, stage: RestrictionStage)
        async throws -> CheckStatus
    {
        switch target {
        case .client:
            return try await checkNameAddress(
                table, name: request.clientName, address: request.clientAddress, replyName: request.namaddr,
                stage: .client)
        case .reverseClient:
            let status = try await checkNameAddress(
                table, name: request.reverseClientName, address: request.clientAddress,
                replyName: request.reverseClientName, stage: .client)
            return try forbidAllowlist(target, status, request.reverseClientName)
        case .helo:
            guard let helo = request.heloName else { return .dunno }
            return try await checkDomain(table, helo, replyName: helo, stage: .helo).status
        case .sender:
            guard let sender = request.sender else { return .dunno }
            if sender.isNull {
                return try await checkKeys(table, [(parameters.nullAccessKey, true)], replyName: "", stage: .sender)
                    .status
            }
            return try await checkMail(table, sender, stage: .sender)
        case .recipient:
            guard let recipient = request.recipient else { return .dunno }
            return try await checkMail(table, recipient, stage: .recipient)
        }
    }

    /// Restrictions whose OK is not allowed (check_reverse_client_access): an OK is a configuration error.
    mutating func forbidAllowlist(_ target: AccessTarget, _ status: CheckStatus, _ what: String) throws -> CheckStatus {
        guard !state.discard, status == .ok else { return status }
        log.append(PolicyLogLine(event: nil, text: "warning: restriction \(target.rawValue) returns OK for \(what)"))
        log.append(PolicyLogLine(event: nil, text: "warning: this is not allowed for security reasons"))
        log.append(
            PolicyLogLine(event: nil, text: "warning: use DUNNO instead of OK if you want to make an exception"))
        throw StageAbort(status: serverErrorStatus())
    }

    /// check_namadr_access: the host name and its parent domains, then the address and its networks.
    mutating func checkNameAddress(
        _ table: any LookupTable, name: String, address: String, replyName: String, stage: RestrictionStage
    ) async throws -> CheckStatus {
        let byName = try await checkDomain(table, name, replyName: replyName, stage: stage)
        if byName.found || byName.status != .dunno { return byName.status }
        return try await checkKeys(table, AccessKeys.address(address), replyName: replyName, stage: stage).status
    }

    mutating func checkDomain(_ table: any LookupTable, _ domain: String, replyName: String, stage: RestrictionStage)
        async throws -> (status: CheckStatus, found: Bool)
    {
        try await checkKeys(
            table, AccessKeys.domain(domain, parentMatches: parameters.accessParentMatches), replyName: replyName,
            stage: stage)
    }

    /// check_mail_access: user+ext@domain, user@domain, domain, parent domains, user+ext@, user@.
    mutating func checkMail(_ table: any LookupTable, _ address: MailAddress, stage: RestrictionStage) async throws
        -> CheckStatus
    {
        let keys = AccessKeys.mail(
            address.text, delimiters: parameters.recipientDelimiter, parentMatches: parameters.accessParentMatches)
        let result = try await checkKeys(table, keys, replyName: address.text, stage: stage)
        // Source-routed recipients are too suspicious for an OK (allow_untrusted_routing = no).
        if result.status == .ok, stage == .recipient, !parameters.allowUntrustedRouting,
            address.localPart.contains(where: { "@%!".contains($0) })
        {
            return .dunno
        }
        return result.status
    }

    /// Looks the keys up in order; `true` marks a key pattern tables (regexp, pcre, cidr) see too, as
    /// Postfix consults them with the full key only.
    mutating func checkKeys(
        _ table: any LookupTable, _ keys: [(String, Bool)], replyName: String, stage: RestrictionStage
    ) async throws -> (status: CheckStatus, found: Bool) {
        let pattern = AccessKeys.isPatternTable(table.spec)
        for (key, full) in keys where full || !pattern {
            let value: String?
            do {
                value = try await table.lookup(key)
            } catch {
                log.append(PolicyLogLine(event: nil, text: "warning: \(error)"))
                return (
                    try await tableResult("451 4.3.5 Server configuration error", table: table.spec, key: key,
                        replyName: replyName, stage: stage), true
                )
            }
            if let value {
                return (try await tableResult(value, table: table.spec, key: key, replyName: replyName, stage: stage), true)
            }
        }
        return (.dunno, false)
    }

    // MARK: - check_table_result: an access map (or policy server) action

    mutating func tableResult(
        _ value: String, table: String, key: String, replyName: String, stage: RestrictionStage
    ) async throws -> CheckStatus {
        let replyClass = stage.replyClass
        let (command, text) = AccessKeys.splitAction(value)
        let verb = command.uppercased()
        func fix(_ status: String) -> String { DSNSplit.fix(status, replyClass: replyClass) }
        switch verb {
        case "DUNNO":
            return .dunno
        case "REJECT", "DEFER":
            let (dsn, rest) = DSNSplit.split(text, default: verb == "REJECT" ? "5.7.1" : "4.7.1")
            let code = verb == "REJECT" ? parameters.accessMapRejectCode : parameters.accessMapDeferCode
            return reject(code, fix(dsn), "<\(replyName)>: \(replyClass) rejected: \(rest.isEmpty ? "Access denied" : rest)")
        case "INFO", "WARN":
            log.append(PolicyLogLine(event: verb.lowercased(), text: text))
            return .dunno
        case "FILTER":
            guard canDelegate(table, verb) else { return .dunno }
            guard text.contains(":") else {
                log.append(PolicyLogLine(event: nil, text: "warning: access table \(table) entry \"\(key)\" "
                    + (text.isEmpty ? "has FILTER entry without value" : "requires transport:destination")))
                return .dunno
            }
            log.append(PolicyLogLine(event: "filter", text: "<\(replyName)>: \(replyClass) triggers FILTER \(text)"))
            state.actions.filter = text
            return .dunno
        case "HOLD":
            guard canDelegate(table, verb), !state.actions.hold else { return .dunno }
            log.append(PolicyLogLine(event: "hold", text: "<\(replyName)>: \(replyClass) \(text.isEmpty ? "triggers HOLD action" : text)"))
            state.actions.hold = true
            return .dunno
        case "DISCARD":
            guard canDelegate(table, verb) else { return .dunno }
            log.append(PolicyLogLine(event: "discard", text: "<\(replyName)>: \(replyClass) \(text.isEmpty ? "triggers DISCARD action" : text)"))
            state.actions.discard = true
            state.discard = true
            return .ok
        case "REDIRECT", "BCC":
            guard canDelegate(table, verb) else { return .dunno }
            guard text.contains("@") else {
                log.append(PolicyLogLine(event: nil, text: "warning: access table \(table) entry \"\(key)\" requires user@domain target"))
                return .dunno
            }
            log.append(PolicyLogLine(event: verb.lowercased(), text: "<\(replyName)>: \(replyClass) triggers \(verb) \(text)"))
            if verb == "REDIRECT" { state.actions.redirect = text } else { state.actions.bcc.append(text) }
            return .dunno
        case "DEFER_IF_PERMIT", "DEFER_IF_REJECT":
            let (dsn, rest) = DSNSplit.split(text, default: "4.7.1")
            let reason = "<\(replyName)>: \(replyClass) rejected: \(rest.isEmpty ? "Service unavailable" : rest)"
            if verb == "DEFER_IF_PERMIT" { return deferIfPermit(parameters.accessMapDeferCode, fix(dsn), reason) }
            deferIfRejectRequest(parameters.accessMapDeferCode, fix(dsn), reason)
            return .dunno
        case "PREPEND":
            guard request.sender != nil else {
                log.append(PolicyLogLine(event: nil, text: "warning: access table \(table): with smtpd_delay_reject=no, action PREPEND is always skipped in Client host or Helo command restrictions"))
                return .dunno
            }
            if stage == .endOfData {
                log.append(PolicyLogLine(event: nil, text: "warning: access table \(table): action PREPEND must be used before smtpd_end_of_data_restrictions"))
                return .dunno
            }
            guard AccessKeys.isHeader(text) else {
                log.append(PolicyLogLine(event: nil, text: "warning: access table \(table) entry \"\(key)\" requires header: text"))
                return .dunno
            }
            state.actions.prepend.append(text)
            return .dunno
        case "OK", "RELAY":
            return .ok
        default:
            break
        }
        if !value.isEmpty, value.allSatisfy(\.isNumber) { return .ok }
        if command.count == 3, !text.isEmpty, let first = command.first, first == "4" || first == "5",
            command.allSatisfy(\.isNumber), let code = Int(command)
        {
            let (dsn, rest) = DSNSplit.split(text, default: "\(first).7.1")
            return reject(code, fix(dsn), "<\(replyName)>: \(replyClass) rejected: \(rest.isEmpty ? "Access denied" : rest)")
        }
        if value.contains(":") {
            log.append(PolicyLogLine(event: nil, text: "warning: access table \(table) has entry with lookup table: \(value)"))
            log.append(PolicyLogLine(event: nil, text: "warning: do not specify lookup tables inside SMTPD access maps"))
            log.append(PolicyLogLine(event: nil, text: "warning: define a restriction class and specify its name instead."))
            throw StageAbort(status: serverErrorStatus())
        }
        if recursion > 100 {
            log.append(PolicyLogLine(event: nil, text: "warning: access table \(table) entry \(value) causes unreasonable recursion"))
            throw StageAbort(status: serverErrorStatus())
        }
        // A restriction list (or class names) as the result; an empty one meant OK in the dark ages.
        let words = value.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }).map(String.init)
        if words.isEmpty {
            log.append(PolicyLogLine(event: nil, text: "warning: access table \(table) entry \(value) has empty value"))
            return .ok
        }
        let list = try RestrictionList(parameter: table, words: words, defaultAccess: stage.defaultAccess) { spec in
            throw RestrictionConfigError(parameter: table, message: "lookup table in access map result: \(spec)")
        }
        return try await generic(list.restrictions, name: replyName, stage: stage)
    }

    /// HOLD, FILTER, DISCARD, REDIRECT need a message: not in client/helo restrictions outside a transaction.
    mutating func canDelegate(_ table: String, _ action: String) -> Bool {
        if request.sender == nil {
            log.append(
                PolicyLogLine(
                    event: nil,
                    text: "warning: access table \(table): with smtpd_delay_reject=no, action \(action) is always "
                        + "skipped in Client host or Helo command restrictions"))
            return false
        }
        return true
    }
}

/// The lookup keys of access(5) and the small parsers around access map results.
enum AccessKeys {
    /// Tables that match patterns see only the full key (Postfix's DICT_FLAG_FIXED partial lookups).
    static func isPatternTable(_ spec: String) -> Bool {
        let type = spec.prefix { $0 != ":" }.lowercased()
        return ["regexp", "pcre", "cidr", "tcp", "socketmap"].contains(type)
    }

    /// The domain, then its parents (`example.com`, `com` with parent matching, `.example.com`, `.com`
    /// without); a numeric address gets no parent lookups.
    static func domain(_ domain: String, parentMatches: Bool) -> [(String, Bool)] {
        var keys = [(domain, true)]
        if domain.isEmpty || IPAddress(domain) != nil { return keys }
        var rest = Substring(domain)
        while let dot = rest.dropFirst().firstIndex(of: ".") {
            rest = rest[dot...]
            let key = parentMatches ? String(rest.dropFirst()) : String(rest)
            if !key.isEmpty && key != "." { keys.append((key, false)) }
        }
        return keys
    }

    /// An address and its parent networks: `1.2.3.4`, `1.2.3`, `1.2`, `1` (IPv6 splits at colons).
    static func address(_ address: String) -> [(String, Bool)] {
        let separator: Character = address.contains(":") ? ":" : "."
        var keys: [(String, Bool)] = []
        var rest = Substring(address)
        while !rest.isEmpty {
            keys.append((String(rest), keys.isEmpty))
            guard let cut = rest.lastIndex(of: separator) else { break }
            rest = rest[..<cut]
        }
        return keys
    }

    /// check_mail_access's order: user+ext@domain, user@domain, domain (and parents), user+ext@, user@.
    static func mail(_ address: String, delimiters: String, parentMatches: Bool) -> [(String, Bool)] {
        guard let at = address.lastIndex(of: "@") else {
            return [(address, true)]
        }
        let local = String(address[..<at])
        let domain = String(address[address.index(after: at)...])
        var bare = local
        if !delimiters.isEmpty, let cut = local.firstIndex(where: { delimiters.contains($0) }), cut != local.startIndex {
            bare = String(local[..<cut])
        }
        var keys: [(String, Bool)] = [(address, true)]
        if bare != local { keys.append(("\(bare)@\(domain)", false)) }
        keys += Self.domain(domain, parentMatches: parentMatches).map { ($0.0, false) }
        keys.append(("\(local)@", false))
        if bare != local { keys.append(("\(bare)@", false)) }
        return keys
    }

    /// `ACTION text`: the first word and the rest without leading white space.
    static func splitAction(_ value: String) -> (String, String) {
        let command = value.prefix { $0 != " " && $0 != "\t" }
        let text = value[command.endIndex...].drop { $0 == " " || $0 == "\t" }
        return (String(command), String(text))
    }

    /// `Name: value` with a valid header name.
    static func isHeader(_ text: String) -> Bool {
        guard let colon = text.firstIndex(of: ":"), colon != text.startIndex else { return false }
        return text[..<colon].allSatisfy { $0.isASCII && $0 != " " && $0 != "\t" && !($0.asciiValue! < 33) }
    }
}

/// RFC 3463 status codes in reply texts (Postfix dsn_split, smtpd_dsn_fix).
enum DSNSplit {
    /// `X.Y.Z` with X 2, 4 or 5, Y up to 3 digits, Z up to 3 digits.
    static func isValid(_ status: String) -> Bool {
        let parts = status.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, ["2", "4", "5"].contains(parts[0]) else { return false }
        return parts[1...].allSatisfy { (1...3).contains($0.count) && $0.allSatisfy(\.isNumber) }
    }

    /// A leading status code in `text` (with the first digit 4 or 5), else `default`; and the rest.
    static func split(_ text: String, default fallback: String) -> (String, String) {
        let first = text.prefix { $0 != " " && $0 != "\t" }
        if isValid(String(first)), first.first != "2" {
            return (String(first), String(text[first.endIndex...].drop { $0 == " " || $0 == "\t" }))
        }
        return (fallback, text)
    }

    /// An address status (X.1.Y) turned into the sender or recipient form of the check's class.
    static func fix(_ status: String, replyClass: String) -> String {
        let chars = Array(status)
        guard chars.count >= 5, chars[0].isNumber, String(chars[1...3]) == ".1." else { return status }
        let micro = String(chars[4...])
        let sender: [String: String] = ["2": "4.1.8", "3": "4.1.7", "5": "4.1.0", "7": "4.1.7", "8": "4.1.8"]
        let recipient: [String: String] = [
            "1": "4.1.1", "2": "4.1.2", "3": "4.1.3", "4": "4.1.4", "5": "4.1.5", "6": "4.1.6", "7": "4.1.3", "8": "4.1.2",
        ]
        if replyClass == RestrictionStage.sender.replyClass { return sender[micro] ?? "4.1.0" }
        if replyClass == RestrictionStage.recipient.replyClass { return recipient[micro] ?? "4.1.0" }
        return "4.0.0"
    }
}
