import Testing
@testable import TernMIME

/// The MIME walk that feeds mime_header_checks, nested_header_checks and body_checks.
@Suite struct MIMEWalkerTests {
    /// Classifies each body line after the given primary headers, passing complete headers back as the
    /// content filter does.
    func walk(headers: [String], body: String) -> [MIMEWalker.LineKind] {
        var walker = MIMEWalker()
        for header in headers { walker.header(Array(header.utf8)) }
        walker.primaryHeadersEnded()
        var kinds: [MIMEWalker.LineKind] = []
        var pending: [UInt8]?
        for line in body.split(separator: "\n", omittingEmptySubsequences: false).map({ Array($0.utf8) }) {
            if let header = pending, !HeaderField.isContinuation(line) {
                walker.header(header)
                pending = nil
            }
            let kind = walker.classify(line)
            if case .header = kind { pending = (pending.map { $0 + [0x0A] } ?? []) + line }
            kinds.append(kind)
        }
        return kinds
    }

    @Test func plainTextIsAllBody() {
        #expect(walk(headers: ["Subject: x"], body: "--b\nContent-Type: text/plain\n\ntext") == [.body, .body, .body, .body])
    }

    @Test func multipartPartsHaveHeaders() {
        let kinds = walk(
            headers: ["Content-Type: multipart/alternative; boundary=\"=_b\""],
            body: "pre\n--=_b\nContent-Type: text/plain;\n charset=us-ascii\n\nhello\n--=_b--\nafter")
        #expect(kinds == [.body, .body, .header(.mime), .header(.mime), .headerEnd, .body, .body, .body])
    }

    @Test func attachedMessageHeadersAreNested() {
        let kinds = walk(
            headers: ["Content-Type: message/rfc822"],
            body: "Subject: inner\nFrom: a@b\n\ninner body")
        #expect(kinds == [.header(.nested), .header(.nested), .headerEnd, .body])
    }

    @Test func digestPartsDefaultToMessages() {
        let kinds = walk(
            headers: ["Content-Type: multipart/digest; boundary=d"],
            body: "--d\n\nSubject: in digest\n\nbody\n--d--")
        #expect(kinds == [.body, .headerEnd, .header(.nested), .headerEnd, .body, .body])
    }

    @Test func encodedMultipartIsNotEntered() {
        let kinds = walk(
            headers: ["Content-Type: multipart/mixed; boundary=b", "Content-Transfer-Encoding: base64"],
            body: "--b\nContent-Type: text/plain\n\nx")
        #expect(kinds == [.body, .body, .body, .body])
    }

    @Test func innerBoundaryEndsWithOuter() {
        let kinds = walk(
            headers: ["Content-Type: multipart/mixed; boundary=outer"],
            body: "--outer\nContent-Type: multipart/related; boundary=inner\n\n--inner\n\npart\n--outer--\n--inner\nx")
        #expect(kinds == [.body, .header(.mime), .headerEnd, .body, .headerEnd, .body, .body, .body, .body])
    }
}
