/// One message as the THREAD algorithms see it.
struct ThreadMessage: Sendable, Equatable {
    /// What the response shows: the sequence number, or the UID for UID THREAD.
    var number: UInt32
    /// Breaks ties between equal dates (UID order is also sequence order).
    var uid: UInt32
    /// The sent date, or the arrival time when there is none (RFC 5256 §2.2).
    var date: Int
    var messageID: String?
    var references: [String]
    var subject: BaseSubject
    var hasSubject: Bool
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
        let sorted = messages.sorted {
            if $0.subject.key != $1.subject.key { return $0.subject.key.lexicographicallyPrecedes($1.subject.key) }
            return ($0.date, $0.uid) < ($1.date, $1.uid)
        }
        var groups: [[ThreadMessage]] = []
        for message in sorted {
            if let last = groups.last?.last, last.subject.key == message.subject.key {
                groups[groups.count - 1].append(message)
            } else {
                groups.append([message])
            }
        }
        groups.sort { ($0[0].date, $0[0].uid) < ($1[0].date, $1[0].uid) }
        var forest = ThreadForest()
        for group in groups {
            let root = forest.add(group[0].number)
            forest.roots.append(root)
            for message in group.dropFirst() {
                let child = forest.add(message.number)
                forest.children[root].append(child)
            }
        }
        return forest
    }

    /// REFERENCES (RFC 5256 §2.2 steps 1-6), or REFS: the same links, no subject grouping, and threads ordered
    /// by their latest message.
    static func references(_ messages: [ThreadMessage], algorithm: ThreadAlgorithm) -> ThreadForest {
        var graph = ReferenceGraph(messages)
        return algorithm == .refs ? graph.refsForest() : graph.referencesForest()
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

/// Step 1 of RFC 5256 §2.2: messages and the IDs they name, linked parent to child.
private struct ReferenceGraph {
    let messages: [ThreadMessage]
    /// Per node: the message it is (nil for a dummy) and its parent.
    var message: [Int?] = []
    var parent: [Int?] = []
    /// Whether some node has (or had) this node as its parent.
    private var isParent: [Bool] = []
    /// Step 3's view: every message under its nearest non-dummy ancestor (or its root); later also the
    /// dummies step 5 adds.
    var shadow: [[Int]] = []
    private var nodeByID: [String: Int] = [:]

    init(_ messages: [ThreadMessage]) {
        self.messages = messages
        for (index, thread) in messages.enumerated() {
            var node: Int
            if let id = thread.messageID { node = self.node(for: id) } else { node = newNode() }
            if message[node] != nil { node = newNode() }  // a duplicate Message-ID: the first one keeps it
            message[node] = index
            var last: Int?
            if let first = thread.references.first {
                var previous = self.node(for: first)
                for id in thread.references.dropFirst() {
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
        shadow = Array(repeating: [], count: message.count)
        for node in message.indices where message[node] != nil {
            guard var above = parent[node] else { continue }
            while message[above] == nil, let next = parent[above] { above = next }
            shadow[above].append(node)
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

    // MARK: ordering

    /// The message of a node; nil for dummies, also for those step 5 adds past the graph's nodes.
    func messageIndex(_ node: Int) -> Int? { node < message.count ? message[node] : nil }
    func date(_ node: Int) -> Int { messageIndex(node).map { messages[$0].date } ?? 0 }
    func uid(_ node: Int) -> UInt32 { messageIndex(node).map { messages[$0].uid } ?? 0 }

    /// Step 4: children by date, then UID.
    func sortedChildren(_ node: Int) -> [Int] {
        shadow[node].sorted { (date($0), uid($0)) < (date($1), uid($1)) }
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
        var position: [Int: Int] = [:]
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
            let children = sortedChildren(roots[index].node)
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
            let node = roots[index].dummy ? sortedChildren(roots[index].node)[0] : roots[index].node
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
        for index in roots.indices where roots[index].parentRoot != nil && !roots[index].ignore {
            var top = index
            while let next = roots[top].parentRoot { top = next }
            changed = true
            if roots[index].dummy {
                // Both dummies: the children of both become siblings.
                shadow[roots[top].node] += shadow[roots[index].node]
                shadow[roots[index].node] = []
            } else if roots[top].dummy || (roots[index].replyOrForward && !roots[top].replyOrForward) {
                shadow[roots[top].node].append(roots[index].node)
            } else {
                // A new dummy holds both.
                let dummy = shadow.count
                shadow.append([roots[top].node, roots[index].node])
                roots.append(Root(node: dummy, dummy: true))
                roots[top].parentRoot = roots.count - 1
                roots[top].ignore = true
            }
            roots[index].ignore = true
        }
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
            for child in sortedChildren(item.node) {
                let childAt = forest.add(number(child))
                forest.children[item.at].append(childAt)
                pending.append((child, childAt))
            }
        }
        return forest
    }

    private func number(_ node: Int) -> UInt32? { messageIndex(node).map { messages[$0].number } }
}
