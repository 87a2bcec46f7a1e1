import Glibc
public import TernCore

/// `postsuper [-c dir] [-d ID|ALL|-] [-h ID|ALL|-] [-H ID|ALL|-] [-r ID|ALL|-] [-p] [-s] [queue...]` with
/// Postfix 3.7's messages on stderr (`postsuper: 0C261A1F0F: removed`, `postsuper: Deleted: 1 message`).
/// Per-ID operations report each message; `ALL` reports only the totals. A total is printed for every
/// requested operation, also when it is 0. Safe while the daemon runs: each step is one rename or unlink
/// (docs/queue-format.md, "Concurrency").
public enum PostSuper {
    static let usage =
        "usage: postsuper [-c config_dir] [-d queue_id (delete)] [-h queue_id (hold)] [-H queue_id (un-hold)] "
        + "[-p (purge temporary files)] [-r queue_id (requeue)] [-s (structure fix)] [-v (verbose)] [queue...]"

    /// Queues postsuper works on by default (log queues first, as Postfix orders them).
    static let defaultQueues: [QueueName] = [.defer, .bounce, .maildrop, .incoming, .active, .deferred, .hold, .flush]
    static let defaultHoldQueues: [QueueName] = [.incoming, .active, .deferred]

    /// Incomplete files older than this are removed by -p (Postfix's MAX_TEMP_AGE).
    static let maxTemporaryAge = 60 * 60 * 24

    /// - Parameter standardInput: supplies the IDs for an ID argument of `-` (one per line).
    public static func run(arguments: [String], queue: QueueDirectory, standardInput: () -> String = { "" }) -> ToolResult {
        var result = ToolResult()
        let options: [(Character, String?)]
        let operands: [String]
        do {
            (options, operands) = try GetOpt.parse(arguments, spec: "c:d:h:H:pr:sv")
        } catch {
            return ToolResult.fatal("postsuper", usage, partial: ToolResult(stderr: GetOpt.message("postsuper", error)))
        }
        var queues: [QueueName] = []
        for name in operands {
            guard let q = QueueName(rawValue: name) else {
                return ToolResult.fatal("postsuper", "invalid directory name: \(name)")
            }
            queues.append(q)
        }
        var ids: [Character: [String]] = [:]
        var purge = false
        var structure = false
        for (letter, value) in options {
            switch letter {
            case "d", "h", "H", "r": ids[letter, default: []].append(value ?? "")
            case "p": purge = true
            case "s": structure = true
            default: break
            }
        }
        var stdinIDs: [String]?
        func expand(_ list: [String]) -> [String] {
            list.flatMap { id -> [String] in
                guard id == "-" else { return [id] }
                if stdinIDs == nil { stdinIDs = standardInput().split(separator: "\n").map(String.init) }
                return stdinIDs!
            }
        }
        func say(_ text: String) {
            result.stderr += "postsuper: \(text)\n"
            result.logMessages.append(text)
        }
        for letter: Character in ["d", "r", "h", "H"] where ids[letter]?.contains("ALL") == true && ids[letter]!.count > 1 {
            result.stderr += "postsuper: warning: option \"-\(letter) ALL\" will ignore other command line queue IDs\n"
            ids[letter] = ["ALL"]
        }
        let all = { (letter: Character) in ids[letter] == ["ALL"] }
        var counts: [Character: Int] = [:]

        if structure { fixStructure(queue, queues.isEmpty ? defaultQueues : queues) }
        if purge { purgeTemporary(queue, queues.isEmpty ? defaultQueues : queues) }
        if all("d") { counts["d"] = deleteAll(queue, queues.isEmpty ? defaultQueues + [.trace] : queues) }
        if all("r") {
            counts["r"] = moveAll(queue, from: (queues.isEmpty ? defaultQueues : queues).filter { $0.holdsMessages && $0 != .maildrop }, to: .maildrop)
        }
        if all("h") {
            counts["h"] = moveAll(queue, from: (queues.isEmpty ? defaultHoldQueues : queues).filter { $0.holdsMessages && $0 != .maildrop && $0 != .hold }, to: .hold)
        }
        if all("H") { counts["H"] = moveAll(queue, from: (queues.isEmpty ? [.hold] : queues).filter { $0 == .hold }, to: .deferred) }

        let byID: [(Character, String, ([QueueName], QueueID) throws(QueueError) -> Bool)] = [
            ("d", "removed", { (q, id) throws(QueueError) in try queue.delete(id, in: q.filter(\.holdsMessages)) }),
            ("r", "requeued", { (q, id) throws(QueueError) in try queue.requeue(id, from: q) }),
            ("h", "placed on hold", { (q, id) throws(QueueError) in try queue.hold(id, from: q) }),
            ("H", "released from hold", { (q, id) throws(QueueError) in q.contains(.hold) ? try queue.release(id) : false }),
        ]
        for (letter, verb, operation) in byID {
            guard let list = ids[letter], !all(letter) else { continue }
            let searched = queues.isEmpty ? (letter == "h" ? defaultHoldQueues : letter == "H" ? [.hold] : defaultQueues) : queues
            var n = counts[letter] ?? 0
            for text in expand(list) where text != "ALL" {
                guard let id = QueueID(text), !text.contains("/") else {
                    result.stderr += "postsuper: warning: invalid mail queue id: \(text)\n"
                    continue
                }
                do {
                    if try operation(searched, id) {
                        n += 1
                        say("\(id.value): \(verb)")
                    }
                } catch {
                    return ToolResult.fatal("postsuper", error.message, partial: result)
                }
            }
            counts[letter] = n
        }
        for (letter, label) in [("r", "Requeued"), ("d", "Deleted"), ("h", "Placed on hold"), ("H", "Released from hold")]
        where counts[Character(letter)] != nil {
            let n = counts[Character(letter)]!
            say("\(label): \(n) message\(n == 1 ? "" : "s")")
        }
        return result
    }

    private static func files(_ queue: QueueDirectory, _ name: QueueName) -> [(QueueID, String)] {
        ((try? queue.list(name)) ?? []).compactMap { id in queue.existingPath(name, id).map { (id, $0) } }
    }

    /// -d ALL: removes every file in the queues (message files are counted, logs just go).
    private static func deleteAll(_ queue: QueueDirectory, _ queues: [QueueName]) -> Int {
        var n = 0
        for name in queues {
            for (_, path) in files(queue, name) where unlink(path) == 0 && name.holdsMessages { n += 1 }
            try? FileSystem.fsyncDirectory("\(queue.path)/\(name.rawValue)")
        }
        return n
    }

    private static func moveAll(_ queue: QueueDirectory, from queues: [QueueName], to target: QueueName) -> Int {
        var n = 0
        for name in queues {
            for (id, _) in files(queue, name) {
                do {
                    try queue.move(id, from: name, to: target)
                    if target == .maildrop { utime(queue.filePath(.maildrop, id), nil) }
                    n += 1
                } catch {
                    continue  // the daemon moved it first
                }
            }
        }
        return n
    }

    /// -s: puts files at the hash depth the current hash_queue_names asks for.
    private static func fixStructure(_ queue: QueueDirectory, _ queues: [QueueName]) {
        for name in queues {
            for (id, path) in files(queue, name) where path != queue.filePath(name, id) {
                if queue.hashedQueues.contains(name) { try? FileSystem.makeDirectory(queue.directoryPath(name, id), mode: 0o700) }
                rename(path, queue.filePath(name, id))
            }
        }
    }

    /// -p: removes incomplete files (no completion mark) older than a day from message queues.
    private static func purgeTemporary(_ queue: QueueDirectory, _ queues: [QueueName]) {
        let now = Int(time(nil))
        for name in queues where name.holdsMessages {
            for (_, path) in files(queue, name) {
                var st = stat()
                guard stat(path, &st) == 0, now - Int(st.st_mtim.tv_sec) > maxTemporaryAge else { continue }
                do {
                    _ = try QueueFile.open(path: path, writable: false)
                } catch where error.kind == .incomplete {
                    unlink(path)
                } catch {}
            }
        }
    }
}
