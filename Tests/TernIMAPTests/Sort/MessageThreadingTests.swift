@testable import TernIMAP
import Testing

/// The THREAD algorithms as pure functions, and the response format with RFC 5256 §4's examples.
@Suite struct MessageThreadingTests {
    private func message(
        _ number: UInt32, date: Int, id: String? = nil, refs: [String] = [], subject: String? = nil
    ) -> ThreadMessage {
        ThreadMessage(
            number: number, uid: number, date: date,
            fields: SortFields(
                subject: BaseSubject(subject: Array((subject ?? "").utf8)), hasSubject: subject != nil, from: [],
                to: [], cc: [], displayFrom: [], displayTo: [], sentDate: date, messageID: id, references: refs))
    }

    /// The forest of a THREAD response text (the grammar of RFC 5256 §5 `thread-list`).
    private func forest(_ text: String) -> ThreadForest {
        var forest = ThreadForest()
        var bytes = Array(text.utf8)[...]
        func number() -> UInt32? {
            let digits = bytes.prefix { $0 >= 0x30 && $0 <= 0x39 }
            bytes = bytes.dropFirst(digits.count)
            return digits.isEmpty ? nil : UInt32(String(decoding: digits, as: UTF8.self))
        }
        // A thread-list: "(" [number] [" " members | members] ")"; members after a number continue a chain.
        func list() -> Int {
            bytes = bytes.dropFirst()  // "("
            let head = forest.add(number())
            var last = head
            while let next = bytes.first, next != UInt8(ascii: ")") {
                if next == UInt8(ascii: " ") {
                    bytes = bytes.dropFirst()
                    if bytes.first != UInt8(ascii: "(") {
                        let child = forest.add(number())
                        forest.children[last].append(child)
                        last = child
                    }
                } else {
                    forest.children[last].append(list())
                }
            }
            bytes = bytes.dropFirst()  // ")"
            return head
        }
        while !bytes.isEmpty { forest.roots.append(list()) }
        return forest
    }

    @Test func rfc5256ResponsesRoundTrip() {
        let examples = [
            "(166)(167)(168)(169)(172)(170)(171)(173)(174 (175)(176)(178)(181)(180))(179)(177 (183)(182)(188)(184)"
                + "(185)(186)(187)(189))(190)(191)(192)(193)(194 195)(196 (197)(198))(199)(200 202)(201)(203)(204)"
                + "(205)(206 207)(208)",
            "(166)(167)(168)(169)(172)((170)(179))(171)(173)((174)(175)(176)(178)(181)(180))(177 (183)(182)(188 (184)"
                + "(189))(185 186)(187))(190)(191)(192)(193)((194)(195 196))(197 198)(199)(200 202)(201)(203)(204)"
                + "(205 206 207)(208)",
            "(2)(3 6 (4 23)(44 7 96))",
            "((3)(5))",
        ]
        for text in examples {
            #expect(forest(text).text == text)
        }
        #expect(IMAPResponse.thread(ThreadForest()).bytes == Array("* THREAD \r\n".utf8))
    }

    @Test func referencesLinkParentsAndDummies() {
        let messages = [
            message(1, date: 10, id: "a@x", subject: "topic"),
            message(2, date: 30, id: "c@x", refs: ["a@x", "b@x"], subject: "Re: topic"),
            message(3, date: 20, id: "d@x", refs: ["a@x"], subject: "Re: topic"),
            // Its parent is missing: a dummy with one child gives way to the child.
            message(4, date: 5, id: "e@x", refs: ["gone@x"], subject: "other"),
        ]
        // 2 hangs under the dummy b@x, which step 3 removes: 2 becomes a child of 1.
        #expect(MessageThreading.references(messages, algorithm: .references).forest.text == "(4)(1 (3)(2))")
        #expect(MessageThreading.references(messages, algorithm: .refs).forest.text == "(4)(1 (3)(2))")
    }

    @Test func loopsDuplicatesAndSelfReferencesAreIgnored() {
        let messages = [
            message(1, date: 2, id: "c1@x", refs: ["c2@x"]),
            message(2, date: 1, id: "c2@x", refs: ["c1@x"]),
            message(3, date: 3, id: "c1@x"),
            message(4, date: 4, id: "s@x", refs: ["p@x", "s@x"]),
        ]
        #expect(MessageThreading.references(messages, algorithm: .references).forest.text == "(2 1)(3)(4)")
    }

    @Test func referencesGroupBySubjectButRefsDoNot() {
        let messages = [
            message(1, date: 30, subject: "Re: [blob] Re: hello"),
            message(2, date: 30, subject: "hello"),
            message(3, date: 20, subject: "Re:hello (fwd)"),
            message(4, date: 40, subject: "same"),
            message(5, date: 50, subject: "same"),
            message(6, date: 60, subject: ""),
            message(7, date: 70, subject: ""),
        ]
        #expect(MessageThreading.references(messages, algorithm: .references).forest.text == "(2 (3)(1))((4)(5))(6)(7)")
        #expect(MessageThreading.references(messages, algorithm: .refs).forest.text == "(3)(1)(2)(4)(5)(6)(7)")
    }

    @Test func refsOrdersThreadsByTheirLatestMessage() {
        let messages = [
            message(1, date: 10, id: "a@x"),
            message(2, date: 20, id: "b@x"),
            message(3, date: 30, id: "c@x", refs: ["a@x"]),
        ]
        #expect(MessageThreading.references(messages, algorithm: .references).forest.text == "(1 3)(2)")
        #expect(MessageThreading.references(messages, algorithm: .refs).forest.text == "(2)(1 3)")
    }

    @Test func orderedSubjectGroupsBySubjectThenDate() {
        let messages = [
            message(1, date: 50, subject: "b"),
            message(2, date: 10, subject: "Re: a"),
            message(3, date: 40, subject: "a"),
            message(4, date: 20, subject: "A"),
            message(5, date: 30, subject: "c"),
            message(6, date: 60, subject: "c"),
        ]
        #expect(MessageThreading.orderedSubject(messages).text == "(2 (4)(3))(5 6)(1)")
    }

    @Test func longChainsDoNotExhaustTheStack() {
        let count: UInt32 = 20_000
        let messages = (1...count).map { n in
            message(n, date: Int(n), id: "\(n)@x", refs: n == 1 ? [] : ["\(n - 1)@x"])
        }
        let text = MessageThreading.references(messages, algorithm: .references).forest.text
        #expect(text == "(" + (1...count).map(String.init).joined(separator: " ") + ")")
    }

    /// Links kept from an earlier THREAD give the same answer as new ones, whether messages arrived since
    /// (they are added) or were expunged (the links are built anew).
    @Test func keptLinksGiveTheSameThreads() {
        let all = [
            message(1, date: 10, id: "a@x", subject: "x"),
            message(2, date: 20, id: "b@x", refs: ["a@x"], subject: "Re: x"),
            message(3, date: 30, id: "c@x", refs: ["z@x"], subject: "y"),
            message(4, date: 40, id: "d@x", refs: ["a@x", "z@x"], subject: "Re: y"),
            message(5, date: 50, id: "z@x", subject: "z"),
        ]
        for algorithm in [ThreadAlgorithm.references, .refs] {
            let fresh = MessageThreading.references(all, algorithm: algorithm)
            let early = MessageThreading.references(Array(all.prefix(2)), algorithm: algorithm)
            let grown = MessageThreading.references(all, algorithm: algorithm, links: early.links)
            #expect(grown.forest == fresh.forest)
            #expect(grown.links.count == 5)
            let expunged = Array(all.dropFirst())
            let kept = MessageThreading.references(expunged, algorithm: algorithm, links: fresh.links)
            #expect(kept.forest == MessageThreading.references(expunged, algorithm: algorithm).forest)
            #expect(kept.links.count == 4)
        }
    }
}
