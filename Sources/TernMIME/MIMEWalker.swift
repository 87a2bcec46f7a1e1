/// The class of a header block, as Postfix's mime_state(3) reports it to cleanup: the message's own headers,
/// the headers of a multipart body part (RFC 2046 §5.1), or those of an attached message (message/rfc822,
/// RFC 2046 §5.2.1). Content-* and MIME-Version headers count as `.mime` wherever they are (HDR_OPT_MIME).
public enum MIMEHeaderClass: Sendable, Equatable {
    case primary, mime, nested
}

/// A light, streaming walk over a message body that tells body lines from the header lines of MIME parts
/// and attached messages, following Content-Type boundaries (RFC 2046) the way Postfix's mime_state does
/// for header_checks, mime_header_checks, nested_header_checks and body_checks. It keeps only the stack of
/// open boundaries (at most `nestingLimit`, each at most `boundaryLimit` bytes) and the current block's
/// Content-Type, never the content.
public struct MIMEWalker: Sendable {
    /// mime_nesting_limit: deeper multipart or message nesting is treated as plain body.
    public static let nestingLimit = 100
    /// mime_boundary_length_limit: longer boundaries are cut, as Postfix does.
    public static let boundaryLimit = 2048

    /// What a body line is.
    public enum LineKind: Sendable, Equatable {
        /// A header line (or continuation line) of a part or attached message.
        case header(MIMEHeaderClass)
        /// The empty line that ends such a header block.
        case headerEnd
        /// Body text, boundary lines included.
        case body
    }

    private struct Boundary: Sendable {
        var bytes: [UInt8]
        var digest: Bool
    }

    private var boundaries: [Boundary] = []
    private var depth = 0
    /// The header block being read, and its class; nil in body text.
    private var headerBlock: MIMEHeaderClass?
    private var contentType = ContentType.textPlain
    private var encodingIsIdentity = true
    private var sawHeader = false

    public init() {}

    /// A complete logical header of the current block (the primary headers included): remembers its
    /// Content-Type and Content-Transfer-Encoding.
    public mutating func header(_ header: [UInt8]) {
        guard let name = HeaderField.name(of: header), let value = HeaderField.value(of: header) else { return }
        if HeaderField.namesMatch(name, "Content-Type") {
            contentType = ContentType(parsing: HeaderField.unfold(value)) ?? contentType
        } else if HeaderField.namesMatch(name, "Content-Transfer-Encoding") {
            let token = String(decoding: HeaderField.unfold(value), as: UTF8.self)
                .split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "(" }).first?.lowercased() ?? ""
            encodingIsIdentity = ["7bit", "8bit", "binary", ""].contains(token)
        }
    }

    /// The primary header section ended: the body starts according to its Content-Type.
    public mutating func primaryHeadersEnded() {
        startContent()
    }

    /// Classifies the next body line (without its line end) and advances. Header lines of parts are
    /// reported one physical line at a time; the caller joins continuation lines and passes each complete
    /// logical header to `header(_:)` before it classifies the next line that is not a continuation.
    public mutating func classify(_ line: [UInt8]) -> LineKind {
        if let block = headerBlock {
            if line.isEmpty {
                headerBlock = nil
                startContent()
                return .headerEnd
            }
            if HeaderField.isContinuation(line) ? sawHeader : HeaderField.name(of: line) != nil {
                sawHeader = true
                return .header(block)
            }
            // Not a header: the block ends without its empty line and this is body text.
            headerBlock = nil
            startContent()
        }
        if line.count >= 2, line[0] == UInt8(ascii: "-"), line[1] == UInt8(ascii: "-"), !boundaries.isEmpty {
            let rest = line[2...]
            for index in boundaries.indices.reversed() where rest.starts(with: boundaries[index].bytes) {
                let after = rest.dropFirst(boundaries[index].bytes.count)
                let digest = boundaries[index].digest
                depth = min(depth, index)  // attached messages inside the parts that ended here are over too
                if after.starts(with: [UInt8(ascii: "-"), UInt8(ascii: "-")]) {
                    boundaries.removeSubrange(index...)
                } else {
                    boundaries.removeSubrange((index + 1)...)
                    startHeaders(.mime, defaultType: digest ? .messageRFC822 : .textPlain)
                }
                return .body
            }
        }
        return .body
    }

    private mutating func startHeaders(_ block: MIMEHeaderClass, defaultType: ContentType) {
        headerBlock = block
        sawHeader = false
        contentType = defaultType
        encodingIsIdentity = true
    }

    /// After a header block: a multipart body opens a boundary, an attached message starts nested headers.
    private mutating func startContent() {
        guard encodingIsIdentity, boundaries.count + depth < Self.nestingLimit else { return }
        if contentType.type == "multipart", let boundary = contentType.boundary, !boundary.isEmpty {
            boundaries.append(Boundary(bytes: Array(boundary.prefix(Self.boundaryLimit)), digest: contentType.subtype == "digest"))
        } else if contentType.type == "message" && (contentType.subtype == "rfc822" || contentType.subtype == "global") {
            depth += 1
            startHeaders(.nested, defaultType: .textPlain)
        }
    }
}

/// The parts of a Content-Type value (RFC 2045 §5.1) the walk needs: type, subtype (lower case), boundary.
struct ContentType: Sendable, Equatable {
    var type: String
    var subtype: String
    var boundary: [UInt8]?

    static let textPlain = ContentType(type: "text", subtype: "plain", boundary: nil)
    static let messageRFC822 = ContentType(type: "message", subtype: "rfc822", boundary: nil)

    init(type: String, subtype: String, boundary: [UInt8]?) {
        self.type = type
        self.subtype = subtype
        self.boundary = boundary
    }

    /// Parses `type/subtype *(; name=value)`, skipping comments; nil when there is no type/subtype.
    init?(parsing value: [UInt8]) {
        var tokens = ContentTypeTokens(value)
        guard let type = tokens.token(), tokens.take(UInt8(ascii: "/")), let subtype = tokens.token() else { return nil }
        self.type = type.lowercased()
        self.subtype = subtype.lowercased()
        boundary = nil
        while tokens.take(UInt8(ascii: ";")) {
            guard let name = tokens.token(), tokens.take(UInt8(ascii: "=")) else { continue }
            let parameter = tokens.quotedString() ?? tokens.token().map { Array($0.utf8) }
            if name.lowercased() == "boundary", boundary == nil { boundary = parameter }
        }
    }
}

/// RFC 2045 tokens, quoted strings and specials, with CFWS skipped.
private struct ContentTypeTokens {
    let bytes: [UInt8]
    var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    private static let specials = Set("()<>@,;:\\\"/[]?=".utf8)

    mutating func skipSpace() {
        var comment = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "(") {
                comment += 1
            } else if byte == UInt8(ascii: ")") && comment > 0 {
                comment -= 1
            } else if byte == UInt8(ascii: "\\") && comment > 0 {
                index += 1
            } else if comment == 0 && byte != 0x20 && byte != 0x09 && byte != 0x0D && byte != 0x0A {
                return
            }
            index += 1
        }
    }

    mutating func take(_ byte: UInt8) -> Bool {
        skipSpace()
        guard index < bytes.count, bytes[index] == byte else {
            // Skip junk up to the next parameter separator so that one bad parameter does not end the walk.
            if byte == UInt8(ascii: ";") {
                while index < bytes.count, bytes[index] != byte { index += 1 }
                guard index < bytes.count else { return false }
                index += 1
                return true
            }
            return false
        }
        index += 1
        return true
    }

    mutating func token() -> String? {
        skipSpace()
        let start = index
        while index < bytes.count, bytes[index] > 0x20, bytes[index] < 0x7F, !Self.specials.contains(bytes[index]) {
            index += 1
        }
        return index > start ? String(decoding: bytes[start..<index], as: UTF8.self) : nil
    }

    mutating func quotedString() -> [UInt8]? {
        skipSpace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
        index += 1
        var out: [UInt8] = []
        while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
            if bytes[index] == UInt8(ascii: "\\"), index + 1 < bytes.count { index += 1 }
            out.append(bytes[index])
            index += 1
        }
        index += 1
        return out
    }
}
