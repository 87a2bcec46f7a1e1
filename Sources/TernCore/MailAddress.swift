/// An envelope address as used by Postfix internally: the unquoted, unbracketed form
/// (`user@example.com`, `""` for the null sender). Domains compare case-insensitively.
public struct MailAddress: Hashable, Sendable, CustomStringConvertible {
    public let text: String

    public init(_ text: String) { self.text = text }

    public static let null = MailAddress("")

    public var isNull: Bool { text.isEmpty }

    /// The part before the last `@` (the whole address when there is none).
    public var localPart: String {
        guard let at = text.lastIndex(of: "@") else { return text }
        return String(text[..<at])
    }

    /// The lower-cased domain after the last `@`, or nil for a bare local part.
    public var domain: String? {
        guard let at = text.lastIndex(of: "@") else { return nil }
        return String(text[text.index(after: at)...]).lowercased()
    }

    /// Splits `user+ext` at the first occurrence of any delimiter character (recipient_delimiter).
    public func splitExtension(delimiters: String) -> (user: String, ext: String?) {
        let local = localPart
        guard !delimiters.isEmpty, let i = local.firstIndex(where: { delimiters.contains($0) }),
            i != local.startIndex
        else { return (local, nil) }
        return (String(local[..<i]), String(local[local.index(after: i)...]))
    }

    public var description: String { text }
}
