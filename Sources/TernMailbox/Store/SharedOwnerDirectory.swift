import Synchronization

/// The owners a session's shared namespace shows, kept current as Dovecot keeps them: acl_shared_dict is read
/// again when its file changed (LIST, or a name whose owner the session does not know), and owners new in it
/// are looked up in the userdb for their homes. A mailbox shared after the login so shows in the same session.
public final class SharedOwnerDirectory: Sendable, Equatable {
    /// An owner's home from the userdb; nil when the userdb does not know the owner (left out, as at login).
    public typealias HomeLookup = @Sendable (_ owner: String) -> String?
    /// The namespace of these owners (user names with their homes).
    public typealias Builder = @Sendable (_ homes: [String: String]) -> SharedNamespace

    private struct State {
        /// The dict file when it was last read; nil: not read in this session yet.
        var stamp: FileStamp?
        /// Every owner found so far, with the home; kept so that an owner who leaves the dict and comes back
        /// is not looked up again. Owners the userdb did not know are asked again at the dict's next change.
        var homes: [String: String]
        var namespace: SharedNamespace
    }

    private let dictionary: SharedMailboxesDictionary
    private let user: String
    private let groups: [String]
    private let lookupHome: HomeLookup
    private let build: Builder
    private let state: Mutex<State>

    /// `homes`: the owners (and their homes) found at login; the dict is read again at the first refresh.
    public init(
        dictPath: String, user: String, groups: [String], homes: [String: String], lookupHome: @escaping HomeLookup,
        build: @escaping Builder
    ) {
        dictionary = SharedMailboxesDictionary(path: dictPath)
        self.user = user
        self.groups = groups
        self.lookupHome = lookupHome
        self.build = build
        state = Mutex(State(stamp: nil, homes: homes, namespace: build(homes)))
    }

    /// The namespace as the session knows it now.
    public var namespace: SharedNamespace { state.withLock { $0.namespace } }

    /// The namespace after reading the dict again when its file changed (or changed within the last second,
    /// which its mtime cannot tell), looking up the owners new in it. A dict that cannot be read keeps the
    /// owners known.
    public func refresh() -> SharedNamespace {
        state.withLock { state in
            let stamp = FileStamp(dictionary.file.path)
            if let stamp, stamp == state.stamp, stamp.isSettled { return state.namespace }
            guard let owners = try? dictionary.owners(user: user, groups: groups) else { return state.namespace }
            var homes: [String: String] = [:]
            for owner in owners where owner != user {
                if state.homes[owner] == nil { state.homes[owner] = lookupHome(owner) }
                if let home = state.homes[owner] { homes[owner] = home }
            }
            state.stamp = stamp
            state.namespace = build(homes)
            return state.namespace
        }
    }

    public static func == (lhs: SharedOwnerDirectory, rhs: SharedOwnerDirectory) -> Bool { lhs === rhs }
}
