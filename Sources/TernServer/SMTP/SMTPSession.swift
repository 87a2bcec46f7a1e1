import Foundation
import Synchronization
import NIOCore
import TernCore
import TernSMTP

/// Drives one SMTP connection: bytes in through the framer or the DATA receiver, the state machine decides,
/// this carries out its actions (policy checks, queue file writing) and writes the replies. Replies to
/// pipelined commands are sent together once the buffered input is used up (RFC 2920).
struct SMTPSession {
    let runtime: MTARuntime
    let settings: MTASettings
    let client: ClientIdentity
    let connection: TCPListener.Connection
    let activity: SessionActivity

    private var machine: SMTPServerStateMachine
    private var framer: SMTPLineFramer
    private var data: DataReceiver?
    private var message: IncomingMessage?
    private var output: [UInt8] = []
    private var closing = false
    private var lastCommand = "CONNECT"

    init(
        runtime: MTARuntime, settings: MTASettings, client: ClientIdentity, connection: TCPListener.Connection,
        activity: SessionActivity
    ) {
        self.activity = activity
        self.runtime = runtime
        self.settings = settings
        self.client = client
        self.connection = connection
        machine = SMTPServerStateMachine(configuration: settings.smtpd)
        framer = SMTPLineFramer(lineLengthLimit: settings.smtpd.lineLengthLimit)
    }

    mutating func run() async {
        let log = runtime.log
        log.info("smtpd", "connect from \(client.logName)")
        do {
            try await connection.executeThenClose { inbound, outbound in
                var pending = machine.connected()
                var iterator = inbound.makeAsyncIterator()
                while !closing {
                    if !pending.isEmpty {
                        let action = pending.removeFirst()
                        pending += await perform(action)
                        continue
                    }
                    if data == nil, machine.isAwaitingInput, let line = framer.next() {
                        lastCommand = Self.verb(of: line)
                        pending = machine.receive(line)
                        continue
                    }
                    if !output.isEmpty {
                        try await outbound.write(ByteBuffer(bytes: output))
                        output.removeAll(keepingCapacity: true)
                    }
                    if runtime.isShuttingDown && data == nil && machine.transaction == nil {
                        output += Array("421 4.3.2 \(settings.hostname) Service shutting down\r\n".utf8)
                        try await outbound.write(ByteBuffer(bytes: output))
                        break
                    }
                    guard let chunk = try await iterator.next() else {
                        let timedOut = (try? await connection.channel.pipeline.handler(type: IdleTimeoutHandler.self)
                            .get())?.timedOut ?? false
                        log.info(
                            "smtpd", "\(timedOut ? "timeout" : "lost connection") after \(lastCommand) from \(client.logName)")
                        break
                    }
                    pending = await receive(Array(chunk.readableBytesView))
                }
                if !output.isEmpty { try? await outbound.write(ByteBuffer(bytes: output)) }
            }
        } catch {
            log.info("smtpd", "lost connection after \(lastCommand) from \(client.logName): \(error)")
        }
        message?.abort()
        log.info("smtpd", "disconnect from \(client.logName) \(machine.disconnectLogText)")
    }

    /// Input bytes: DATA content goes to the receiver (and the queue file); commands to the framer.
    private mutating func receive(_ bytes: [UInt8]) async -> [SMTPServerAction] {
        guard var receiver = data else {
            framer.append(bytes)
            return []
        }
        let result = receiver.receive(bytes)
        data = receiver
        message?.write(result.records)
        guard let end = result.end else { return [] }
        data = nil
        framer.append(end.remaining)
        return machine.dataEnded(sizeExceeded: end.sizeExceeded)
    }

    private mutating func perform(_ action: SMTPServerAction) async -> [SMTPServerAction] {
        switch action {
        case .send(let reply):
            output += reply.encoded
            return []
        case .pause(let seconds):
            try? await Task.sleep(for: .seconds(seconds))
            return []
        case .close:
            closing = true
            return []
        case .log(let warning):
            runtime.log.info("smtpd", warning.logText(client: client.logName))
            return []
        case .checkSender:
            return machine.senderChecked(.accepted)
        case .checkRecipient(let check):
            let result = await RecipientPolicy(settings: settings, client: client).check(check.recipient.address)
            if case .rejected(let reply) = result {
                runtime.log.info(
                    "smtpd",
                    "NOQUEUE: reject: RCPT from \(client.logName): \(reply.description); from=<\(check.transaction.sender.text)> to=<\(check.recipient.address.text)> proto=\(machine.protocolName) helo=<\(check.heloName ?? "")>")
            }
            return machine.recipientChecked(result)
        case .verifyAddress(let request):
            let result = await RecipientPolicy(settings: settings, client: client).verify(request)
            return machine.verifyChecked(result)
        case .runETRN(let domain):
            runtime.queueManager.trigger(.flush)
            _ = domain
            return machine.etrnFinished(SMTPReply(code: 250, "Queuing started"))
        case .receiveData(let transaction):
            message = runtime.makeIncomingMessage(transaction, settings: settings, client: client, helo: machine.heloName,
                protocolName: machine.protocolName)
            activity.receivingMessage.store(true, ordering: .relaxed)
            data = machine.makeDataReceiver()
            // Pipelined content that arrived with the DATA command belongs to the message.
            return await receive(framer.takeBufferedBytes())
        case .queueMessage:
            defer { activity.receivingMessage.store(false, ordering: .relaxed) }
            guard let incoming = message else { return machine.messageRejected(.queueFileWriteError) }
            message = nil
            switch await incoming.commit() {
            case .success(let id):
                return machine.messageQueued(id)
            case .failure(let reply):
                return machine.messageRejected(reply)
            }
        case .abortMessage:
            activity.receivingMessage.store(false, ordering: .relaxed)
            message?.abort()
            message = nil
            return []
        case .startTLS, .authenticate:
            return []
        }
    }

    /// The command word of a framed line, for `lost connection after VERB` log lines.
    static func verb(of line: FramedLine) -> String {
        let word = line.bytes.prefix { $0 != UInt8(ascii: " ") }.prefix(16)
        return String(decoding: word, as: UTF8.self).uppercased()
    }
}

extension SMTPReply {
    /// cleanup could not write the queue file (disk full, I/O error): Postfix's `451 4.3.0`.
    static let queueFileWriteError = SMTPReply(code: 451, enhancedStatus: "4.3.0", "Error: queue file write error")
}
