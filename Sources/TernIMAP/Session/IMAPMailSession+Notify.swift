import TernMailbox

/// A non-selected mailbox NOTIFY reports on, and its counts when last looked at.
struct WatchedMailbox {
    let mailbox: any Mailbox
    var status: NotifyMailboxStatus
}

/// What STATUS reports of a mailbox; NOTIFY compares these to tell which events happened.
struct NotifyMailboxStatus: Equatable {
    var messages = 0
    var uidNext: UInt32 = 0
    var uidValidity: UInt32 = 0
    var unseen = 0
    var highestModSeq: UInt64 = 0

    init(_ mailbox: any Mailbox) {
        messages = mailbox.messages.count
        uidNext = mailbox.nextUID
        uidValidity = mailbox.uidValidity
        unseen = mailbox.messages.count(where: { !$0.flags.contains(.seen) })
        highestModSeq = mailbox.highestModSeq
    }
}

/// The session's NOTIFY SET (RFC 5465) and what it last saw of the mailboxes it covers. Changes are found by
/// comparing: the mailbox list and subscriptions for MailboxName and SubscriptionChange, and the counts of
/// up to `IMAPMailSession.maxWatchedMailboxes` mailboxes for the message events.
struct NotifyState {
    let set: NotifySet
    /// The filters with names in the store's spelling (INBOX upper case).
    let filters: [(mailboxes: NotifyMailboxes, names: [String], events: NotifyEvents)]
    /// Every name LIST "" "*" showed, with its attributes.
    var listed: [String: MailboxAttributes] = [:]
    var subscriptions: Set<String> = []
    var watched: [String: WatchedMailbox] = [:]
    /// With MailboxName: the UIDVALIDITY of each listed mailbox, read when it first shows up, so that a name
    /// gone and a new one with the same UIDVALIDITY is told as a rename with OLDNAME (RFC 5465 §5.4), whatever
    /// other events (and so `watched`) cover it.
    var validities: [String: UInt32] = [:]

    /// Whether mailboxes other than the selected one are covered at all.
    var coversOthers: Bool { !filters.isEmpty }

    /// The events wanted for mailbox `name`.
    func events(for name: String, separator: Character) -> NotifyEvents {
        var events = NotifyEvents()
        for filter in filters {
            let matches: Bool
            switch filter.mailboxes {
            case .personal: matches = true
            case .subscribed: matches = subscriptions.contains(name)
            case .subtree: matches = filter.names.contains { name == $0 || name.hasPrefix($0 + String(separator)) }
            case .mailboxes: matches = filter.names.contains(name)
            }
            if matches { events.formUnion(filter.events) }
        }
        return events
    }
}

extension IMAPMailSession {
    /// Mailboxes whose message counts NOTIFY follows at once (each costs an open mailbox and two inotify
    /// watches); mailboxes beyond them, in LIST order, get MailboxName and SubscriptionChange events only.
    static let maxWatchedMailboxes = 100
    /// Dovecot's IMAP_NOTIFY_MAX_NAMES_PER_NS: more names than this in one filter is NOTIFICATIONOVERFLOW.
    static let maxNotifyNames = 100

    // MARK: NOTIFY command

    func notify(_ tag: String, _ set: NotifySet?) {
        let set = set ?? NotifySet()
        let unsupported = set.usedEvents.intersection(.unsupported)
        guard unsupported.isEmpty else {
            let code = ResponseCode.other("BADEVENT " + unsupported.names.joined(separator: " "))
            complete(tag, .no, code, text: IMAPReplyText.unsupportedNotifyEvents)
            return
        }
        guard Self.largestNameGroup(set) <= Self.maxNotifyNames else {
            complete(tag, .no, .other("NOTIFICATIONOVERFLOW"), text: IMAPReplyText.tooManyMailboxNames)
            return
        }
        var state = NotifyState(
            set: set,
            filters: set.filters.map { filter in
                switch filter.mailboxes {
                case .subtree(let names), .mailboxes(let names):
                    (filter.mailboxes, names.compactMap { decodedName($0).map(store.normalize) }, filter.events)
                default:
                    (filter.mailboxes, [], filter.events)
                }
            })
        // Without a selected filter Dovecot sends no EXISTS, RECENT, EXPUNGE or flag changes for it at all.
        notifyCountChanges = set.selected?.events.contains(.messageNew) ?? false
        notifyFlagChanges = set.selected?.events.contains(.flagChange) ?? false
        refreshNotify(&state, report: false)
        if set.status { writeNotifyStatus(state) }
        notification = state
        finish(tag, text: IMAPReplyText.notifyCompleted)
    }

    /// The most names one filter group holds, grouped as Dovecot does (same kind and events), with
    /// `personal` and `subscribed` counting as one name each.
    static func largestNameGroup(_ set: NotifySet) -> Int {
        var groups: [String: Set<[UInt8]>] = [:]
        for filter in set.filters {
            let (kind, names): (String, [[UInt8]]) =
                switch filter.mailboxes {
                case .personal: ("subtree", [[]])
                case .subscribed: ("subscribed", [[]])
                case .subtree(let names): ("subtree", names.map(\.bytes))
                case .mailboxes(let names): ("mailboxes", names.map(\.bytes))
                }
            groups["\(kind) \(filter.events.rawValue)", default: []].formUnion(names)
        }
        return groups.values.map(\.count).max() ?? 0
    }

    /// NOTIFY SET STATUS: a STATUS for each covered mailbox but the selected one, before the tagged OK.
    private func writeNotifyStatus(_ state: NotifyState) {
        guard state.filters.contains(where: { !$0.events.isDisjoint(with: .messageEvents) }) else { return }
        var attributes: [StatusAttribute] = [.messages, .uidNext, .uidValidity, .unseen]
        if !state.set.usedEvents.isDisjoint(with: [.flagChange, .annotationChange]) {
            attributes.append(.highestModSeq)
        }
        let separator = store.settings.separator
        for entry in (try? store.listMailboxes()) ?? []
        where !entry.attributes.contains(.noSelect) && !state.events(for: entry.name, separator: separator).isEmpty
            && entry.name != selected?.mailbox.name && mayNotifyStatus(entry.name)
        {
            guard let values = try? statusValues(entry.name, attributes) else { continue }
            send(.status(wireName(entry.name), values))
        }
    }

    // MARK: events

    /// Writes what changed in the mailboxes NOTIFY covers since the last look: LIST for mailboxes created,
    /// deleted or renamed (MailboxName) and subscriptions (SubscriptionChange), STATUS for message events
    /// in mailboxes other than the selected one.
    func writeNotifyEvents() {
        guard var state = notification, state.coversOthers else { return }
        refreshNotify(&state, report: true)
        notification = state
    }

    /// Looks at the mailbox list, subscriptions and watched mailboxes; with `report` writes the differences.
    /// RFC 5465 §5: mailboxes without the lookup right are left out altogether, as LIST leaves them out, and
    /// message events need the read right too.
    private func refreshNotify(_ state: inout NotifyState, report: Bool) {
        guard state.coversOthers, let all = try? store.listMailboxes() else { return }
        let entries = all.filter(visible)
        let separator = store.settings.separator
        let subscriptions = Set((try? store.subscriptions()) ?? []).filter { rights($0).contains(.lookup) }
        let listed = Dictionary(entries.map { ($0.name, $0.attributes) }, uniquingKeysWith: { first, _ in first })
        if report {
            writeListChanges(state, listed: listed, subscriptions: subscriptions)
        }
        state.listed = listed
        state.subscriptions = subscriptions
        if state.filters.contains(where: { $0.events.contains(.mailboxName) }) {
            var validities: [String: UInt32] = [:]
            for entry in entries where !entry.attributes.contains(.noSelect) {
                validities[entry.name] = state.validities[entry.name] ?? uidValidity(of: entry.name)
            }
            state.validities = validities
        }
        // The mailboxes whose counts are followed: covered by a message event, selectable, not selected.
        var wanted: [String] = []
        for entry in entries where wanted.count < Self.maxWatchedMailboxes {
            guard !entry.attributes.contains(.noSelect), entry.name != selected?.mailbox.name,
                !state.events(for: entry.name, separator: separator).isDisjoint(with: .messageEvents),
                rights(entry.name).contains(.read)
            else { continue }
            wanted.append(entry.name)
        }
        var watched: [String: WatchedMailbox] = [:]
        for name in wanted {
            if var known = state.watched[name] {
                guard (try? known.mailbox.sync()) != nil else { continue }
                let status = NotifyMailboxStatus(known.mailbox)
                if report { writeStatusChange(name, from: known.status, to: status, state) }
                known.status = status
                watched[name] = known
            } else if let mailbox = try? store.openMailbox(name, readOnly: true) {
                // Newly covered (or created): its present counts are the starting point.
                watched[name] = WatchedMailbox(mailbox: mailbox, status: NotifyMailboxStatus(mailbox))
            }
        }
        state.watched = watched
    }

    /// Mailboxes gone (`\NonExistent`), renamed (`("OLDNAME" (old))`, told by an unchanged UIDVALIDITY), new,
    /// then subscriptions added and removed, as Dovecot orders them.
    private func writeListChanges(
        _ state: NotifyState, listed: [String: MailboxAttributes], subscriptions: Set<String>
    ) {
        let separator = store.settings.separator
        var gone = state.listed.keys.filter { listed[$0] == nil }.sorted()
        var added = listed.keys.filter { state.listed[$0] == nil }.sorted()
        var renames: [(old: String, new: String)] = []
        for old in gone {
            guard let validity = state.validities[old], let new = added.first(where: { uidValidity(of: $0) == validity })
            else { continue }
            renames.append((old, new))
            added.removeAll { $0 == new }
        }
        gone.removeAll { name in renames.contains { $0.old == name } }
        // Dovecot matches the subscribed filter against the subscriptions as they are now.
        var current = state
        current.subscriptions = subscriptions
        func wants(_ name: String, _ event: NotifyEvents) -> Bool {
            current.events(for: name, separator: separator).contains(event)
        }
        func list(_ name: String, _ attributes: [MailboxAttribute], oldName: String? = nil) {
            let item = MailboxListItem(
                attributes: attributes, delimiter: separator, name: wireName(name), oldName: oldName.map(wireName))
            send(.list(item))
        }
        for name in gone where wants(name, .mailboxName) { list(name, [.nonExistent]) }
        for rename in renames where wants(rename.new, .mailboxName) { list(rename.new, [], oldName: rename.old) }
        for name in added where wants(name, .mailboxName) { list(name, []) }
        for name in subscriptions.subtracting(state.subscriptions).sorted() where wants(name, .subscriptionChange) {
            list(name, [.subscribed])
        }
        for name in state.subscriptions.subtracting(subscriptions).sorted() where wants(name, .subscriptionChange) {
            list(name, [])
        }
    }

    /// `* STATUS` with what changed, as Dovecot's NOTIFY picks the items: a new UIDVALIDITY sends all four,
    /// new or expunged messages MESSAGES, UIDNEXT and UNSEEN, a changed \Seen count UNSEEN; HIGHESTMODSEQ
    /// comes along once CONDSTORE is enabled.
    private func writeStatusChange(
        _ name: String, from old: NotifyMailboxStatus, to new: NotifyMailboxStatus, _ state: NotifyState
    ) {
        let wanted = state.events(for: name, separator: store.settings.separator)
        let newValidity = old.uidValidity != new.uidValidity
        let appended = old.uidNext != new.uidNext
        let expunged = new.messages < old.messages
        let seen = old.unseen != new.unseen
        let modSeq = old.highestModSeq < new.highestModSeq
        let matches =
            (newValidity && !wanted.isDisjoint(with: [.messageNew, .messageExpunge, .flagChange]))
            || (appended && wanted.contains(.messageNew)) || (expunged && wanted.contains(.messageExpunge))
            || ((seen || modSeq) && wanted.contains(.flagChange))
        guard matches else { return }
        var values: [StatusValue] = []
        if newValidity || appended || expunged { values.append(StatusValue(.messages, UInt64(new.messages))) }
        if newValidity || appended || expunged { values.append(StatusValue(.uidNext, UInt64(new.uidNext))) }
        if newValidity { values.append(StatusValue(.uidValidity, UInt64(new.uidValidity))) }
        if newValidity || appended || expunged || seen { values.append(StatusValue(.unseen, UInt64(new.unseen))) }
        if condstoreEnabled { values.append(StatusValue(.highestModSeq, new.highestModSeq)) }
        guard !values.isEmpty else { return }
        send(.status(wireName(name), values))
    }

    /// STATUS about a mailbox needs the lookup and read rights (as the STATUS command).
    private func mayNotifyStatus(_ name: String) -> Bool { rights(name).isSuperset(of: [.lookup, .read]) }

    // MARK: the selected mailbox

    /// After `* n EXISTS`: the FETCH items the selected filter's MessageNew names, for each message that
    /// came since the last such report (or the SELECT).
    func writeNewMessageFetches() {
        guard let attributes = notification?.set.selected?.fetch, !attributes.isEmpty,
            let selection = selected
        else { return }
        // IMAP4rev2: unsolicited FETCH responses carry the UID (RFC 9051 Appendix E item 21).
        let plan = FetchPlan(attributes, uid: imap4rev2Enabled, readOnly: selection.readOnly)
        let messages = selection.mailbox.messages
        for index in messages.indices where messages[index].uid >= selection.notifyUIDNext {
            try? writeFetch(index: index, messages[index], plan)
        }
        selected?.notifyUIDNext = selection.mailbox.nextUID
    }

    /// Whether the selected mailbox's changes go out without waiting for a command: with NOTIFY's `selected`
    /// or `selected-delayed` filter (`holdsExpunges`).
    var pushesSelectedChanges: Bool {
        guard selected != nil, let selectedFilter = notification?.set.selected else { return false }
        return !selectedFilter.events.isEmpty
    }

    /// RFC 5465 §5.1 `selected-delayed`: between commands expunges wait (sequence numbers stay as the client
    /// knows them, as with Dovecot's MAILBOX_SYNC_FLAG_NO_EXPUNGES); new messages and flag changes do not.
    var holdsExpunges: Bool { notification?.set.selected?.delayed == true }
}
