/// Where an address list came from, for allow_mail_to_commands / allow_mail_to_files and
/// propagate_unmatched_extensions (local(8) "EXTERNAL FILE DELIVERY", "EXTERNAL COMMAND DELIVERY").
public struct ExpansionSources: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let alias = ExpansionSources(rawValue: 1 << 0)
    public static let forward = ExpansionSources(rawValue: 1 << 1)
    public static let include = ExpansionSources(rawValue: 1 << 2)

    /// Parses `alias, forward, include` (comma/space separated, case-insensitive). Unknown words are
    /// returned so the caller can report them as Postfix does (`unknown ... value`).
    public static func parse(_ text: String) -> (sources: ExpansionSources, unknown: [String]) {
        var result: ExpansionSources = []
        var unknown: [String] = []
        for word in text.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" || $0 == "\n" }) {
            switch word.lowercased() {
            case "alias": result.insert(.alias)
            case "forward": result.insert(.forward)
            case "include": result.insert(.include)
            default: unknown.append(String(word))
            }
        }
        return (result, unknown)
    }
}

/// The classes named in propagate_unmatched_extensions (postconf(5)); local(8) uses alias, forward and include.
public struct ExtensionPropagation: Sendable, Hashable {
    public var alias: Bool
    public var forward: Bool
    public var include: Bool

    public init(alias: Bool = false, forward: Bool = false, include: Bool = false) {
        self.alias = alias
        self.forward = forward
        self.include = include
    }

    /// Parses the parameter value (`canonical, virtual` by default: nothing local(8) cares about).
    public init(parameter: String) {
        let words = Set(parameter.lowercased().split(whereSeparator: { ", \t\n".contains($0) }).map(String.init))
        self.init(
            alias: words.contains("alias"), forward: words.contains("forward"), include: words.contains("include"))
    }
}

/// The main.cf parameters that steer local(8) address resolution, with Postfix 3.7 defaults.
/// Parameter names are given beside each field; values are as after `$name` expansion.
public struct LocalDeliverySettings: Sendable {
    /// myorigin: domain appended to bare names in aliases and .forward files (canonical rewriting).
    public var myorigin: String
    /// recipient_delimiter: one or more delimiter characters ("" = no extensions).
    public var recipientDelimiter: String = ""
    /// home_mailbox: relative to the home directory; a trailing `/` selects Maildir.
    public var homeMailbox: String = ""
    /// mail_spool_directory: `/var/mail`; a trailing `/` selects Maildir per user.
    public var mailSpoolDirectory: String = "/var/mail"
    /// mailbox_command: when set, mailbox delivery pipes into this command (no `$name` expansion).
    public var mailboxCommand: String = ""
    /// mailbox_transport: hand mailbox delivery to another transport (e.g. `lmtp:unix:private/dovecot-lmtp`).
    public var mailboxTransport: String = ""
    /// fallback_transport: transport for recipients not found in aliases or passwd.
    public var fallbackTransport: String = ""
    /// luser_relay: address for unknown recipients (subject to `$user`, `$domain`, ... expansion).
    public var luserRelay: String = ""
    /// forward_path: candidate .forward files, first existing one wins.
    public var forwardPath: String = "$home/.forward${recipient_delimiter}${extension}, $home/.forward"
    /// forward_expansion_filter: characters allowed in `$name` values inside forward_path.
    public var forwardExpansionFilter: String = LocalDeliverySettings.defaultExpansionFilter
    /// command_expansion_filter: characters allowed in the environment given to commands.
    public var commandExpansionFilter: String = LocalDeliverySettings.defaultExpansionFilter
    /// allow_mail_to_commands (default `alias, forward`).
    public var allowMailToCommands: ExpansionSources = [.alias, .forward]
    /// allow_mail_to_files (default `alias, forward`).
    public var allowMailToFiles: ExpansionSources = [.alias, .forward]
    /// owner_request_special: `owner-name` aliases become the envelope sender for `name`.
    public var ownerRequestSpecial: Bool = true
    /// expand_owner_alias: use the owner alias's value rather than `owner-name` as the sender.
    public var expandOwnerAlias: Bool = false
    /// reset_owner_alias: forget an inherited owner when a child alias has none of its own.
    public var resetOwnerAlias: Bool = false
    /// propagate_unmatched_extensions.
    public var propagateUnmatchedExtensions = ExtensionPropagation()
    /// local_command_shell: shell for `|command` and mailbox_command ("" = Postfix's built-in exec).
    public var localCommandShell: String = ""
    /// default_privs: account used for command/file deliveries that would otherwise run as root.
    public var defaultPrivs: String = "nobody"
    /// require_home_directory: defer when the recipient's home directory cannot be stat()ed.
    public var requireHomeDirectory: Bool = false
    /// double_bounce_sender: never split at a recipient delimiter.
    public var doubleBounceSender: String = "double-bounce"
    /// line_length_limit: longer .forward / :include: lines are processed in pieces.
    public var lineLengthLimit: Int = 2048

    /// Postfix's default forward_expansion_filter / command_expansion_filter.
    public static let defaultExpansionFilter =
        "1234567890!@%-_=+:,./abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

    public init(myorigin: String) {
        self.myorigin = myorigin
    }
}

extension LocalDeliverySettings {
    /// Builds the settings from main.cf values (after `$name` expansion), keyed by parameter name.
    /// Missing parameters keep Postfix's defaults; `myorigin` falls back to `myhostname`.
    public init(parameters: [String: String]) {
        self.init(myorigin: parameters["myorigin"] ?? parameters["myhostname"] ?? "localhost")
        func flag(_ name: String, _ current: Bool) -> Bool {
            guard let value = parameters[name]?.lowercased() else { return current }
            return value == "yes" || value == "true" || value == "1"
        }
        recipientDelimiter = parameters["recipient_delimiter"] ?? recipientDelimiter
        homeMailbox = parameters["home_mailbox"] ?? homeMailbox
        mailSpoolDirectory = parameters["mail_spool_directory"] ?? mailSpoolDirectory
        mailboxCommand = parameters["mailbox_command"] ?? mailboxCommand
        mailboxTransport = parameters["mailbox_transport"] ?? mailboxTransport
        fallbackTransport = parameters["fallback_transport"] ?? fallbackTransport
        luserRelay = parameters["luser_relay"] ?? luserRelay
        forwardPath = parameters["forward_path"] ?? forwardPath
        forwardExpansionFilter = parameters["forward_expansion_filter"] ?? forwardExpansionFilter
        commandExpansionFilter = parameters["command_expansion_filter"] ?? commandExpansionFilter
        if let value = parameters["allow_mail_to_commands"] {
            allowMailToCommands = ExpansionSources.parse(value).sources
        }
        if let value = parameters["allow_mail_to_files"] { allowMailToFiles = ExpansionSources.parse(value).sources }
        ownerRequestSpecial = flag("owner_request_special", ownerRequestSpecial)
        expandOwnerAlias = flag("expand_owner_alias", expandOwnerAlias)
        resetOwnerAlias = flag("reset_owner_alias", resetOwnerAlias)
        requireHomeDirectory = flag("require_home_directory", requireHomeDirectory)
        if let value = parameters["propagate_unmatched_extensions"] {
            propagateUnmatchedExtensions = ExtensionPropagation(parameter: value)
        }
        localCommandShell = parameters["local_command_shell"] ?? localCommandShell
        defaultPrivs = parameters["default_privs"] ?? defaultPrivs
        doubleBounceSender = parameters["double_bounce_sender"] ?? doubleBounceSender
        if let value = parameters["line_length_limit"], let limit = Int(value), limit > 0 { lineLengthLimit = limit }
    }
}
