import TernCore
public import TernMIME

/// `postqueue -p` / `mailq`: the listing Postfix's showq(8) and postqueue's showq_compat produce, byte for
/// byte (short queue ID layout):
///
///     -Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------
///     0C261A1F0F*     345 Mon Sep  2 10:00:00  sender@example.com
///                                                   (connect to mx.example[192.0.2.1]:25: Connection refused)
///                                              rcpt@example.net
///
///     -- 0 Kbytes in 1 Request.
///
/// `*` marks the active queue, `!` the hold queue. Reasons come from the defer log; a reason line is printed
/// when it differs from the previous recipient's, right-aligned to column 76.
public enum QueueListing {
    /// Queues in showq's scan order.
    static let queues: [QueueName] = [.maildrop, .incoming, .active, .deferred, .hold]

    public static func render(
        queue: QueueDirectory, emptyAddress: String = "MAILER-DAEMON", zone: MailTimeZone = .local
    ) -> ToolResult {
        var result = ToolResult()
        var count = 0
        var totalSize = 0
        let deferLog = DeliveryStatusLog(queue: queue, kind: .defer)
        for name in queues {
            let ids: [QueueID]
            do { ids = try queue.list(name) } catch { continue }
            for id in ids {
                guard let path = queue.existingPath(name, id),
                    let file = try? QueueFile.open(path: path, writable: false)
                else { continue }  // not committed yet, vanished, or corrupt: showq skips it too
                result.out(count == 0 ? header() : "\n")
                count += 1
                totalSize += file.contentLength
                result.out(entry(file: file, id: id, queue: name, deferLog: deferLog, emptyAddress: emptyAddress, zone: zone))
            }
        }
        if count == 0 {
            result.out("Mail queue is empty\n")
        } else {
            result.out("\n-- \(totalSize / 1024) Kbytes in \(count) Request\(count == 1 ? "" : "s").\n")
        }
        return result
    }

    static func header() -> String {
        line("-Queue ID-", "--Size--", "----Arrival Time----", "-Sender/Recipient-------")
    }

    /// S_STRING_FORMAT `%-11s %7s %-20s %s\n`.
    static func line(_ a: String, _ b: String, _ c: String, _ d: String) -> String {
        "\(left(a, 11)) \(right(b, 7)) \(left(c, 20)) \(d)\n"
    }

    static func entry(
        file: QueueFile, id: QueueID, queue: QueueName, deferLog: DeliveryStatusLog, emptyAddress: String,
        zone: MailTimeZone
    ) -> String {
        let flag = queue == .active ? "*" : queue == .hold ? "!" : ""
        let sender = file.envelope.sender.isNull ? emptyAddress : display(file.envelope.sender.text)
        // asctime() cut to 20 characters keeps its trailing space: two spaces before the sender.
        let arrival = String((MailDate.asctime(epochSeconds: file.envelope.arrivalSeconds, zone: zone) + "\n").prefix(20))
        var text = "\(left(id.value + flag, 11)) \(right(String(file.contentLength), 7)) \(arrival) \(sender)\n"

        // Defer-log recipients first (with reasons), then the other pending recipients (no reason).
        var pairs: [(String, String)] = []
        var listed = Set<String>()
        for entry in (try? deferLog.read(id)) ?? [] {
            if let i = entry.recipientIndex, i < file.envelope.recipients.count, file.status(of: i).isDone { continue }
            let address = display(entry.recipient)
            listed.insert(address)
            pairs.append((address, entry.reason))
        }
        for i in file.pendingRecipients {
            let address = display(file.envelope.recipients[i].address.text)
            if !listed.contains(address) { pairs.append((address, "")) }
        }
        var savedReason = ""
        for (address, reason) in pairs {
            if reason != savedReason {
                savedReason = reason
                let shown = reason.isEmpty ? "reason unavailable" : reason
                text += String(repeating: " ", count: max(0, 76 - shown.utf8.count)) + "(\(shown))\n"
            }
            text += line("", "", "", address)
        }
        return text
    }

    static func display(_ address: String) -> String {
        AddressQuoting.printable(AddressQuoting.quoteLocalPart(address.isEmpty ? "" : address))
    }

    static func left(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }

    static func right(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
    }
}
