/// ENVELOPE and BODYSTRUCTURE of a message, with the sizes the index caches.
public struct MessageStructure: Sendable, Hashable {
    public var envelope: Envelope
    public var body: BodyStructure
    /// Octets of the top-level header, blank line included (RFC822.HEADER's size).
    public var headerSize: Int
    /// Octets of the whole message (RFC822.SIZE when stored with CRLF line ends).
    public var size: Int
}

/// Builds `MessageStructure` from a message read in pieces (RFC 2045/2046 structure; sizes and line counts
/// as RFC 3501 §7.4.2 and Dovecot count them: a part's body ends before the line end preceding the next
/// boundary). Memory stays bounded: only headers (up to `maxHeaderSize` each) and the start of each body
/// line are kept.
public struct MessageStructureParser: Sendable {
    struct PartInfo: Sendable {
        var type = "text"
        var subtype = "plain"
        var parameters: [BodyParameter] = []
        var id: [UInt8]?
        var description: [UInt8]?
        var encoding = "7bit"
        var md5: [UInt8]?
        var ext = BodyExtension()
        var envelope = Envelope()
    }

    struct Node: Sendable {
        var parent: Int?
        var header: [UInt8] = []
        var headerStart: Int
        var bodyStart: Int?
        var lfAtBodyStart = 0
        var end: Int?
        var lfAtEnd = 0
        var children: [Int] = []
        var info = PartInfo()
        var boundary: [UInt8]?
        var epilogue = false
        var depth: Int
        /// Inside multipart/digest the default type is message/rfc822 (RFC 2046 §5.1.5).
        var digestChild: Bool
    }

    public let maxHeaderSize: Int
    public let maxDepth: Int
    private var nodes: [Node]
    private var current = 0
    private var inHeader = true
    private var offset = 0
    private var lineFeeds = 0
    private var line: [UInt8] = []
    private var lineStart = 0
    private var lineFeedsAtLineStart = 0
    private var lineLength = 0
    private var previousEnding = 0
    private var previousByte: UInt8 = 0
    /// Body lines are only looked at for boundaries: the first bytes suffice (RFC 2046 §5.1.1: 70 + 4).
    private static let bodyLinePrefix = 200

    public init(maxHeaderSize: Int = 65536, maxDepth: Int = 25) {
        self.maxHeaderSize = maxHeaderSize
        self.maxDepth = maxDepth
        nodes = [Node(parent: nil, headerStart: 0, depth: 0, digestChild: false)]
    }

    public mutating func append<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        for b in bytes {
            offset += 1
            lineLength += 1
            defer { previousByte = b }
            if b == 0x0A {
                lineFeeds += 1
                let ending = previousByte == 0x0D ? 2 : 1
                if ending == 2, line.count == lineLength - 1 { line.removeLast() }
                handleLine(ending: ending)
                line.removeAll(keepingCapacity: true)
                lineStart = offset
                lineFeedsAtLineStart = lineFeeds
                lineLength = 0
                previousEnding = ending
            } else if line.count < (inHeader ? maxHeaderSize : Self.bodyLinePrefix) {
                line.append(b)
            }
        }
    }

    public mutating func finish() -> MessageStructure {
        if lineLength > 0 { handleLine(ending: 0) }
        for index in nodes.indices where nodes[index].end == nil {
            close(index, at: offset, lineFeeds: lineFeeds)
        }
        let top = nodes[0]
        return MessageStructure(
            envelope: top.info.envelope, body: structure(0),
            headerSize: (top.bodyStart ?? offset) - top.headerStart,
            size: offset)
    }

    // MARK: lines

    private mutating func handleLine(ending: Int) {
        if line.count >= 2, line[0] == UInt8(ascii: "-"), line[1] == UInt8(ascii: "-"), boundaryLine() {
            return
        }
        guard inHeader else { return }
        if lineLength == ending {
            endHeader(bodyStart: offset, lineFeeds: lineFeeds)
            return
        }
        if nodes[current].header.count + line.count < maxHeaderSize {
            nodes[current].header += line
            nodes[current].header.append(0x0A)
        }
    }

    /// Whether the line is a boundary of an enclosing multipart, acting on it if so.
    private mutating func boundaryLine() -> Bool {
        var index: Int? = current
        while let candidate = index {
            let node = nodes[candidate]
            if let boundary = node.boundary, !node.epilogue, node.bodyStart != nil,
                let isClose = Self.matches(line, boundary)
            {
                // The line end before the boundary belongs to it (RFC 2046 §5.1.1).
                let hasPreamble = lineStart > (node.bodyStart ?? lineStart)
                let end = lineStart - (hasPreamble ? previousEnding : 0)
                let feeds = lineFeedsAtLineStart - (hasPreamble && previousEnding > 0 ? 1 : 0)
                var closing: Int? = current
                while let c = closing, c != candidate {
                    close(c, at: end, lineFeeds: feeds)
                    closing = nodes[c].parent
                }
                if isClose {
                    nodes[candidate].epilogue = true
                    current = candidate
                    inHeader = false
                } else {
                    let child = Node(
                        parent: candidate, headerStart: offset, depth: node.depth + 1,
                        digestChild: node.info.subtype.lowercased() == "digest")
                    nodes.append(child)
                    nodes[candidate].children.append(nodes.count - 1)
                    current = nodes.count - 1
                    inHeader = true
                }
                return true
            }
            index = node.parent
        }
        return false
    }

    /// nil: not this boundary; false: `--b`; true: `--b--` (trailing whitespace allowed).
    static func matches(_ line: [UInt8], _ boundary: [UInt8]) -> Bool? {
        guard line.count >= boundary.count + 2, line[2..<(2 + boundary.count)].elementsEqual(boundary)
        else { return nil }
        var rest = line[(2 + boundary.count)...]
        var isClose = false
        if rest.starts(with: [UInt8(ascii: "-"), UInt8(ascii: "-")]) {
            isClose = true
            rest = rest.dropFirst(2)
        }
        guard rest.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) else { return nil }
        return isClose
    }

    private mutating func close(_ index: Int, at end: Int, lineFeeds feeds: Int) {
        guard nodes[index].end == nil else { return }
        if nodes[index].bodyStart == nil {
            let saved = current
            current = index
            endHeader(bodyStart: end, lineFeeds: feeds, descend: false)
            current = saved
        }
        nodes[index].end = max(end, nodes[index].bodyStart ?? end)
        nodes[index].lfAtEnd = max(feeds, nodes[index].lfAtBodyStart)
    }

    private mutating func endHeader(bodyStart: Int, lineFeeds feeds: Int, descend: Bool = true) {
        let index = current
        nodes[index].bodyStart = bodyStart
        nodes[index].lfAtBodyStart = feeds
        nodes[index].info = Self.partInfo(nodes[index].header, digestChild: nodes[index].digestChild)
        nodes[index].header = []
        inHeader = false
        let info = nodes[index].info
        guard descend, nodes[index].depth < maxDepth else { return }
        if info.type.lowercased() == "multipart" {
            if let boundary = info.parameters.first(where: { $0.name.lowercased() == "boundary" })?.value,
                !boundary.isEmpty
            {
                nodes[index].boundary = boundary
            }
        } else if info.type.lowercased() == "message", info.subtype.lowercased() == "rfc822" {
            nodes.append(
                Node(
                    parent: index, headerStart: bodyStart, depth: nodes[index].depth + 1, digestChild: false))
            nodes[index].children.append(nodes.count - 1)
            current = nodes.count - 1
            inHeader = true
        }
    }

    // MARK: building the result

    private func structure(_ index: Int) -> BodyStructure {
        let node = nodes[index]
        let info = node.info
        let size = (node.end ?? offset) - (node.bodyStart ?? offset)
        let lines = node.lfAtEnd - node.lfAtBodyStart
        if info.type.lowercased() == "multipart" {
            var parts = node.children.map(structure)
            if parts.isEmpty {
                parts = [
                    .single(
                        .init(
                            type: "text", subtype: "plain", parameters: [BodyParameter("charset", "us-ascii")],
                            size: 0, kind: .text(lines: 0)))
                ]
            }
            return .multipart(
                .init(parts: parts, subtype: info.subtype, parameters: info.parameters, ext: info.ext))
        }
        var kind = BodyStructure.SinglePart.Kind.basic
        if info.type.lowercased() == "text" {
            kind = .text(lines: lines)
        } else if info.type.lowercased() == "message", info.subtype.lowercased() == "rfc822",
            let child = node.children.first
        {
            kind = .message(nodes[child].info.envelope, structure(child), lines: lines)
        }
        return .single(
            .init(
                type: info.type, subtype: info.subtype, parameters: info.parameters, id: info.id,
                description: info.description,
                encoding: info.encoding, size: size, kind: kind, md5: info.md5, ext: info.ext))
    }

    static func partInfo(_ header: [UInt8], digestChild: Bool) -> PartInfo {
        var info = PartInfo()
        if digestChild {
            info.type = "message"
            info.subtype = "rfc822"
        }
        for (name, value) in fields(header) {
            switch name.lowercased() {
            case "content-type":
                if let (type, subtype, parameters) = MIMEHeaderValues.contentType(value) {
                    (info.type, info.subtype, info.parameters) = (type, subtype, parameters)
                }
            case "content-transfer-encoding":
                let encoding = String(decoding: MIMEHeaderValues.trimmed(value), as: UTF8.self)
                if !encoding.isEmpty { info.encoding = encoding }
            case "content-id": info.id = MIMEHeaderValues.trimmed(value)
            case "content-description": info.description = MIMEHeaderValues.trimmedEnds(value)
            case "content-md5": info.md5 = MIMEHeaderValues.trimmed(value)
            case "content-location": info.ext.location = MIMEHeaderValues.trimmed(value)
            case "content-language":
                info.ext.language = String(decoding: value, as: UTF8.self).split(whereSeparator: {
                    $0 == "," || $0 == " " || $0 == "\t"
                })
                .map(String.init)
            case "content-disposition":
                if let (kind, _, parameters) = MIMEHeaderValues.contentType(value, hasSubtype: false) {
                    info.ext.disposition = BodyDisposition(kind: kind, parameters: parameters)
                }
            case "date": info.envelope.date = info.envelope.date ?? MIMEHeaderValues.trimmedEnds(value)
            case "subject":
                info.envelope.subject = info.envelope.subject ?? MIMEHeaderValues.trimmedEnds(value)
            case "from": info.envelope.from = MIMEHeaderValues.addresses(value)
            case "sender": info.envelope.sender = MIMEHeaderValues.addresses(value)
            case "reply-to": info.envelope.replyTo = MIMEHeaderValues.addresses(value)
            case "to": info.envelope.to = MIMEHeaderValues.addresses(value)
            case "cc": info.envelope.cc = MIMEHeaderValues.addresses(value)
            case "bcc": info.envelope.bcc = MIMEHeaderValues.addresses(value)
            case "in-reply-to":
                info.envelope.inReplyTo = info.envelope.inReplyTo ?? MIMEHeaderValues.trimmedEnds(value)
            case "message-id":
                info.envelope.messageID = info.envelope.messageID ?? MIMEHeaderValues.trimmedEnds(value)
            default: break
            }
        }
        // RFC 3501 §7.4.2: Sender and Reply-To default to From.
        if info.envelope.sender.isEmpty { info.envelope.sender = info.envelope.from }
        if info.envelope.replyTo.isEmpty { info.envelope.replyTo = info.envelope.from }
        // Dovecot names the default charset of every text part that does not give one, first.
        if !info.parameters.contains(where: { $0.name.lowercased() == "charset" }),
            info.type.lowercased() == "text"
        {
            info.parameters.insert(BodyParameter("charset", "us-ascii"), at: 0)
        }
        return info
    }

    /// Logical header fields (name, unfolded value) of a header stored one line per LF.
    static func fields(_ header: [UInt8]) -> [(String, [UInt8])] {
        var out: [(String, [UInt8])] = []
        for rawLine in header.split(separator: 0x0A, omittingEmptySubsequences: true) {
            if let first = rawLine.first, first == 0x20 || first == 0x09, !out.isEmpty {
                out[out.count - 1].1 += rawLine
                continue
            }
            guard let colon = rawLine.firstIndex(of: UInt8(ascii: ":")) else { continue }
            let name = String(decoding: MIMEHeaderValues.trimmed(Array(rawLine[..<colon])), as: UTF8.self)
            out.append((name, Array(rawLine[(colon + 1)...])))
        }
        return out
    }
}
