import Glibc

/// The state of a mail(1) reading session, after BSD mailx as Debian ships it (bsd-mailx 8.1.2): per-message
/// flags, the current message ("dot"), message lists, and what quitting does with each message. No I/O.
public struct MailSession: Sendable {
    public struct Flags: OptionSet, Sendable, Hashable {
        public let rawValue: UInt16
        public init(rawValue: UInt16) { self.rawValue = rawValue }
        /// No `O` in Status: arrived since the mailbox was last read.
        public static let new = Flags(rawValue: 1 << 0)
        public static let read = Flags(rawValue: 1 << 1)
        public static let deleted = Flags(rawValue: 1 << 2)
        public static let saved = Flags(rawValue: 1 << 3)
        /// `preserve`/`hold`, or never looked at this session: stays in the system mailbox.
        public static let preserved = Flags(rawValue: 1 << 4)
        /// Looked at (printed, deleted, saved) this session.
        public static let touched = Flags(rawValue: 1 << 5)
        /// `mbox`: goes to ~/mbox on quit.
        public static let toMbox = Flags(rawValue: 1 << 6)
    }

    public var messages: [FolderMessage]
    public var flags: [Flags]
    /// Index of the current message.
    public var dot = 0
    /// Whether a command has run yet: the first `next` shows dot itself.
    public var sawCommand = false
    /// Reading the system mailbox (read messages go to ~/mbox on quit) rather than a `-f` folder.
    public let isSystemMailbox: Bool

    public init(messages: [FolderMessage], isSystemMailbox: Bool) {
        self.messages = messages
        self.isSystemMailbox = isSystemMailbox
        flags = messages.map { message in
            let status = message.status ?? ""
            var flags: Flags = status.contains("O") ? [] : .new
            if status.contains("R") { flags.insert(.read) }
            return flags
        }
        // Start at the first new message, else the first unread one.
        dot =
            flags.firstIndex { $0.contains(.new) } ?? flags.firstIndex { !$0.contains(.read) } ?? 0
    }

    // MARK: - Summary

    /// `"/var/mail/alice": 2 messages 1 new 1 unread`
    public func announcement(name: String) -> String {
        let newCount = flags.filter { $0.contains(.new) }.count
        let unread = flags.filter { !$0.contains(.read) }.count
        var text = "\"\(name)\": \(messages.count) message\(messages.count == 1 ? "" : "s")"
        if newCount > 0 { text += " \(newCount) new" }
        if unread - newCount > 0 { text += " \(unread - newCount) unread" }
        return text
    }

    /// One header summary line, laid out like Debian's bsd-mailx (`printhead()`):
    /// `>N  1 alice@example.com  Mon Nov 30 10:00   14/406   Subject`, the subject cut at `width`.
    public func headerLine(_ index: Int, width: Int) -> String {
        let message = messages[index]
        let flag = flags[index]
        var mark: Character = " "
        if flag.contains(.saved) { mark = "*" }
        if flag.contains(.preserved) { mark = "P" }
        if flag.intersection([.read, .new]) == .new { mark = "N" }
        if flag.intersection([.read, .new]).isEmpty { mark = "U" }
        if flag.contains(.toMbox) { mark = "M" }
        let number = String(index + 1)
        let counts = pad(String(message.lines), 3, left: true) + "/" + pad(String(message.size), 5, left: false)
        let date = String(MailAddressText.fromLineDate(message.fromLine).prefix(16))
        let prefix =
            (index == dot ? ">" : " ") + String(mark) + pad(number, 3, left: true) + " "
            + pad(String(senderName(index).prefix(17)), 17, left: false) + "  " + pad(date, 16, left: true) + "  "
            + counts + " "
        let room = width - 44 - counts.count
        return prefix + String((message.subject ?? "").prefix(max(0, room)))
    }

    /// The sender shown in summaries: From:, else Sender:, else the `From ` line, reduced to the address.
    public func senderName(_ index: Int) -> String {
        let message = messages[index]
        if let header = message.from ?? message.sender { return MailAddressText.skin(header) }
        return MailAddressText.fromLineSender(message.fromLine)
    }

    private func pad(_ text: String, _ width: Int, left: Bool) -> String {
        let fill = String(repeating: " ", count: max(0, width - text.count))
        return left ? fill + text : text + fill
    }

    /// The messages one `headers` screen shows: the page of `size` that holds `around` (dot when nil),
    /// without deleted ones. Like mailx, asking for another page moves dot to its first message.
    public mutating func headerPage(around: Int?, size: Int) -> [Int] {
        let target = around ?? dot
        let start = (target / max(1, size)) * max(1, size)
        guard start < messages.count else { return [] }
        if target != dot { dot = start }
        return Array((start..<messages.count).filter { !flags[$0].contains(.deleted) }.prefix(size))
    }

    // MARK: - Message lists

    /// Why a message list selects nothing, with mailx's wording.
    public enum ListError: Error, Equatable, Sendable {
        case invalidNumber(String)
        case inappropriate(Int)
        case noneApplicable
        case noneMatching(String)

        public var text: String {
            switch self {
            case .invalidNumber(let token): "\(token): Invalid message number"
            case .inappropriate(let number): "\(number): Inappropriate message"
            case .noneApplicable: "No applicable messages"
            case .noneMatching(let token): "No applicable messages from {\(token)}"
            }
        }
    }

    /// Resolves a message list (`3`, `2-4`, `*`, `$`, `.`, `^`, `/subject`, or a sender) to message indices in
    /// order. Commands work on messages that are not deleted, `undelete` (`deleted: true`) on deleted ones;
    /// an empty list means the first such message from dot on (else before it), as mailx's `first()`.
    public func messageList(_ tokens: [String], deleted: Bool = false) -> Result<[Int], ListError> {
        let eligible = { (index: Int) in self.flags[index].contains(.deleted) == deleted }
        guard !tokens.isEmpty else {
            let candidate = (dot..<messages.count).first(where: eligible) ?? (0..<dot).last(where: eligible)
            return candidate.map { .success([$0]) } ?? .failure(.noneApplicable)
        }
        var selected = Set<Int>()
        for token in tokens {
            let bounds = token.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
            if let first = number(bounds[0]) {
                let last = bounds.count > 1 && !bounds[1].isEmpty ? number(bounds[1]) : first
                guard let last else { return .failure(.invalidNumber(String(bounds[1]))) }
                for value in [first, last] where value < 1 || value > messages.count {
                    return .failure(.invalidNumber(String(value)))
                }
                for index in (min(first, last) - 1)...(max(first, last) - 1) {
                    guard eligible(index) else { return .failure(.inappropriate(index + 1)) }
                    selected.insert(index)
                }
                continue
            }
            let matches: [Int]
            switch token {
            case "*": matches = messages.indices.filter(eligible)
            case "$": matches = messages.indices.last(where: eligible).map { [$0] } ?? []
            case "^": matches = messages.indices.first(where: eligible).map { [$0] } ?? []
            case ".": matches = messages.isEmpty ? [] : [dot]
            default:
                let wanted = token.lowercased()
                matches = messages.indices.filter { index in
                    guard eligible(index) else { return false }
                    if wanted.hasPrefix("/") {
                        return (messages[index].subject ?? "").lowercased().contains(wanted.dropFirst())
                    }
                    return senderName(index).lowercased().contains(wanted)
                }
                if matches.isEmpty { return .failure(.noneMatching(token)) }
            }
            selected.formUnion(matches)
        }
        return selected.isEmpty ? .failure(.noneApplicable) : .success(selected.sorted())
    }

    private func number(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.count <= 9, text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber) else {
            return nil
        }
        return Int(text)
    }

    // MARK: - Changes

    /// Marks a message looked at (and so read), as mailx's `touch()`.
    public mutating func touch(_ index: Int) {
        flags[index].insert(.touched)
        flags[index].insert(.read)
    }

    public mutating func delete(_ list: [Int]) {
        for index in list {
            touch(index)
            flags[index].insert(.deleted)
            flags[index].subtract([.preserved, .saved, .toMbox])
        }
        // Dot moves to the first message after the last one deleted that is still there.
        if let last = list.max() {
            if let next = (last + 1..<messages.count).first(where: { !flags[$0].contains(.deleted) }) {
                dot = next
            } else if let before = (0..<last).last(where: { !flags[$0].contains(.deleted) }) {
                dot = before
            }
        }
    }

    public mutating func undelete(_ list: [Int]) {
        for index in list {
            flags[index].remove(.deleted)
            touch(index)
            dot = index
        }
    }

    public mutating func markSaved(_ list: [Int]) {
        for index in list {
            touch(index)
            flags[index].insert(.saved)
        }
    }

    public mutating func preserve(_ list: [Int]) {
        for index in list {
            flags[index].insert(.preserved)
            flags[index].remove(.toMbox)
        }
    }

    public mutating func markForMbox(_ list: [Int]) {
        for index in list {
            flags[index].insert(.toMbox)
            flags[index].remove(.preserved)
        }
    }

    /// The message `next` (or Enter) shows: with a list, the first one after dot (wrapping round) that is not
    /// deleted; without, dot itself before any other command, then the next message neither deleted nor saved.
    public func nextMessage(_ list: [Int]?) -> Int? {
        if let list, !list.isEmpty {
            let start = list.firstIndex { $0 > dot } ?? 0
            let rotated = list[start...] + list[..<start]
            return rotated.first { !flags[$0].contains(.deleted) }
        }
        if !sawCommand { return dot }
        return (dot + 1..<messages.count).first { flags[$0].isDisjoint(with: [.deleted, .saved]) }
    }

    /// The message `-` shows: the nearest one before dot that is not deleted.
    public func previousMessage() -> Int? {
        (0..<dot).last { !flags[$0].contains(.deleted) }
    }

    /// The `Status:` a message carries when written now: R once read, O once not new (nil: neither).
    public func status(of index: Int) -> String? {
        let status = (flags[index].contains(.read) ? "R" : "") + (flags[index].contains(.new) ? "" : "O")
        return status.isEmpty ? nil : status
    }

    // MARK: - Quitting

    /// What `quit` does with each message, as mailx's `quit()` (system mailbox: `hold` and `keepsave` unset,
    /// `append` set as in Debian's /etc/mail.rc) and `edstop()` (a `-f` folder).
    public struct QuitPlan: Equatable, Sendable {
        /// Messages written back to the folder, with their new `Status:` value.
        public var kept: [(index: Int, status: String)]
        /// Messages appended to ~/mbox (system mailbox only).
        public var toMbox: [(index: Int, status: String)]
        /// Anything to write at all: mailx leaves an unchanged folder alone.
        public var changed: Bool

        public static func == (lhs: QuitPlan, rhs: QuitPlan) -> Bool {
            lhs.kept.map(\.index) == rhs.kept.map(\.index) && lhs.kept.map(\.status) == rhs.kept.map(\.status)
                && lhs.toMbox.map(\.index) == rhs.toMbox.map(\.index) && lhs.changed == rhs.changed
        }
    }

    public func quitPlan() -> QuitPlan {
        var plan = QuitPlan(kept: [], toMbox: [], changed: false)
        for (index, original) in flags.enumerated() {
            var flag = original
            // On quit nothing is new any more: every message kept gets at least `Status: O`.
            if flag.contains(.new) {
                flag.remove(.new)
                plan.changed = true
            }
            let status = (flag.contains(.read) ? "R" : "") + "O"
            if status != messages[index].status { plan.changed = true }
            if flag.contains(.deleted) || (isSystemMailbox && flag.contains(.saved)) {
                plan.changed = true
                continue
            }
            let leavesForMbox =
                isSystemMailbox && !flag.contains(.preserved)
                && (flag.contains(.toMbox) || flag.contains(.touched))
            if leavesForMbox {
                plan.changed = true
                plan.toMbox.append((index, status))
            } else {
                plan.kept.append((index, status))
            }
        }
        return plan
    }
}

/// Address and date text as mail(1) shows it.
public enum MailAddressText {
    /// mailx `skin()`: the address inside `<...>`, else the text without `(comments)` and surrounding space.
    public static func skin(_ text: String) -> String {
        if let open = text.lastIndex(of: "<"), let close = text[open...].firstIndex(of: ">") {
            return String(text[text.index(after: open)..<close]).trimmingSpaces()
        }
        var result = ""
        var depth = 0
        for character in text {
            switch character {
            case "(": depth += 1
            case ")": depth = max(0, depth - 1)
            default: if depth == 0 { result.append(character) }
            }
        }
        return result.trimmingSpaces()
    }

    /// The sender word of a `From sender date` line.
    public static func fromLineSender(_ line: String) -> String {
        let words = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        return words.count > 1 ? String(words[1]) : ""
    }

    /// The date of a `From sender date` line (`Mon Nov 30 10:00:00 2026`).
    public static func fromLineDate(_ line: String) -> String {
        var rest = Substring(line)
        for _ in 0..<2 {
            rest = rest.drop { $0 == " " }
            rest = rest.drop { $0 != " " }
        }
        return rest.trimmingSpaces()
    }
}
