import Synchronization
import TernConfig
import TernCore
import TernDelivery
import TernPolicy

/// What a delivery attempt needs from the current configuration: the settings and the local/virtual
/// delivery agents built from them.
struct DeliveryContext: Sendable {
    let settings: MTASettings
    let transport: LocalTransport

    static func make(settings: MTASettings, executor: any DeliveryExecutor, log: MailLog) throws -> DeliveryContext {
        let config = settings.config
        var parameters: [String: String] = [:]
        for name in [
            "myorigin", "myhostname", "recipient_delimiter", "home_mailbox", "mail_spool_directory",
            "mailbox_command", "mailbox_transport", "fallback_transport", "luser_relay", "forward_path",
            "forward_expansion_filter", "command_expansion_filter", "allow_mail_to_commands", "allow_mail_to_files",
            "propagate_unmatched_extensions", "local_command_shell", "default_privs", "double_bounce_sender",
            "line_length_limit", "owner_request_special", "expand_owner_alias", "require_home_directory",
            "virtual_mailbox_base", "virtual_minimum_uid", "virtual_mailbox_limit",
        ] {
            parameters[name] = config.value(name)
        }
        let warn: @Sendable (String) -> Void = { log.warning("local", $0) }
        let classifier = settings.classifier
        let resolver = LocalRecipientResolver(
            settings: LocalDeliverySettings(parameters: parameters), aliasMaps: settings.aliasTables
        ) { domain in
            try await classifier.classify(domain: domain) == .local
        }
        let virtual = VirtualMailboxResolver(
            settings: VirtualMailboxSettings(parameters: parameters), mailboxMaps: settings.virtualMailboxMaps,
            uidMaps: try config.list("virtual_uid_maps").map { try MTASettings.openTable($0, warn: warn) },
            gidMaps: try config.list("virtual_gid_maps").map { try MTASettings.openTable($0, warn: warn) }
        ) { domain in
            try await classifier.virtualMailboxDomains.contains(domain)
        }
        let transport = LocalTransport(
            resolver: resolver, virtualResolver: virtual, executor: executor, hostname: settings.hostname,
            mailboxSizeLimit: config.size("mailbox_size_limit") ?? 51_200_000,
            commandTimeLimit: config.time("command_time_limit") ?? 1000,
            spoolDirectory: config.value("mail_spool_directory"),
            lockPolicy: MailboxLockPolicy(
                methods: MailboxLockPolicy.methods(from: config.value("mailbox_delivery_lock")) ?? [.fcntl, .dotlock],
                attempts: config.int("deliver_lock_attempts") ?? 20,
                delaySeconds: Double(config.time("deliver_lock_delay") ?? 1),
                staleSeconds: config.time("stale_lock_time") ?? 500),
            log: log)
        return DeliveryContext(settings: settings, transport: transport)
    }
}

/// The current delivery context, replaced on reload.
final class DeliveryContextStore: Sendable {
    private let current: Mutex<DeliveryContext>

    init(_ context: DeliveryContext) {
        current = Mutex(context)
    }

    var context: DeliveryContext { current.withLock { $0 } }

    func replace(_ context: DeliveryContext) {
        current.withLock { $0 = context }
    }
}
