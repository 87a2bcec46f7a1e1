/// One item of a `* n FETCH (...)` response (RFC 3501 §7.4.2) whose data is at hand. Body data the session
/// streams goes through `FetchResponseWriter.beginStreamedItem` instead.
public enum FetchResponseItem: Sendable, Hashable {
    case flags([Flag])
    case uid(UInt32)
    case internalDate(IMAPDateTime)
    case rfc822Size(Int)
    case envelope(Envelope)
    case body(BodyStructure)
    case bodyStructure(BodyStructure)
    /// `BODY[section]<origin> data`; nil data is NIL.
    case bodySection(BodySection, origin: UInt64?, data: [UInt8]?)
    case rfc822([UInt8]?)
    case rfc822Header([UInt8]?)
    case rfc822Text([UInt8]?)
    /// `literal8`: sent as `~{n}` (RFC 3516 §4.1); Dovecot does so for decoded data and data with NUL.
    case binary(BodySection, origin: UInt64?, data: [UInt8]?, literal8: Bool = false)
    case binarySize(BodySection, size: Int)
    /// RFC 7162 §3.1.4.1 `MODSEQ (n)`.
    case modSeq(UInt64)
    /// RFC 8514 `SAVEDATE "date-time"`, NIL where the mailbox keeps none.
    case saveDate(IMAPDateTime?)
    /// RFC 8970 `PREVIEW text` (nil: NIL), `PREVIEW (FUZZY text)` when `fuzzy`, Dovecot's `SNIPPET (FUZZY text)`.
    case preview(snippet: Bool, fuzzy: Bool, text: [UInt8]?)
    /// RFC 8474 `EMAILID (id)` and `THREADID (id)` (NIL: no thread identifier).
    case emailID(String)
    case threadID(String?)
}

/// The name of streamed body data: what precedes ` {n}` in the response.
public enum FetchDataName: Sendable, Hashable {
    case bodySection(BodySection, origin: UInt64?)
    case rfc822
    case rfc822Header
    case rfc822Text
    case binary(BodySection, origin: UInt64?)

    public var text: String {
        switch self {
        case .bodySection(let section, let origin):
            return "BODY[\(section.text)]" + (origin.map { "<\($0)>" } ?? "")
        case .rfc822: return "RFC822"
        case .rfc822Header: return "RFC822.HEADER"
        case .rfc822Text: return "RFC822.TEXT"
        case .binary(let section, let origin):
            return "BINARY[\(section.text)]" + (origin.map { "<\($0)>" } ?? "")
        }
    }
}

/// Writes one FETCH response piece by piece so that body data need not be held in memory:
///
///     var w = FetchResponseWriter(sequence: 3)      // "* 3 FETCH ("
///     w.item(.flags([.seen]))
///     w.beginStreamedItem(.bodySection(BodySection(), origin: nil), byteCount: size)
///     send(w.take()); send(<size bytes of the message>)
///     w.end(); send(w.take())                         // ")\r\n"
public struct FetchResponseWriter: Sendable {
    private var writer = IMAPWriter()
    private var first = true

    /// `quotesUTF8`: UTF8=ACCEPT is enabled; ENVELOPE and BODYSTRUCTURE strings in UTF-8 are quoted (RFC 6855 §3).
    /// `uid`: a UIDFETCH response (RFC 9586 §3.3), `sequence` being the UID.
    public init(sequence: UInt32, quotesUTF8: Bool = false, uid: Bool = false) {
        writer.quotesUTF8 = quotesUTF8
        writer.raw(uid ? "* \(sequence) UIDFETCH (" : "* \(sequence) FETCH (")
    }

    public mutating func take() -> [UInt8] { writer.take() }

    private mutating func separate() {
        if !first { writer.space() }
        first = false
    }

    public mutating func item(_ item: FetchResponseItem) {
        separate()
        switch item {
        case .flags(let flags):
            writer.raw("FLAGS ")
            writer.flags(flags)
        case .uid(let uid): writer.raw("UID \(uid)")
        case .internalDate(let date):
            writer.raw("INTERNALDATE ")
            writer.string(date.text)
        case .saveDate(let date):
            writer.raw("SAVEDATE ")
            writer.nstring(date?.text)
        case .rfc822Size(let size): writer.raw("RFC822.SIZE \(size)")
        case .envelope(let envelope):
            writer.raw("ENVELOPE ")
            envelope.encode(into: &writer)
        case .body(let body):
            writer.raw("BODY ")
            body.encode(into: &writer, extensible: false)
        case .bodyStructure(let body):
            writer.raw("BODYSTRUCTURE ")
            body.encode(into: &writer, extensible: true)
        case .bodySection(let section, let origin, let data):
            self.data(.bodySection(section, origin: origin), data)
        case .rfc822(let data): self.data(.rfc822, data)
        case .rfc822Header(let data): self.data(.rfc822Header, data)
        case .rfc822Text(let data): self.data(.rfc822Text, data)
        case .binary(let section, let origin, let data, let literal8):
            if literal8, let data {
                writer.raw(FetchDataName.binary(section, origin: origin).text + " ")
                writer.literal8(data)
            } else {
                self.data(.binary(section, origin: origin), data)
            }
        case .binarySize(let section, let size):
            writer.raw("BINARY.SIZE[\(section.text)] \(size)")
        case .modSeq(let modSeq): writer.raw("MODSEQ (\(modSeq))")
        case .emailID(let id): writer.raw("EMAILID (\(id))")
        case .threadID(let id): writer.raw(id.map { "THREADID (\($0))" } ?? "THREADID NIL")
        case .preview(let snippet, let fuzzy, let text):
            writer.raw(snippet ? "SNIPPET " : "PREVIEW ")
            if fuzzy { writer.raw("(FUZZY ") }
            if let text {
                // Dovecot's imap_append_string: quoted unless there is CR, LF, NUL or an 8-bit byte.
                if text.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 || $0 >= 0x80 }) {
                    writer.literal(text)
                } else {
                    writer.raw("\"")
                    for byte in text {
                        if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { writer.raw("\\") }
                        writer.raw(CollectionOfOne(byte))
                    }
                    writer.raw("\"")
                }
            } else {
                writer.nilValue()
            }
            if fuzzy { writer.raw(")") }
        }
    }

    /// Body data are always literals, as Dovecot sends them (even when short and printable).
    private mutating func data(_ name: FetchDataName, _ data: [UInt8]?) {
        writer.raw(name.text + " ")
        if let data { writer.literal(data) } else { writer.nilValue() }
    }

    /// Writes `NAME {byteCount}CRLF`; the caller sends exactly `byteCount` bytes after `take()`.
    public mutating func beginStreamedItem(_ name: FetchDataName, byteCount: Int) {
        separate()
        writer.raw(name.text + " ")
        writer.literalHeader(byteCount)
    }

    /// `)CRLF`.
    public mutating func end() {
        writer.raw(")")
        writer.crlf()
    }
}
