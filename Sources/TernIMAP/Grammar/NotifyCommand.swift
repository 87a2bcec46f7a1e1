/// RFC 5465 NOTIFY's events (§5), in Dovecot 2.3's order (its BADEVENT list follows it).
public struct NotifyEvents: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let messageNew = NotifyEvents(rawValue: 1 << 0)
    public static let messageExpunge = NotifyEvents(rawValue: 1 << 1)
    public static let flagChange = NotifyEvents(rawValue: 1 << 2)
    public static let annotationChange = NotifyEvents(rawValue: 1 << 3)
    public static let mailboxName = NotifyEvents(rawValue: 1 << 4)
    public static let subscriptionChange = NotifyEvents(rawValue: 1 << 5)
    public static let mailboxMetadataChange = NotifyEvents(rawValue: 1 << 6)
    public static let serverMetadataChange = NotifyEvents(rawValue: 1 << 7)

    public static let names: [(name: String, event: NotifyEvents)] = [
        ("MessageNew", .messageNew), ("MessageExpunge", .messageExpunge), ("FlagChange", .flagChange),
        ("AnnotationChange", .annotationChange), ("MailboxName", .mailboxName),
        ("SubscriptionChange", .subscriptionChange), ("MailboxMetadataChange", .mailboxMetadataChange),
        ("ServerMetadataChange", .serverMetadataChange),
    ]
    /// Dovecot 2.3 refuses these with `NO [BADEVENT ...]`.
    public static let unsupported: NotifyEvents = [.annotationChange, .mailboxMetadataChange, .serverMetadataChange]
    /// The events that concern messages, reported for other mailboxes as STATUS.
    public static let messageEvents: NotifyEvents = [.messageNew, .messageExpunge, .flagChange, .annotationChange]

    /// An event name, case-insensitive.
    public init?(name: String) {
        guard let found = Self.names.first(where: { $0.name.uppercased() == name.uppercased() }) else { return nil }
        self = found.event
    }

    public var names: [String] { Self.names.filter { contains($0.event) }.map(\.name) }
}

/// `filter-mailboxes` other than `selected` (RFC 5465 §6).
public enum NotifyMailboxes: Sendable, Hashable {
    /// `personal`, and `inboxes`, which Dovecot treats the same (it cannot tell where mail is delivered).
    case personal
    case subscribed
    /// The mailboxes and everything below them.
    case subtree([MailboxName])
    case mailboxes([MailboxName])
}

public struct NotifyFilter: Sendable, Hashable {
    public var mailboxes: NotifyMailboxes
    public var events: NotifyEvents

    public init(_ mailboxes: NotifyMailboxes, _ events: NotifyEvents) {
        self.mailboxes = mailboxes
        self.events = events
    }
}

/// The `selected` / `selected-delayed` filter: events for the selected mailbox, and the FETCH items that
/// follow each new message's EXISTS.
public struct NotifySelected: Sendable, Hashable {
    public var events: NotifyEvents
    public var fetch: [FetchAttribute]
    /// `selected-delayed`: expunges wait for a command that allows them (RFC 5465 §6).
    public var delayed: Bool

    public init(events: NotifyEvents, fetch: [FetchAttribute] = [], delayed: Bool = false) {
        self.events = events
        self.fetch = fetch
        self.delayed = delayed
    }
}

/// `NOTIFY SET [STATUS] event-group...`; groups with NONE are left out, as Dovecot ignores them.
public struct NotifySet: Sendable, Hashable {
    public var status: Bool
    public var selected: NotifySelected?
    public var filters: [NotifyFilter]

    public init(status: Bool = false, selected: NotifySelected? = nil, filters: [NotifyFilter] = []) {
        self.status = status
        self.selected = selected
        self.filters = filters
    }

    /// Every event named anywhere in the command.
    public var usedEvents: NotifyEvents {
        filters.reduce(selected?.events ?? []) { $0.union($1.events) }
    }
}
