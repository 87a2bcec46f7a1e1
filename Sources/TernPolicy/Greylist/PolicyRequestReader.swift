/// Collects the lines of Postfix policy delegation requests (SMTPD_POLICY_README: `name=value` lines, an
/// empty line ends the request) the way postgrey reads them: the name runs up to the first `=` (leading `=`
/// skipped), names and values are cut at 512 characters, later duplicates win, other lines are garbage.
/// Line framing (and its length limit) is the caller's.
public struct PolicyRequestReader: Sendable {
    /// postgrey truncates names and values to 512 characters.
    public static let fieldLimit = 512
    /// Postfix 3.7 sends about 35 attributes; far more than that is not a policy client.
    public static let attributeLimit = 256

    public enum Event: Sendable, Equatable {
        /// An attribute line was taken; nothing to do yet.
        case pending
        /// A line without `=`: postgrey logs `ignoring garbage: <first 100 characters>`.
        case garbage(String)
        /// The empty line: a complete request.
        case request([String: String])
        /// More distinct attributes than `attributeLimit`: the caller drops the connection.
        case tooManyAttributes
    }

    private var attributes: [String: String] = [:]

    public init() {}

    public mutating func take(line: Substring) -> Event {
        if line.isEmpty {
            defer { attributes = [:] }
            return .request(attributes)
        }
        let body = line.drop { $0 == "=" }
        guard let equals = body.firstIndex(of: "="), equals != body.startIndex else {
            return .garbage(String(line.prefix(100)))
        }
        let name = String(body[..<equals].prefix(Self.fieldLimit))
        let value = String(body[body.index(after: equals)...].prefix(Self.fieldLimit))
        if attributes[name] == nil && attributes.count >= Self.attributeLimit { return .tooManyAttributes }
        attributes[name] = value
        return .pending
    }
}
