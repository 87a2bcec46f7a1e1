import Foundation
import TernConfig
import TernCore
import TernSMTP
import TernServer

/// `sendmail -bs`: an SMTP conversation on stdin/stdout (the local submission mode some programs use),
/// Postfix's smtpd in stand-alone mode. The client is local, so every recipient is accepted; each message
/// goes to maildrop/ like any sendmail submission.
struct SendmailSMTP {
    let config: MainConfig

    func run() -> Int32 {
        var machine = SMTPServerStateMachine(
            configuration: SMTPServerConfiguration(hostname: config.value("myhostname"), banner: config.value("smtpd_banner")))
        var framer = SMTPLineFramer(lineLengthLimit: config.int("line_length_limit") ?? 2048)
        var data: DataReceiver?
        var records: [DataReceiver.Record] = []
        var pending = machine.connected()
        var output: [UInt8] = []
        var closing = false
        let input = FileHandle.standardInput

        func feedData(_ bytes: [UInt8]) {
            guard var receiver = data else { return }
            let result = receiver.receive(bytes)
            data = receiver
            records += result.records
            if let end = result.end {
                data = nil
                framer.append(end.remaining)
                pending += machine.dataEnded(sizeExceeded: end.sizeExceeded)
            }
        }

        while true {
            if !pending.isEmpty {
                switch pending.removeFirst() {
                case .send(let reply): output += reply.encoded
                case .close: closing = true
                case .checkSender: pending += machine.senderChecked(.accepted)
                case .checkRecipient: pending += machine.recipientChecked(.accepted)
                case .checkHelo: pending += machine.heloChecked(.accepted)
                case .checkData: pending += machine.dataChecked(.accepted)
                case .verifyAddress(let request):
                    pending += machine.verifyChecked(.rejected(SMTPReply(code: 252, enhancedStatus: "2.0.0", request.text)))
                case .runETRN: pending += machine.etrnFinished(.etrnQueuingStarted)
                // Stand-alone smtpd applies no anvil limits (Postfix's SMTPD_STAND_ALONE).
                case .checkEventRate: pending += machine.eventRateChecked(.accepted)
                case .receiveData:
                    data = machine.makeDataReceiver()
                    records = []
                    feedData(framer.takeBufferedBytes())
                case .queueMessage(let transaction):
                    switch queue(transaction, records) {
                    case .success(let id): pending += machine.messageQueued(id)
                    case .failure(let reply): pending += machine.messageRejected(reply)
                    }
                    records = []
                case .abortMessage: records = []
                case .pause, .log, .startTLS, .startSASL, .continueSASL: break
                }
                continue
            }
            if closing { break }
            if data == nil, machine.isAwaitingInput, let line = framer.next() {
                pending = machine.receive(line)
                continue
            }
            FileHandle.standardOutput.write(Data(output))
            output.removeAll()
            let chunk = input.availableData
            if chunk.isEmpty { break }
            if data != nil { feedData(Array(chunk)) } else { framer.append(Array(chunk)) }
        }
        FileHandle.standardOutput.write(Data(output))
        return 0
    }

    private func queue(_ transaction: MailTransaction, _ records: [DataReceiver.Record]) -> Result<QueueID, SMTPReply> {
        // Split long lines come back whole; cleanup works on lines.
        var lines: [[UInt8]] = []
        var current: [UInt8] = []
        for record in records {
            current += record.bytes
            if !record.continues {
                lines.append(current)
                current = []
            }
        }
        if !current.isEmpty { lines.append(current) }
        var options = SendmailCommand.Options()
        options.sender = transaction.sender.text.isEmpty ? "<>" : transaction.sender.text
        options.recipients = transaction.recipients.map(\.address.text)
        do {
            let id = try SendmailCommand.submit(lines: lines, options: options, config: config)
            _ = QueueTrigger.send(.wakeup, queueDirectory: config.value("queue_directory"))
            return .success(id)
        } catch {
            return .failure(SMTPReply(code: 451, enhancedStatus: "4.3.0", "Error: queue file write error"))
        }
    }
}
