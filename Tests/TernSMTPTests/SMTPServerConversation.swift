import TernCore

@testable import TernSMTP

/// Plays the driver for state machine tests: frames raw client bytes, answers lookups with
/// simple policies, runs DATA through a DataReceiver, and records the wire output.
struct SMTPServerConversation {
    var machine: SMTPServerStateMachine
    var framer: SMTPLineFramer
    var output: [String] = []
    var pauses = 0
    var closed = false
    var queued: [(MailTransaction, [UInt8])] = []
    var warnings: [SMTPServerWarning] = []
    var dataReceiver: DataReceiver?
    var dataContent: [UInt8] = []
    /// Recipients (internal form) the "recipient table" knows; others get 550 5.1.1.
    var knownRecipients: Set<String> = ["accuser1@acc.test", "accuser2@acc.test", "root"]
    var queueIDs = 0

    init(_ configuration: SMTPServerConfiguration) {
        machine = SMTPServerStateMachine(configuration: configuration)
        framer = SMTPLineFramer(lineLengthLimit: configuration.lineLengthLimit)
        perform(machine.connected())
    }

    static func standard(_ adjust: (inout SMTPServerConfiguration) -> Void = { _ in }) -> SMTPServerConversation {
        var configuration = SMTPServerConfiguration(hostname: "mail.acc.test", banner: "mail.acc.test ESMTP Tern")
        adjust(&configuration)
        return SMTPServerConversation(configuration)
    }

    /// Sends raw bytes; returns the replies written in response (wire text, one string per reply).
    @discardableResult
    mutating func send(_ text: String) -> [String] {
        let before = output.count
        feed(Array(text.utf8))
        return Array(output[before...])
    }

    /// Sends one command line; returns the replies.
    @discardableResult
    mutating func command(_ line: String) -> [String] { send(line + "\r\n") }

    /// The first line of the single reply to `line`, e.g. `250 2.1.0 Ok`.
    mutating func reply(_ line: String) -> String {
        let replies = command(line)
        return replies.first.map { String($0.split(separator: "\r\n").first ?? "") } ?? "<none>"
    }

    private mutating func feed(_ bytes: [UInt8]) {
        guard !closed else { return }
        if dataReceiver != nil {
            feedData(bytes)
            return
        }
        framer.append(bytes)
        while !closed, dataReceiver == nil, machine.isAwaitingInput, let line = framer.next() {
            perform(machine.receive(line))
        }
        if dataReceiver != nil { feedData(framer.takeBufferedBytes()) }
    }

    private mutating func feedData(_ bytes: [UInt8]) {
        guard var receiver = dataReceiver else { return }
        let result = receiver.receive(bytes)
        dataReceiver = receiver
        dataContent += result.content
        if let end = result.end {
            dataReceiver = nil
            perform(machine.dataEnded(sizeExceeded: end.sizeExceeded))
            feed(end.remaining)
        }
    }

    private mutating func perform(_ actions: [SMTPServerAction]) {
        for action in actions {
            switch action {
            case .send(let reply): output.append(reply.encodedString)
            case .pause: pauses += 1
            case .close: closed = true
            case .log(let warning): warnings.append(warning)
            case .checkSender:
                perform(machine.senderChecked(.accepted))
            case .checkRecipient(let check):
                if knownRecipients.contains(check.recipient.address.text) {
                    perform(machine.recipientChecked(.accepted))
                } else {
                    let text = "550 5.1.1 \(check.recipient.originalText): Recipient address rejected: User unknown"
                    perform(machine.recipientChecked(.rejected(SMTPReply(parsing: text)!)))
                }
            case .verifyAddress(let request):
                if knownRecipients.contains(request.address.text) {
                    perform(machine.verifyChecked(.accepted))
                } else {
                    let text = "550 5.1.1 <\(request.text)>: Recipient address rejected: User unknown"
                    perform(machine.verifyChecked(.rejected(SMTPReply(parsing: text)!)))
                }
            case .runETRN(let domain):
                perform(machine.etrnFinished(SMTPReply(code: 459, "<\(domain)>: service unavailable")))
            case .receiveData:
                dataReceiver = machine.makeDataReceiver()
                dataContent = []
            case .queueMessage(let transaction):
                queued.append((transaction, dataContent))
                queueIDs += 1
                perform(machine.messageQueued(QueueID("0C261A1F\(queueIDs)A")!))
            case .abortMessage: dataContent = []
            case .startTLS: perform(machine.tlsEstablished())
            case .authenticate:
                perform(
                    machine.authenticationFinished(
                        reply: SMTPReply(code: 235, enhancedStatus: "2.7.0", "Authentication successful"), username: "u"
                    ))
            }
        }
    }
}
