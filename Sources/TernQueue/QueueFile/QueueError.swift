/// A queue operation that failed, with the path and the errno text, in Postfix's wording
/// (`open queue file 0C261A1F0F: No such file or directory`).
public struct QueueError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// A system call failed; `errno` holds its error number.
        case system(errno: Int32)
        /// The file exists but has no completion mark (still being written, or left by a crash).
        case incomplete
        /// The file has a completion mark but its records do not parse (belongs in corrupt/).
        case corrupt
        /// A bad queue ID or argument.
        case invalid
    }

    public let kind: Kind
    public let path: String
    public let message: String

    public init(_ kind: Kind, path: String, message: String) {
        self.kind = kind
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }

    public var errno: Int32? {
        if case .system(let code) = kind { return code }
        return nil
    }
}
