import Foundation
import TernDelivery

/// The commands of the mail(1) reader. Names resolve like mailx's `lex()`: the first entry of the table, in
/// mailx's own order, that starts with what was typed, so `p` is print, `s` save and `x` xit.
extension MailReader {
    enum Outcome { case `continue`, quit, exit }

    enum Command: String, CaseIterable {
        case next, alias, print, type
        case typeAll = "Type"
        case Print, visual, top, touch, preserve, delete, dp, dt, undelete, unset,
            mail, mbox, more, page, More, Page, unread, Unread
        case shellEscape = "!"
        case copy, chdir, cd, save, source,
            set, shell, version, group, write, from, file, folder, folders
        case help = "?"
        case z, headers
        case helpWord = "help"
        case
            dot = "="
        case Reply, Respond, reply, respond, edit, echo, quit, list, xit, exit, size, hold

        static func named(_ word: String) -> Command? {
            allCases.first { $0.rawValue.hasPrefix(word) }
        }
    }

    /// Splits `p2`, `d 1-3`, `s 2 file` into the command word and its arguments (mailx's `getword`).
    static func split(_ line: String) -> (word: String, arguments: [String]) {
        guard let first = line.first else { return ("", []) }
        let word: Substring =
            first.isLetter
            ? line.prefix { $0.isLetter } : (first.isNumber || "$^.*/:+-".contains(first) ? "" : line.prefix(1))
        let arguments = line.dropFirst(word.count).split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        return (String(word), arguments)
    }

    mutating func execute(_ line: String) -> Outcome {
        guard !line.hasPrefix("#") else { return .continue }
        let (word, arguments) = Self.split(line)
        defer { session.sawCommand = true }
        if word.isEmpty {
            // A bare list (or Enter) is `next`; `-` and `+` step backwards and forwards.
            if arguments == ["-"] { return step(session.previousMessage(), error: "Referencing before 1") }
            if arguments == ["+"] {
                return step(
                    session.nextMessage(nil).flatMap { $0 == session.dot ? nil : $0 }, error: "Referencing beyond EOF")
            }
            return next(arguments)
        }
        guard let command = Command.named(word) else {
            out.line("Unknown command: \"\(word)\"")
            return .continue
        }
        switch command {
        case .next: return next(arguments)
        case .print, .type, .more, .page: if let list = list(arguments) { show(list, allHeaders: false) }
        case .Print, .typeAll, .More, .Page: if let list = list(arguments) { show(list, allHeaders: true) }
        case .delete: if let list = list(arguments) { session.delete(list) }
        case .dp, .dt:
            // Like mailx's deltype(): show the message dot moved on to, if it moved forwards.
            guard let list = list(arguments) else { break }
            let lastDot = session.dot
            session.delete(list)
            if session.dot > lastDot && !session.flags[session.dot].contains(.deleted) {
                show([session.dot], allHeaders: false)
            } else {
                out.line("At EOF")
            }
        case .undelete: if let list = list(arguments, deleted: true) { session.undelete(list) }
        case .preserve, .hold: if let list = list(arguments) { session.preserve(list) }
        case .mbox, .touch: if let list = list(arguments) { session.markForMbox(list) }
        case .unread, .Unread: if let list = list(arguments) { list.forEach { session.flags[$0].remove(.read) } }
        case .save: save(arguments, bodyOnly: false, mark: true)
        case .copy: save(arguments, bodyOnly: false, mark: false)
        case .write: save(arguments, bodyOnly: true, mark: true)
        case .headers: showHeaders(around: headerTarget(arguments))
        case .z:
            let page = session.dot / pageSize + (arguments.first == "-" ? -1 : 1)
            if page < 0 || page * pageSize >= session.messages.count {
                out.line(page < 0 ? "On first screenful of messages" : "On last screenful of messages")
            } else {
                showHeaders(around: page * pageSize)
            }
        case .from:
            // Like mailx, dot moves to the last message listed.
            guard let list = list(arguments) else { break }
            list.forEach { out.line(session.headerLine($0, width: width)) }
            session.dot = list.last ?? session.dot
        case .size:
            for index in list(arguments) ?? [] {
                out.line("\(index + 1): \(session.messages[index].lines)/\(session.messages[index].size)")
            }
        case .dot: out.line(String(session.dot + 1))
        case .help, .helpWord: out.text(Self.helpText)
        case .version: out.line("Version 8.1.2 01/15/2001")
        case .quit: return .quit
        case .xit, .exit: return .exit
        default:
            out.line("mail: the \(command.rawValue) command is not supported by Tern")
        }
        return .continue
    }

    /// The message list, or nil after printing why there is none.
    private mutating func list(_ arguments: [String], deleted: Bool = false) -> [Int]? {
        switch session.messageList(arguments, deleted: deleted) {
        case .success(let list): return list
        case .failure(let error):
            out.line(error.text)
            return nil
        }
    }

    private mutating func next(_ arguments: [String]) -> Outcome {
        var list: [Int]?
        if !arguments.isEmpty {
            switch session.messageList(arguments) {
            case .success(let selected): list = selected
            case .failure(let error):
                out.line(error.text)
                return .continue
            }
        }
        return step(session.nextMessage(list), error: list == nil ? "At EOF" : "No messages applicable")
    }

    private mutating func step(_ target: Int?, error: String) -> Outcome {
        guard let target else {
            out.line(error)
            return .continue
        }
        show([target], allHeaders: false)
        return .continue
    }

    private mutating func show(_ list: [Int], allHeaders: Bool) {
        for index in list {
            session.touch(index)
            session.dot = index
            out.line("Message \(index + 1):")
            do {
                try folder.display(session.messages[index], ignoring: allHeaders ? [] : Self.ignoredFields) { bytes in
                    out.bytes(bytes)
                }
            } catch {
                warn(error.text)
            }
        }
    }

    private func headerTarget(_ arguments: [String]) -> Int? {
        guard let first = arguments.first, let number = Int(first), number >= 1, number <= session.messages.count
        else { return nil }
        return number - 1
    }

    mutating func showHeaders(around target: Int?) {
        let page = session.headerPage(around: target, size: pageSize)
        guard !page.isEmpty else {
            out.line("No applicable messages")
            return
        }
        for index in page { out.line(session.headerLine(index, width: width)) }
    }

    /// `save [list] file`, `copy` (not marked saved) and `write` (bodies only).
    private mutating func save(_ arguments: [String], bodyOnly: Bool, mark: Bool) {
        guard let name = arguments.last else {
            out.line("No file specified.")
            return
        }
        let target = Self.expand(name, home: home, environment: ProcessInfo.processInfo.environment)
        switch session.messageList(Array(arguments.dropLast())) {
        case .failure(let error): out.line(error.text)
        case .success(let list):
            var marked = session
            if mark { marked.markSaved(list) } else { list.forEach { marked.touch($0) } }
            let items = list.map { FolderWriter.Item(session.messages[$0], status: marked.status(of: $0)) }
            do {
                let existed = try writer.append(items, of: folder, to: target, bodyOnly: bodyOnly)
                session = marked
                out.line("\"\(target)\" \(existed ? "[Appended]" : "[New file]")")
            } catch {
                warn(error.text)
            }
        }
    }

    /// Problems with files go to stderr, after what stdout already has.
    private mutating func warn(_ text: String) {
        out.flush()
        FileHandle.standardError.write(Data("mail: \(text)\n".utf8))
    }

    /// `quit` and end of input: write the changes back, as mailx's `quit()` (system mailbox: read messages go
    /// to ~/mbox) or `edstop()` (a `-f` folder).
    mutating func quit() -> Int32 {
        let plan = session.quitPlan()
        let isSystem = session.isSystemMailbox
        if plan.changed {
            do {
                if !plan.toMbox.isEmpty {
                    let items = plan.toMbox.map { FolderWriter.Item(session.messages[$0.index], status: $0.status) }
                    try writer.append(items, of: folder, to: mboxPath)
                }
                let kept = plan.kept.map { FolderWriter.Item(session.messages[$0.index], status: $0.status) }
                if folder.format == .maildir {
                    try writer.rewriteMaildir(folder, keeping: kept)
                } else if try writer.rewrite(folder, keeping: kept) {
                    out.line("New mail has arrived.")
                }
            } catch {
                warn(error.text)
                return 1
            }
        }
        func count(_ n: Int) -> String { "\(n) message\(n == 1 ? "" : "s")" }
        if isSystem {
            if !plan.toMbox.isEmpty { out.line("Saved \(count(plan.toMbox.count)) in \(mboxPath)") }
            if !plan.kept.isEmpty { out.line("Held \(count(plan.kept.count)) in \(displayName)") }
        } else if plan.changed {
            out.line("\"\(displayName)\" \(plan.kept.isEmpty ? "truncated" : "complete")")
        }
        out.flush()
        return 0
    }

    static let helpText = """
        Mail Command\t\t\tDescription
        -------------------------\t--------------------------------------------
        t [message list]\t\ttype message(s).
        more [message list]\t\tread message(s) (no pager: same as type).
        n\t\t\t\tgoto and type next message.
        f [message list]\t\tgive head lines of messages.
        d [message list]\t\tdelete message(s).
        s [message list] <file>\t\tappend message(s) to file.
        w [message list] <file>\t\tappend message bodies to file.
        u [message list]\t\tundelete message(s).
        p [message list]\t\tprint message list.
        pre [message list]\t\tmake messages go back to /var/mail.
        mb [message list]\t\tmove messages to mbox on quit.
        q\t\t\t\tquit, saving unresolved messages in mbox.
        x\t\t\t\tquit, do not remove system mailbox.
        h\t\t\t\tprint out active message headers.
        z [-]\t\t\t\tshow the next (previous) screen of headers.
        =\t\t\t\tprint the current message number.

        A [message list] consists of integers, ranges of same, /subject, or
        user names separated by spaces.  If omitted, Mail uses the current message.
        <file> is a full or relative pathname, ~/file, or & (mbox file).

        """
}
