import Foundation
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
    /// A HELO name smtpd_helo_restrictions reject, and whether smtpd_data_restrictions reject DATA.
    var rejectedHelo: String?
    var rejectData = false
    /// Bytes that followed STARTTLS in the same read and were thrown away.
    var discarded: [UInt8] = []
    /// The auth server's side of the current SASL exchange.
    var saslServer = FakeSASLServer(mechanism: "PLAIN")
    /// A stand-in for anvil: per event the limit and the count so far (STARTTLS only reads its count).
    var eventLimits: [SMTPClientEvent: Int] = [:]
    var eventCounts: [SMTPClientEvent: Int] = [:]

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
        while !closed, dataReceiver == nil, machine.isAwaitingInput {
            framer.lineLengthLimit = machine.inputLineLimit
            guard let line = framer.next() else { break }
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

    private mutating func answer(_ outcome: FakeSASLServer.Outcome) -> [SMTPServerAction] {
        switch outcome {
        case .challenge(let text): machine.saslChallenge(text)
        case .ok(let user): machine.saslSucceeded(username: user)
        case .fail(let user): machine.saslFailed(reason: nil, username: user, temporary: false)
        case .unreachable:
            machine.saslFailed(reason: "Connection lost to authentication server", username: nil, temporary: true)
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
            case .checkHelo(let name):
                perform(machine.heloChecked(rejectedHelo == name ? .rejected(SMTPReply(code: 554, enhancedStatus: "5.7.1", "<\(name)>: Helo command rejected: Access denied")) : .accepted))
            case .checkData:
                perform(machine.dataChecked(rejectData ? .rejected(SMTPReply(code: 554, enhancedStatus: "5.7.1", "<DATA>: Data command rejected: Access denied")) : .accepted))
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
            case .startTLS:
                // As the driver must (CVE-2011-0411): plaintext pipelined after STARTTLS is dropped.
                discarded += framer.takeBufferedBytes()
                perform(machine.tlsEstablished())
            case .startSASL(let mechanism, let initialResponse):
                saslServer = FakeSASLServer(mechanism: mechanism)
                perform(answer(saslServer.step(initialResponse)))
            case .continueSASL(let response):
                perform(answer(saslServer.step(response)))
            case .checkEventRate(let event):
                if event != .startTLS { eventCounts[event, default: 0] += 1 }
                let over = eventCounts[event, default: 0] > eventLimits[event, default: Int.max]
                let refusal = SMTPReply(code: 450, enhancedStatus: "4.7.1", "Error: too many \(event) from 192.0.2.1")
                perform(machine.eventRateChecked(over ? .rejected(refusal) : .accepted))
            }
        }
    }
}

/// Dovecot's PLAIN and LOGIN as far as the state machine tests need them: user `alice`, password `secret`;
/// user `down` stands for an auth server that went away.
struct FakeSASLServer {
    enum Outcome: Equatable {
        case challenge(String)
        case ok(String)
        case fail(String?)
        /// The connection to the auth server broke down.
        case unreachable
    }

    let mechanism: String
    var username: String?

    init(mechanism: String) { self.mechanism = mechanism }

    /// One client response in base64 (nil: none was given with AUTH).
    mutating func step(_ response: String?) -> Outcome {
        guard let response else { return .challenge(mechanism == "LOGIN" ? "VXNlcm5hbWU6" : "") }
        let bytes = Array(Data(base64Encoded: response) ?? Data())
        if mechanism == "LOGIN" {
            guard let username else {
                username = String(decoding: bytes, as: UTF8.self)
                return .challenge("UGFzc3dvcmQ6")
            }
            return verify(username, String(decoding: bytes, as: UTF8.self))
        }
        let parts = bytes.split(separator: 0, omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        guard parts.count == 3 else { return .fail(nil) }
        return verify(parts[1], parts[2])
    }

    private func verify(_ user: String, _ password: String) -> Outcome {
        if user == "down" { return .unreachable }
        return user == "alice" && password == "secret" ? .ok(user) : .fail(user)
    }
}
