import TernCore

/// The address and host name restrictions (relay control, HELO syntax, unknown domains, unlisted users).
extension RestrictionRun {
    /// permit_auth_destination's test: a destination we serve, after trivial-rewrite's percent hack and
    /// bang-path swap, and no sender-specified routing left (allow_untrusted_routing = no).
    mutating func isAuthorizedDestination(_ address: MailAddress) async throws -> Bool {
        let classifier = env.classifier
        let route = try await lookup(await RoutedAddress.resolve(address, classifier: classifier), name: address.text)
        // Sender-specified routing left after rewriting: never relayed (allow_untrusted_routing = no).
        if route.isRouted && !parameters.allowUntrustedRouting { return false }
        return route.addressClass != .remote
    }

    mutating func rejectInvalidHelo(_ helo: String, stage: RestrictionStage) -> CheckStatus {
        let valid: Bool
        if helo.hasPrefix("[") {
            valid = helo.hasSuffix("]") && HostSyntax.isValidMailhostAddress(String(helo.dropFirst().dropLast()))
        } else {
            let name = HostSyntax.truncatingDot(helo)
            valid = HostSyntax.isValidHostname(name) || HostSyntax.isValidMailhostAddress(name)
        }
        if valid { return .dunno }
        let what = helo.hasPrefix("[") ? "invalid ip address" : "Invalid name"
        return reject(parameters.invalidHostnameRejectCode, "5.5.2", "<\(helo)>: Helo command rejected: \(what)")
    }

    mutating func rejectNonFQDN(_ address: MailAddress, stage: RestrictionStage) -> CheckStatus {
        if address.text.lowercased() == "postmaster" { return .dunno }
        let domain = address.domain ?? ""
        if domain.hasPrefix("[") { return .dunno }
        let name = HostSyntax.truncatingDot(domain)
        if !name.isEmpty && HostSyntax.isValidHostname(name) && name.contains(".") { return .dunno }
        return reject(
            parameters.nonFQDNRejectCode, "4.5.2",
            "<\(address.text)>: \(stage.replyClass) rejected: need fully-qualified address")
    }

    mutating func rejectUnknownAddress(_ address: MailAddress, stage: RestrictionStage) async throws -> CheckStatus {
        guard let domain = address.domain, !domain.isEmpty, !domain.hasPrefix("[") else { return .dunno }
        let classifier = env.classifier
        let addressClass = try await lookup(await classifier.classify(domain: domain), name: address.text)
        if addressClass != .remote && addressClass != .relay { return .dunno }
        let isSender = stage == .sender
        let text = "<\(address.text)>: \(stage.replyClass) rejected: Domain not found"
        switch await env.resolver.mailHost(HostSyntax.truncatingDot(domain)) {
        case .found: return .dunno
        case .notFound: return reject(parameters.unknownAddressRejectCode, isSender ? "4.1.8" : "4.1.2", text)
        case .tryAgain:
            if parameters.unknownAddressTempfailDefers { return reject(450, isSender ? "4.1.8" : "4.1.2", text) }
            return deferIfPermit(450, isSender ? "4.1.8" : "4.1.2", text)
        }
    }

    mutating func unlisted(_ address: MailAddress, stage: RestrictionStage) async throws -> CheckStatus {
        let check = env.unlistedCheck
        guard let found = try await lookup(await check(address, stage.replyClass), name: address.text) else {
            return .dunno
        }
        return reject(found.code, found.status, found.text)
    }
}
