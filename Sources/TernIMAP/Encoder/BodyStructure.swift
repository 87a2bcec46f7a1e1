/// `body-fld-param` entries: attribute/value pairs in header order.
public struct BodyParameter: Sendable, Hashable {
    public var name: String
    public var value: [UInt8]

    public init(_ name: String, _ value: [UInt8]) {
        self.name = name
        self.value = value
    }

    public init(_ name: String, _ value: String) { self.init(name, Array(value.utf8)) }
}

/// `body-fld-dsp`: `("attachment" ("filename" "a.bin"))`.
public struct BodyDisposition: Sendable, Hashable {
    public var kind: String
    public var parameters: [BodyParameter]

    public init(kind: String, parameters: [BodyParameter] = []) {
        self.kind = kind
        self.parameters = parameters
    }
}

/// The extension data shared by single and multipart bodies (RFC 3501 §7.4.2 `body-ext-1part`/`body-ext-mpart`).
public struct BodyExtension: Sendable, Hashable {
    public var disposition: BodyDisposition?
    public var language: [String]?
    public var location: [UInt8]?

    public init(
        disposition: BodyDisposition? = nil, language: [String]? = nil, location: [UInt8]? = nil
    ) {
        self.disposition = disposition
        self.language = language
        self.location = location
    }
}

/// BODY / BODYSTRUCTURE (RFC 3501 §7.4.2), serialised as Dovecot does: strings quoted, no space between the
/// parts of a multipart, extension data only for BODYSTRUCTURE.
public indirect enum BodyStructure: Sendable, Hashable {
    case single(SinglePart)
    case multipart(Multipart)

    public struct SinglePart: Sendable, Hashable {
        public enum Kind: Sendable, Hashable {
            case basic
            /// text/*: the body's line count.
            case text(lines: Int)
            /// message/rfc822: the inner message's envelope and structure, and the line count.
            case message(Envelope, BodyStructure, lines: Int)
        }

        public var type: String
        public var subtype: String
        public var parameters: [BodyParameter]
        public var id: [UInt8]?
        public var description: [UInt8]?
        public var encoding: String
        public var size: Int
        public var kind: Kind
        public var md5: [UInt8]?
        public var ext: BodyExtension

        public init(
            type: String, subtype: String, parameters: [BodyParameter] = [], id: [UInt8]? = nil,
            description: [UInt8]? = nil, encoding: String = "7bit", size: Int, kind: Kind,
            md5: [UInt8]? = nil,
            ext: BodyExtension = BodyExtension()
        ) {
            self.type = type
            self.subtype = subtype
            self.parameters = parameters
            self.id = id
            self.description = description
            self.encoding = encoding
            self.size = size
            self.kind = kind
            self.md5 = md5
            self.ext = ext
        }
    }

    public struct Multipart: Sendable, Hashable {
        public var parts: [BodyStructure]
        public var subtype: String
        public var parameters: [BodyParameter]
        public var ext: BodyExtension

        public init(
            parts: [BodyStructure], subtype: String, parameters: [BodyParameter] = [],
            ext: BodyExtension = BodyExtension()
        ) {
            self.parts = parts
            self.subtype = subtype
            self.parameters = parameters
            self.ext = ext
        }
    }

    /// Writes BODYSTRUCTURE (`extensible`) or BODY.
    public func encode(into w: inout IMAPWriter, extensible: Bool) {
        switch self {
        case .single(let part): part.encode(into: &w, extensible: extensible)
        case .multipart(let multi): multi.encode(into: &w, extensible: extensible)
        }
    }
}

extension BodyStructure.SinglePart {
    func encode(into w: inout IMAPWriter, extensible: Bool) {
        w.raw("(")
        w.string(type)
        w.space()
        w.string(subtype)
        w.space()
        BodyStructure.parameters(parameters, into: &w)
        w.space()
        w.nstring(id)
        w.space()
        w.nstring(description)
        w.space()
        w.string(encoding)
        w.raw(" \(size)")
        switch kind {
        case .basic: break
        case .text(let lines): w.raw(" \(lines)")
        case .message(let envelope, let body, let lines):
            w.space()
            envelope.encode(into: &w)
            w.space()
            body.encode(into: &w, extensible: extensible)
            w.raw(" \(lines)")
        }
        if extensible {
            w.space()
            w.nstring(md5)
            ext.encode(into: &w)
        }
        w.raw(")")
    }
}

extension BodyStructure.Multipart {
    func encode(into w: inout IMAPWriter, extensible: Bool) {
        w.raw("(")
        for part in parts { part.encode(into: &w, extensible: extensible) }
        w.space()
        w.string(subtype)
        if extensible {
            w.space()
            BodyStructure.parameters(parameters, into: &w)
            ext.encode(into: &w)
        }
        w.raw(")")
    }
}

extension BodyExtension {
    /// ` disposition language location`.
    func encode(into w: inout IMAPWriter) {
        w.space()
        if let disposition {
            w.raw("(")
            w.string(disposition.kind)
            w.space()
            BodyStructure.parameters(disposition.parameters, into: &w)
            w.raw(")")
        } else {
            w.nilValue()
        }
        w.space()
        if let language, !language.isEmpty {
            w.list(language) { $0.string($1) }
        } else {
            w.nilValue()
        }
        w.space()
        w.nstring(location)
    }
}

extension BodyStructure {
    static func parameters(_ parameters: [BodyParameter], into w: inout IMAPWriter) {
        guard !parameters.isEmpty else {
            w.nilValue()
            return
        }
        w.pairs(parameters.map { ($0.name, $0.value) })
    }
}
