/// Bounds on what one command may make the parser hold. Every limit keeps memory and recursion bounded
/// whatever a client sends.
public struct IMAPParserLimits: Sendable, Hashable {
    /// Text of one command, literals excluded: Dovecot's imap_max_line_length (64k). Longer commands are
    /// answered `BAD Error in IMAP command X: Too long argument` and skipped to the end of the line.
    public var maxLineLength: Int
    /// All literals of one non-APPEND command together. A literal announced beyond it ends the connection
    /// (`* BYE Literal size too large`, as Dovecot does): the client would send it anyway.
    public var maxLiteralSize: Int
    /// Parentheses inside parentheses (SEARCH keys, FETCH lists): the parser recurses on them, and a
    /// session may run on a small task stack.
    public var maxNestingDepth: Int
    /// Arguments of one command: a long SEARCH or ID list costs a node each.
    public var maxArguments: Int
    /// The largest piece of an APPEND message handed out at once (`Event.appendBytes`).
    public var appendChunkSize: Int
    /// LITERAL- (RFC 7888 §4, imap_literal_minus = yes): a non-synchronizing literal above this many octets
    /// ends the connection, as Dovecot's does. nil: LITERAL+, any size the other limits allow.
    public var maxNonSynchronizingLiteralSize: Int?

    /// RFC 7888 §4: LITERAL- allows non-synchronizing literals of up to 4096 octets.
    public static let literalMinusMaximum = 4096

    public init(
        maxLineLength: Int = 65536, maxLiteralSize: Int = 65536, maxNestingDepth: Int = 100,
        maxArguments: Int = 10000, appendChunkSize: Int = 65536, maxNonSynchronizingLiteralSize: Int? = nil
    ) {
        self.maxNonSynchronizingLiteralSize = maxNonSynchronizingLiteralSize
        self.maxLineLength = max(maxLineLength, 64)
        self.maxLiteralSize = max(maxLiteralSize, 0)
        self.maxNestingDepth = max(maxNestingDepth, 1)
        self.maxArguments = max(maxArguments, 8)
        self.appendChunkSize = max(appendChunkSize, 1)
    }
}
