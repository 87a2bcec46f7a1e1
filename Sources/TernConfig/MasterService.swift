/// One master.cf service entry (master(5)): `service type private unpriv chroot wakeup maxproc command
/// args...`, with fields kept as written (`-` meaning "default") and daemon arguments normalised the
/// way `postconf -M` shows them (`-o name=value` split into two words, `{...}` groups unwrapped).
public struct MasterService: Sendable, Equatable {
    /// The transport types master(5) allows.
    public enum ServiceType: String, Sendable, CaseIterable {
        case inet, unix, unixDgram = "unix-dgram", fifo, pass
    }

    public let name: String
    public let type: ServiceType
    public let privateField: String
    public let unprivilegedField: String
    public let chrootField: String
    public let wakeupField: String
    public let maxprocField: String
    public let command: String
    /// Words after the command, normalised: each `-o` is followed by its `name=value` word.
    public let arguments: [String]
    /// First line of the entry in master.cf.
    public let line: Int

    /// `service/type`, the name space `postconf -P` prints parameters under.
    public var serviceKey: String { "\(name)/\(type.rawValue)" }

    /// Private to the mail system (default yes; inet services are never private).
    public var isPrivate: Bool { type == .inet ? false : privateField != "n" }
    /// Runs without root privileges (default yes).
    public var isUnprivileged: Bool { unprivilegedField != "n" }
    /// Chroot'ed to the queue directory (Postfix 3.x default: no).
    public var isChrooted: Bool { chrootField == "y" }

    /// Wakeup interval in seconds (0: never) and whether it is `?`-conditional (only while in use).
    public var wakeup: (seconds: Int, conditional: Bool) {
        var text = Substring(wakeupField)
        let conditional = text.last == "?"
        if conditional { text = text.dropLast() }
        return (Int(text) ?? 0, conditional)
    }

    /// Process limit; `-` means `default_process_limit`, which the caller supplies; 0 is no limit.
    public func maxProcesses(default defaultLimit: Int) -> Int {
        maxprocField == "-" ? defaultLimit : (Int(maxprocField) ?? defaultLimit)
    }

    /// `-o name=value` settings in order (later ones win when applied).
    public var overrides: [(name: String, value: String)] {
        var result: [(String, String)] = []
        var i = 0
        while i < arguments.count {
            let arg = arguments[i]
            guard arg.hasPrefix("-"), arg != "--" else { break }
            if arg == "-o", i + 1 < arguments.count {
                if case .success(let pair) = NameValue.split(arguments[i + 1]) { result.append(pair) }
                i += 2
            } else {
                i += 1
            }
        }
        return result
    }

    /// The `-o` settings as a dictionary, ready for `MainConfig.overriding(_:)`.
    public var overrideTable: [String: String] {
        var table: [String: String] = [:]
        for (name, value) in overrides { table[name] = value }
        return table
    }

    /// The words after the daemon options (a pipe(8) `argv=...` command line, for example).
    public var commandArguments: [String] {
        var i = 0
        while i < arguments.count {
            let arg = arguments[i]
            if !arg.hasPrefix("-") { break }
            if arg == "--" { return Array(arguments[(i + 1)...]) }
            i += arg == "-o" ? 2 : 1
        }
        return Array(arguments[min(i, arguments.count)...])
    }

    /// Daemon flags such as `-v` or `-D` (options other than `-o`).
    public var daemonFlags: [String] {
        var flags: [String] = []
        var i = 0
        while i < arguments.count, arguments[i].hasPrefix("-"), arguments[i] != "--" {
            if arguments[i] == "-o" { i += 2 } else { flags.append(arguments[i]); i += 1 }
        }
        return flags
    }

    /// The seven fixed fields as written.
    var fixedFields: [String] {
        [name, type.rawValue, privateField, unprivilegedField, chrootField, wakeupField, maxprocField]
    }
}
