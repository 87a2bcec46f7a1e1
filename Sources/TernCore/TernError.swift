/// An error that names where in a configuration or data file it happened, as Postfix does:
/// `/etc/postfix/main.cf, line 12: missing '=' after attribute name: "this line is broken"`.
public struct FileError: Error, CustomStringConvertible, Sendable, Equatable {
    public let file: String
    public let line: Int?
    public let message: String

    public init(file: String, line: Int? = nil, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String {
        if let line { return "\(file), line \(line): \(message)" }
        return "\(file): \(message)"
    }
}
