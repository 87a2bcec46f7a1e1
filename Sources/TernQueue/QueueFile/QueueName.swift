/// The subdirectories of `queue_directory` (Postfix QSHAPE_README, postsuper(1)).
/// Message queues hold queue files; log queues (`defer`, `bounce`, `trace`) hold per-message
/// recipient status logs named after the queue ID; the rest are service directories.
public enum QueueName: String, Sendable, CaseIterable, Comparable {
    case maildrop, incoming, active, deferred, hold, corrupt, saved
    case bounce, `defer`, trace, flush
    case pid, `private`, `public`

    /// Queues that hold message files (postsuper's MESSAGE_QUEUE).
    public var holdsMessages: Bool {
        switch self {
        case .maildrop, .incoming, .active, .deferred, .hold, .corrupt, .saved: return true
        default: return false
        }
    }

    /// Postfix's `hash_queue_names` default: `deferred, defer`.
    public static let defaultHashed: Set<QueueName> = [.deferred, .defer]

    /// The order in which postcat -q, postsuper and the queue listing search for an ID.
    public static let searchOrder: [QueueName] = [.maildrop, .incoming, .active, .deferred, .hold, .saved]

    /// Directory modes: maildrop is writable (not readable) by everybody, with the sticky bit (Postfix's
    /// world-writable maildrop: sendmail needs no set-gid program, pickup knows the submitter from the file's
    /// owner); public is searchable by the setgid group, pid is world-readable; the rest are private to
    /// mail_owner.
    public var mode: UInt32 {
        switch self {
        case .maildrop: return 0o1733
        case .public: return 0o710
        case .pid: return 0o755
        default: return 0o700
        }
    }

    public static func < (lhs: QueueName, rhs: QueueName) -> Bool { lhs.rawValue < rhs.rawValue }
}
