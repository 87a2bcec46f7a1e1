import TernCore

/// The main.cf parameters Postfix 3.7 knows, with their built-in defaults (postconf(5)), plus what
/// Tern changes on purpose: `mail_name = Tern`, `mail_version` = Tern's version and a banner without
/// the Debian suffix. Host-dependent defaults (myhostname, mydomain, mynetworks) are computed per
/// configuration by `HostDefaults`, because they depend on other settings.
public enum ParameterRegistry {
    /// Tern's version string, shown as `mail_version`.
    public static let ternVersion = TernVersion.string

    /// Built-in defaults by name (unexpanded, as `postconf -d` prints them), without the host-dependent ones.
    public static let defaults: [String: String] = {
        var table: [String: String] = [:]
        for line in PostfixDefaults.text.split(separator: "\n") {
            guard let space = line.firstIndex(of: " ") else { continue }
            let name = String(line[..<space])
            var value = line[space...].dropFirst()
            guard value.first == "=" else { continue }
            value = value.dropFirst()
            if value.first == " " { value = value.dropFirst() }
            table[name] = String(value)
        }
        table["mail_name"] = "Tern"
        table["mail_version"] = ternVersion
        table["smtpd_banner"] = "$myhostname ESMTP $mail_name"
        return table
    }()

    /// Parameters whose defaults depend on the host or on other settings (see `HostDefaults`).
    public static let hostDependent: Set<String> = ["myhostname", "mydomain", "mynetworks", "process_id", "process_name"]

    /// Every built-in parameter name, sorted.
    public static let builtinNames: [String] = Array(Set(defaults.keys).union(hostDependent)).sorted()

    public static func isBuiltin(_ name: String) -> Bool {
        defaults[name] != nil || hostDependent.contains(name)
    }

    /// Parameters whose values Postfix never `$`-expands (they are expanded later with per-message
    /// attributes, e.g. `$rbl_code` or `$home`); `postconf -x` shows them as they are.
    public static let rawParameters: Set<String> = [
        "command_execution_directory", "default_rbl_reply", "forward_path", "luser_relay", "mailbox_command",
        "postscreen_expansion_filter", "postscreen_reject_footer", "smtpd_expansion_filter",
        "smtpd_reject_footer",
    ]

    /// Parameters main.cf may not set; Postfix warns "read-only parameter assignment" and ignores them.
    public static let readOnlyParameters: Set<String> = ["process_id", "process_name", "service_name"]

    /// Match-list parameters in which a `/file/name` element stands for the patterns in that file
    /// (postconf(5): mydestination, mynetworks, relay_domains, ... "Specify ... /file/name").
    public static let fileExpandingLists: Set<String> = [
        "mydestination", "mynetworks", "relay_domains", "permit_mx_backup_networks", "virtual_alias_domains",
        "virtual_mailbox_domains", "debug_peer_list", "fast_flush_domains", "qmqpd_authorized_clients",
        "smtpd_client_event_limit_exceptions", "smtpd_sasl_exceptions_networks", "authorized_flush_users",
        "authorized_mailq_users", "authorized_submit_users", "authorized_verp_clients",
        "smtpd_authorized_verp_clients", "smtpd_authorized_xclient_hosts", "smtpd_authorized_xforward_hosts",
        "local_header_rewrite_clients", "postscreen_access_list",
    ]

    /// The unit a bare number means for a time parameter ("s", "m", "h", "d" or "w"), or nil when
    /// the parameter is not a time parameter. Postfix takes it from the unit of the built-in
    /// default (maximal_queue_lifetime = 5d, so `maximal_queue_lifetime = 3` means 3 days).
    public static func defaultTimeUnit(_ name: String) -> Character? {
        timeUnits[name]
    }

    static let timeUnits: [String: Character] = {
        var units: [String: Character] = [:]
        func unit(of name: String, depth: Int) -> Character? {
            guard depth < 8, let value = defaults[name], let last = value.last else { return nil }
            if value.hasPrefix("$"), value.dropFirst().allSatisfy(MacroSyntax.isNameCharacter) {
                return unit(of: String(value.dropFirst()), depth: depth + 1)
            }
            guard "smhdw".contains(last) else { return nil }
            let body = value.dropLast()
            guard let before = body.last, before.isNumber || before == "}" else { return nil }
            if before.isNumber, !body.allSatisfy(\.isNumber) { return nil }
            return last
        }
        for name in defaults.keys {
            if let u = unit(of: name, depth: 0) { units[name] = u }
        }
        return units
    }()

    /// Postfix program names whose master.cf services get service-defined parameters
    /// (postconf_service.c): `<service>_destination_concurrency_limit` etc. for delivery agents,
    /// plus `<service>_time_limit` for pipe(8) and spawn(8).
    static let deliveryAgentSuffixes: [String] = [
        "_delivery_slot_cost", "_delivery_slot_discount", "_delivery_slot_loan",
        "_destination_concurrency_failed_cohort_limit", "_destination_concurrency_limit",
        "_destination_concurrency_negative_feedback", "_destination_concurrency_positive_feedback",
        "_destination_rate_delay", "_destination_recipient_limit", "_extra_recipient_limit",
        "_initial_destination_concurrency", "_minimum_delivery_slots", "_recipient_limit",
        "_recipient_refill_delay", "_recipient_refill_limit", "_transport_rate_delay",
    ]

    /// The built-in parameter each service-defined suffix takes its default from.
    static func serviceParameterDefault(suffix: String) -> String {
        switch suffix {
        case "_time_limit": return "$command_time_limit"
        case "_initial_destination_concurrency": return "$initial_destination_concurrency"
        default: return "$default" + suffix
        }
    }

    /// Service-defined parameters (name → default) for one master.cf service running `command`.
    static func serviceParameters(service: String, command: String) -> [String: String] {
        let suffixes: [String]
        switch command {
        case "local", "error", "virtual", "smtp", "lmtp": suffixes = deliveryAgentSuffixes
        case "pipe": suffixes = ["_time_limit"] + deliveryAgentSuffixes
        case "spawn": suffixes = ["_time_limit"]
        default: return [:]
        }
        var params: [String: String] = [:]
        for suffix in suffixes {
            let name = service + suffix
            if isBuiltin(name) { continue }
            params[name] = serviceParameterDefault(suffix: suffix)
        }
        return params
    }
}
