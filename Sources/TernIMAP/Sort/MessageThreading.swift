/// One message as the THREAD algorithms see it.
struct ThreadMessage: Sendable {
    /// What the response shows: the sequence number, or the UID for UID THREAD.
    var number: UInt32
    /// Breaks ties between equal dates (UID order is also sequence order).
    var uid: UInt32
    /// The sent date, or the arrival time when there is none (RFC 5256 §2.2).
    var date: Int
    var fields: SortFields

    var messageID: String? { fields.messageID }
    var references: [String] { fields.references }
    var subject: BaseSubject { fields.subject }
    var hasSubject: Bool { fields.hasSubject }
}

/// The THREAD algorithms of RFC 5256 §2.2 and Dovecot's REFS, as pure functions of the messages (given in
/// UID order). Where the RFC leaves room, Dovecot's choices are followed (index-thread-links.c,
/// index-thread-finish.c): siblings and threads are ordered by (date, UID); a duplicate Message-ID makes the
/// later message a message without an ID; a root dummy with one child gives way to the child.
/// Everything is iterative: a reference chain as long as the mailbox must not exhaust the stack.
enum MessageThreading {
    /// ORDEREDSUBJECT: messages grouped by base subject, each group a thread of its first message (by date)
    /// with the others as its children; threads ordered by the date of their first message.
    static func orderedSubject(_ messages: [ThreadMessage]) -> ThreadForest {
        // Positions are sorted and grouped, not the messages (moving one retains and releases).
        messages.withUnsafeBufferPointer { messages in
            let sorted = messages.indices.sorted { a, b in
                let (first, second) = (messages[a], messages[b])
                if first.subject.key != second.subject.key {
                    return first.subject.key.lexicographicallyPrecedes(second.subject.key)
                }
                return (first.date, first.uid) < (second.date, second.uid)
            }
            var groups: [Range<Int>] = []
            for (offset, position) in sorted.enumerated() {
                if let last = groups.last, messages[sorted[last.lowerBound]].subject.key == messages[position].subject.key {
                    groups[groups.count - 1] = last.lowerBound..<(offset + 1)
                } else {
                    groups.append(offset..<(offset + 1))
                }
            }
            func first(_ group: Range<Int>) -> ThreadMessage { messages[sorted[group.lowerBound]] }
            groups.sort { (first($0).date, first($0).uid) < (first($1).date, first($1).uid) }
            var forest = ThreadForest()
            for group in groups {
                let root = forest.add(first(group).number)
                forest.roots.append(root)
                for offset in group.dropFirst() {
                    let child = forest.add(messages[sorted[offset]].number)
                    forest.children[root].append(child)
                }
            }
            return forest
        }
    }

    /// REFERENCES (RFC 5256 §2.2 steps 1-6), or REFS: the same links, no subject grouping, and threads ordered
    /// by their latest message.
    /// `links`: step 1 as done for these messages or for the first of them (the messages linked since are
    /// added); it is returned for the next THREAD.
    static func references(
        _ messages: [ThreadMessage], algorithm: ThreadAlgorithm, links: ThreadLinks? = nil
    ) -> (forest: ThreadForest, links: ThreadLinks) {
        var links = links.flatMap { $0.isPrefix(of: messages) ? $0 : nil } ?? ThreadLinks()
        links.add(messages[links.count...])
        var graph = ReferenceGraph(links, messages)
        return (algorithm == .refs ? graph.refsForest() : graph.referencesForest(), links)
    }
}

/// THREAD's answer as a forest of message numbers (nil for a dummy), written iteratively.
public struct ThreadForest: Sendable, Hashable {
    public internal(set) var numbers: [UInt32?] = []
    public internal(set) var children: [[Int]] = []
    public internal(set) var roots: [Int] = []

    public init() {}

    mutating func add(_ number: UInt32?) -> Int {
        numbers.append(number)
        children.append([])
        return numbers.count - 1
    }

    /// The thread list as Dovecot writes it: `(1 2 3)` for a chain, `(1 (2)(3))` for siblings, `((2)(3))`
    /// under a dummy.
    public var text: String {
        enum Step {
            case list([Int], root: Bool)
            case text(String)
        }
        var out = ""
        var steps: [Step] = [.list(roots, root: true)]
        while let step = steps.popLast() {
            switch step {
            case .text(let text): out += text
            case .list(let nodes, let root):
                if nodes.count == 1 && !root, let number = numbers[nodes[0]] {
                    // An only child continues its parent's line without parentheses.
                    if !children[nodes[0]].isEmpty {
                        steps.append(.list(children[nodes[0]], root: false))
                        steps.append(.text(" "))
                    }
                    steps.append(.text(String(number)))
                    continue
                }
                for node in nodes.reversed() {
                    if children[node].isEmpty {
                        steps.append(.text("(\(numbers[node].map { String($0) } ?? ""))"))
                    } else {
                        steps.append(.text(")"))
                        steps.append(.list(children[node], root: false))
                        steps.append(.text(numbers[node].map { "(\($0) " } ?? "("))
                    }
                }
            }
        }
        return out
    }
}

/// Step 1 of RFC 5256 §2.2: messages and the IDs they name, linked parent to child. The session keeps it
/// with the selected mailbox, so the next THREAD only adds the messages that arrived since (Dovecot keeps
/// its thread index for the same reason); any other change builds it anew.
struct ThreadLinks: Sendable {
    /// The UIDs of the messages linked, in order.
    private(set) var uids: [UInt32] = []
    /// Per node: the message it is (a position in `uids`; nil for a dummy) and its parent.
    private(set) var message: [Int?] = []
    private(set) var parent: [Int?] = []
    /// Whether some node has (or had) this node as its parent.
    private var isParent: [Bool] = []
    private var nodeByID: [String: Int] = [:]

    var count: Int { uids.count }

    /// Whether `messages` begin with the messages linked so far.
    func isPrefix(of messages: [ThreadMessage]) -> Bool {
        messages.count >= uids.count && zip(uids, messages).allSatisfy { $0 == $1.uid }
    }

    mutating func add(_ messages: ArraySlice<ThreadMessage>) {
        for thread in messages {
            let index = uids.count
            uids.append(thread.uid)
            var node: Int
            if let id = thread.messageID { node = self.node(for: id) } else { node = newNode() }
            if message[node] != nil { node = newNode() }  // a duplicate Message-ID: the first one keeps it
            message[node] = index
            var last: Int?
            let references = thread.references
            if let first = references.first {
                var previous = self.node(for: first)
                for id in references.dropFirst() {
                    let next = self.node(for: id)
                    link(previous, next)
                    previous = next
                }
                last = previous
            }
            // 1.B: the last reference is the parent; a parent from an earlier References field goes.
            if let current = parent[node], current != last { parent[node] = nil }
            if let last { link(last, node) }
        }
    }

    private mutating func newNode() -> Int {
        message.append(nil)
        parent.append(nil)
        isParent.append(false)
        return message.count - 1
    }

    private mutating func node(for id: String) -> Int {
        if let node = nodeByID[id] { return node }
        let node = newNode()
        nodeByID[id] = node
        return node
    }

    /// 1.A: links `child` under `parent` unless it has a parent already or the link would make a loop. Only
    /// a node that is somebody's parent can be an ancestor, so the common case (a new message at the end of
    /// a long chain) does not walk the chain.
    private mutating func link(_ parentNode: Int, _ child: Int) {
        guard parent[child] == nil, child != parentNode else { return }
        if isParent[child] {
            var walk: Int? = parentNode
            while let current = walk {
                if current == child { return }
                walk = parent[current]
            }
        }
        parent[child] = parentNode
        isParent[parentNode] = true
    }
}

/// Steps 2-6 over the links of step 1.
private struct ReferenceGraph {
    let messages: [ThreadMessage]
    let message: [Int?]
    let parent: [Int?]
    /// Each message's date, UID and number, apart: sorting reads them often, and a ThreadMessage copy costs a
    /// retain.
    private let dates: [Int]
    private let uids: [UInt32]
    private let numbers: [UInt32]
    /// Step 3's view: every message under its nearest non-dummy ancestor (or its root); later also the
    /// dummies step 5 adds. Each list is kept in step 4's order: by date, then UID.
    var shadow: [[Int]] = []

    init(_ links: ThreadLinks, _ messages: [ThreadMessage]) {
        self.messages = messages
        message = links.message
        parent = links.parent
        dates = messages.map(\.date)
        uids = messages.map(\.uid)
        numbers = messages.map(\.number)
        shadow = Array(repeating: [], count: message.count)
        // Adding the messages in step 4's order sorts every list at once.
        var order = message.indices.compactMap { node in message[node].map { (dates[$0], uids[$0], node) } }
        order.sort { ($0.0, $0.1) < ($1.0, $1.1) }
        for (_, _, node) in order {
            guard var above = parent[node] else { continue }
            while message[above] == nil, let next = parent[above] { above = next }
            shadow[above].append(node)
        }
    }

    // MARK: ordering

    /// The message of a node; nil for dummies, also for those step 5 adds past the graph's nodes.
    func messageIndex(_ node: Int) -> Int? { node < message.count ? message[node] : nil }
    func date(_ node: Int) -> Int { messageIndex(node).map { dates[$0] } ?? 0 }
    func uid(_ node: Int) -> UInt32 { messageIndex(node).map { uids[$0] } ?? 0 }

    /// Step 4 for a list step 5 changed.
    private mutating func sortChildren(_ node: Int) {
        let keys = shadow[node].map { (date($0), uid($0), $0) }.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
        shadow[node] = keys.map(\.2)
    }

    struct Root {
        var node: Int
        var dummy: Bool
        var date = 0
        var uid: UInt32 = 0
        var ignore = false
        var parentRoot: Int?
        var replyOrForward = false
    }

    var initialRoots: [Root] {
        parent.indices.filter { parent[$0] == nil }.map { Root(node: $0, dummy: message[$0] == nil) }
    }

    /// Dovecot's REFS: threads by the date of their latest message (dummies sort as UID 0).
    mutating func refsForest() -> ThreadForest {
        var roots = initialRoots
        var position: [Int?] = Array(repeating: nil, count: message.count)
        for (index, root) in roots.enumerated() {
            position[root.node] = index
            roots[index].uid = uid(root.node)
        }
        // Each node's root, found once per node (a walk per message would be quadratic on long chains).
        var top: [Int?] = Array(repeating: nil, count: message.count)
        for node in message.indices where message[node] != nil {
            var path: [Int] = []
            var current = node
            while top[current] == nil, let above = parent[current] {
                path.append(current)
                current = above
            }
            let root = top[current] ?? current
            for visited in path { top[visited] = root }
            if let index = position[root] { roots[index].date = max(roots[index].date, date(node)) }
        }
        roots.removeAll { $0.dummy && shadow[$0.node].isEmpty }
        roots.sort { ($0.date, $0.uid) < ($1.date, $1.uid) }
        return forest(roots.map(\.node))
    }

    /// REFERENCES: steps 2-6 with the subject grouping of step 5.
    mutating func referencesForest() -> ThreadForest {
        var roots = initialRoots
        sortRoots(&roots)
        gatherSubjects(&roots)
        if mergeSubjects(&roots) { sortRoots(&roots) }
        return forest(roots.filter { !$0.ignore }.map(\.node))
    }

    /// Steps 3 (a root dummy with one child is replaced by it) and 4 (roots by date; a dummy by its first
    /// child's).
    private func sortRoots(_ roots: inout [Root]) {
        for index in roots.indices where !roots[index].ignore {
            guard roots[index].dummy else {
                roots[index].date = date(roots[index].node)
                roots[index].uid = uid(roots[index].node)
                continue
            }
            let children = shadow[roots[index].node]
            guard let first = children.first else {
                roots[index].ignore = true
                continue
            }
            if children.count == 1 {
                roots[index].node = first
                roots[index].dummy = false
            }
            roots[index].date = date(first)
            roots[index].uid = uid(first)
        }
        roots.sort { ($0.date, $0.uid) < ($1.date, $1.uid) }
    }

    /// Step 5.B: the subject table; a root points at the root it joins (`parentRoot`).
    private func gatherSubjects(_ roots: inout [Root]) {
        var table: [[UInt8]: Int] = [:]
        for index in roots.indices where !roots[index].ignore {
            let node = roots[index].dummy ? shadow[roots[index].node][0] : roots[index].node
            guard let source = messageIndex(node), messages[source].hasSubject else { continue }
            let subject = messages[source].subject
            guard !subject.key.isEmpty else { continue }
            if let held = table[subject.key] {
                if !roots[held].dummy
                    && (roots[index].dummy || (roots[held].replyOrForward && !subject.isReplyOrForward))
                {
                    roots[held].parentRoot = index
                    table[subject.key] = index
                } else {
                    roots[index].parentRoot = held
                }
            } else {
                table[subject.key] = index
            }
            roots[index].replyOrForward = subject.isReplyOrForward
        }
    }

    /// Step 5.C: each root that found an earlier root of its subject joins that thread.
    private mutating func mergeSubjects(_ roots: inout [Root]) -> Bool {
        var changed = false
        var touched: Set<Int> = []
        for index in roots.indices where roots[index].parentRoot != nil && !roots[index].ignore {
            var top = index
            while let next = roots[top].parentRoot { top = next }
            changed = true
            if roots[index].dummy {
                // Both dummies: the children of both become siblings.
                shadow[roots[top].node] += shadow[roots[index].node]
                shadow[roots[index].node] = []
                touched.insert(roots[top].node)
            } else if roots[top].dummy || (roots[index].replyOrForward && !roots[top].replyOrForward) {
                shadow[roots[top].node].append(roots[index].node)
                touched.insert(roots[top].node)
            } else {
                // A new dummy holds both.
                let dummy = shadow.count
                shadow.append([roots[top].node, roots[index].node])
                roots.append(Root(node: dummy, dummy: true))
                roots[top].parentRoot = roots.count - 1
                roots[top].ignore = true
                touched.insert(dummy)
            }
            roots[index].ignore = true
        }
        for node in touched { sortChildren(node) }
        return changed
    }

    /// The response: roots in order, every node's children by date.
    private func forest(_ rootNodes: [Int]) -> ThreadForest {
        var forest = ThreadForest()
        var pending: [(node: Int, at: Int)] = []
        for node in rootNodes {
            let at = forest.add(number(node))
            forest.roots.append(at)
            pending.append((node, at))
        }
        while let item = pending.popLast() {
            for child in shadow[item.node] {
                let childAt = forest.add(number(child))
                forest.children[item.at].append(childAt)
                pending.append((child, childAt))
            }
        }
        return forest
    }

    private func number(_ node: Int) -> UInt32? { messageIndex(node).map { numbers[$0] } }
}
