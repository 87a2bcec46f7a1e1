import TernMIME

/// The content checks inside cleanup: the primary headers go through `primaryHeader`, the body through
/// `body`, which follows the MIME structure (`MIMEWalker`) so that part headers meet mime_header_checks,
/// attached message headers nested_header_checks and everything else body_checks. A part header is held
/// until it is complete (at most header_size_limit bytes); nothing else is kept.
struct ContentFilter: Sendable {
    var inspector: ContentInspector
    private var walker = MIMEWalker()
    private let headerSizeLimit: Int
    /// The part or attached-message header being assembled, and its block's class.
    private var pending: [UInt8]?
    private var pendingClass = MIMEHeaderClass.mime

    init(inspector: ContentInspector, headerSizeLimit: Int) {
        self.inspector = inspector
        self.headerSizeLimit = headerSizeLimit
    }

    /// Checks a primary header; the edit says what to write instead.
    mutating func primaryHeader(_ header: [UInt8]) -> ContentInspector.Edit {
        walker.header(header)
        return inspector.checkHeader(header, class: Self.isMIMEHeader(header) ? .mime : .primary)
    }

    mutating func headersEnded() {
        walker.primaryHeadersEnded()
    }

    /// One body line, or a piece of an overlong one (`lineStart` false for the pieces after the first,
    /// `lineEnds` false for all but the last), written to `output` as the checks decide.
    mutating func body(_ piece: [UInt8], lineStart: Bool, lineEnds: Bool, into output: inout [UInt8]) {
        guard lineStart else {
            if pending != nil { appendToPending(piece) } else { emitBody(piece, lineEnds: lineEnds, into: &output) }
            return
        }
        if pending != nil && !HeaderField.isContinuation(piece) { flushPending(into: &output) }
        switch walker.classify(piece) {
        case .header(let block):
            if pending != nil {
                appendToPending([UInt8(ascii: "\n")] + piece)
            } else {
                pending = []
                pendingClass = block
                appendToPending(piece)
            }
        case .headerEnd:
            output.append(UInt8(ascii: "\n"))
        case .body:
            emitBody(piece, lineEnds: lineEnds, into: &output)
        }
    }

    /// The end of the message: a part header still being assembled is written.
    mutating func finish(into output: inout [UInt8]) {
        flushPending(into: &output)
    }

    private mutating func appendToPending(_ bytes: [UInt8]) {
        let room = max(0, headerSizeLimit - pending!.count)
        pending! += bytes.prefix(room)
    }

    private mutating func flushPending(into output: inout [UInt8]) {
        guard let header = pending else { return }
        pending = nil
        walker.header(header)
        let headerClass: ContentHeaderClass = pendingClass == .nested && !Self.isMIMEHeader(header) ? .nested : .mime
        let edit = inspector.checkHeader(header, class: headerClass)
        for line in edit.before + (edit.line.map { [$0] } ?? []) {
            output += line
            output.append(UInt8(ascii: "\n"))
        }
    }

    private mutating func emitBody(_ line: [UInt8], lineEnds: Bool, into output: inout [UInt8]) {
        let edit = inspector.checkBody(line, length: line.count + (lineEnds ? 1 : 0))
        for before in edit.before {
            output += before
            output.append(UInt8(ascii: "\n"))
        }
        guard let kept = edit.line else { return }
        output += kept
        if lineEnds { output.append(UInt8(ascii: "\n")) }
    }

    /// Postfix's HDR_OPT_MIME headers: checked with mime_header_checks wherever they appear.
    static func isMIMEHeader(_ header: [UInt8]) -> Bool {
        guard let name = HeaderField.name(of: header)?.lowercased() else { return false }
        return mimeHeaderNames.contains(name)
    }

    private static let mimeHeaderNames: Set<String> = [
        "content-description", "content-disposition", "content-id", "content-transfer-encoding", "content-type",
        "mime-version",
    ]
}
