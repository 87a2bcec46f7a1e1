import TernConfig
import TernCore
import TernPolicy

/// The smtpd restriction lists of main.cf (postconf(5) smtpd_*_restrictions, smtpd_restriction_classes)
/// with their tables open, and the parameters that shape their replies.
struct RestrictionSettings: Sendable {
    let lists: [RestrictionStage: RestrictionList]
    let relay: RestrictionList
    let classes: RestrictionClasses
    let parameters: RestrictionParameters
    let delayReject: Bool
    let rejectUnlistedRecipient: Bool
    let rejectUnlistedSender: Bool
    let policy: PolicyServiceClient.Settings

    /// Neither smtpd_relay_restrictions nor smtpd_recipient_restrictions can refuse mail to other sites
    /// (Postfix's has_required check): smtpd refuses to serve rather than run as an open relay.
    var lacksRelayControl: Bool {
        !Self.hasRequired(relay.restrictions, classes, depth: 0)
            && !Self.hasRequired(lists[.recipient]?.restrictions ?? [], classes, depth: 0)
    }

    static let relayControlFatal =
        "in parameter smtpd_relay_restrictions or smtpd_recipient_restrictions, specify at least one working "
        + "instance of: reject_unauth_destination, defer_unauth_destination, reject, defer, defer_if_permit "
        + "or check_relay_domains"

    /// A restriction that rejects by default, directly or in a restriction class; `permit` ends the search
    /// and the restriction after warn_if_reject does not count.
    static func hasRequired(_ restrictions: [Restriction], _ classes: RestrictionClasses, depth: Int) -> Bool {
        guard depth < 100 else { return false }
        var skipNext = false
        for restriction in restrictions {
            if skipNext {
                skipNext = false
                continue
            }
            switch restriction {
            case .warnIfReject: skipNext = true
            case .permit: return false
            case .reject, .`defer`, .deferIfPermit, .rejectUnauthDestination, .deferUnauthDestination: return true
            case .restrictionClass(let name):
                if let list = classes[name], hasRequired(list.restrictions, classes, depth: depth + 1) { return true }
            default: continue
            }
        }
        return false
    }

    /// Whether the stage's list has anything in it.
    func has(_ stage: RestrictionStage) -> Bool { !(lists[stage]?.isEmpty ?? true) }

    static let parameterNames: [RestrictionStage: String] = [
        .client: "smtpd_client_restrictions", .helo: "smtpd_helo_restrictions",
        .sender: "smtpd_sender_restrictions", .recipient: "smtpd_recipient_restrictions",
        .data: "smtpd_data_restrictions", .endOfData: "smtpd_end_of_data_restrictions",
    ]

    static func make(_ config: MainConfig, open: (String) throws -> any LookupTable) throws -> RestrictionSettings {
        func parse(_ name: String, _ words: [String], _ defaultAccess: AccessTarget?) throws -> RestrictionList {
            do {
                return try RestrictionList(parameter: name, words: words, defaultAccess: defaultAccess, open: open)
            } catch {
                throw FileError(file: config.file, message: "\(error)")
            }
        }
        var lists: [RestrictionStage: RestrictionList] = [:]
        for (stage, name) in parameterNames {
            lists[stage] = try parse(name, config.list(name), stage.defaultAccess)
        }
        var classes: [String: RestrictionList] = [:]
        for name in try config.list("smtpd_restriction_classes") {
            classes[name] = try parse(name, config.list(name), nil)
        }
        let parentMatches = try config.list("parent_domain_matches_subdomains")
        var p = RestrictionParameters()
        p.rejectCode = config.int("reject_code") ?? 554
        p.deferCode = config.int("defer_code") ?? 450
        p.accessMapRejectCode = config.int("access_map_reject_code") ?? 554
        p.accessMapDeferCode = config.int("access_map_defer_code") ?? 450
        p.relayDomainsRejectCode = config.int("relay_domains_reject_code") ?? 554
        p.unknownAddressRejectCode = config.int("unknown_address_reject_code") ?? 450
        p.unknownClientRejectCode = config.int("unknown_client_reject_code") ?? 450
        p.unknownHostnameRejectCode = config.int("unknown_hostname_reject_code") ?? 450
        p.invalidHostnameRejectCode = config.int("invalid_hostname_reject_code") ?? 501
        p.nonFQDNRejectCode = config.int("non_fqdn_reject_code") ?? 504
        p.mapsRBLRejectCode = config.int("maps_rbl_reject_code") ?? 554
        p.unknownAddressTempfailDefers = config.value("unknown_address_tempfail_action") == "defer"
        p.unknownHeloTempfailDefers = config.value("unknown_helo_hostname_tempfail_action") == "defer"
        p.accessParentMatches = parentMatches.contains("smtpd_access_maps")
        p.nullAccessKey = config.value("smtpd_null_access_lookup_key")
        p.allowUntrustedRouting = config.bool("allow_untrusted_routing") ?? false
        let rblReply = config.value("default_rbl_reply")
        if !rblReply.isEmpty { p.defaultRBLReply = rblReply }
        p.rblReplyMaps = try config.list("rbl_reply_maps").map(open)
        p.policyDefaultAction = config.value("smtpd_policy_service_default_action")
        p.softBounce = config.bool("soft_bounce") ?? false
        p.recipientDelimiter = config.value("recipient_delimiter")
        p.policyContext = config.value("smtpd_policy_service_policy_context")
        p.compatibilityLevel = config.value("compatibility_level")
        let version = config.value("mail_version")
        if !version.isEmpty { p.mailVersion = version }
        var policy = PolicyServiceClient.Settings()
        policy.timeout = config.time("smtpd_policy_service_timeout") ?? 100
        policy.maxIdle = config.time("smtpd_policy_service_max_idle") ?? 300
        policy.maxTTL = config.time("smtpd_policy_service_max_ttl") ?? 1000
        policy.requestLimit = config.int("smtpd_policy_service_request_limit") ?? 0
        policy.tryLimit = config.int("smtpd_policy_service_try_limit") ?? 2
        policy.retryDelay = config.time("smtpd_policy_service_retry_delay") ?? 1
        policy.queueDirectory = config.value("queue_directory")
        return RestrictionSettings(
            lists: lists,
            relay: try parse("smtpd_relay_restrictions", config.list("smtpd_relay_restrictions"), .recipient),
            classes: RestrictionClasses(classes), parameters: p,
            delayReject: config.bool("smtpd_delay_reject") ?? true,
            rejectUnlistedRecipient: config.bool("smtpd_reject_unlisted_recipient") ?? true,
            rejectUnlistedSender: config.bool("smtpd_reject_unlisted_sender") ?? false, policy: policy)
    }
}
