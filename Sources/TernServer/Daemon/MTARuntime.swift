import Foundation
import Synchronization
import NIOCore
public import TernCore
import TernMIME
import TernConfig
import TernPolicy
public import TernQueue
import TernSMTP

/// The shared state of a running MTA daemon: the current settings (replaced by `postfix reload`), the mail
/// log, the queue and its manager.
public final class MTARuntime: Sendable {
    public let log: MailLog
    public let queue: QueueDirectory
    let queueManager: QueueManager
    /// smtpd's client counters (Postfix's anvil service), shared by all smtpd services.
    let anvil: Anvil
    /// Queue files made ahead of time, so that DATA does not wait for a file to be created.
    let spareQueueFiles: SpareQueueFiles
    /// The main.cf settings, and per master.cf service (`-o` overrides) the smtpd settings.
    private let current: Mutex<(base: MTASettings, services: [String: MTASettings])>
    private let shuttingDown = Atomic<Bool>(false)

    init(settings: MTASettings, services: [String: MTASettings], log: MailLog, queue: QueueDirectory,
        queueManager: QueueManager)
    {
        self.log = log
        self.queue = queue
        self.queueManager = queueManager
        anvil = Anvil(timeUnit: settings.anvilTimeUnit)
        spareQueueFiles = SpareQueueFiles(directory: queue)
        current = Mutex((settings, services))
    }

    var settings: MTASettings { current.withLock { $0.base } }

    /// The settings of a master.cf service (by its service key), falling back to main.cf's.
    func settings(service: String) -> MTASettings {
        current.withLock { $0.services[service] ?? $0.base }
    }

    func replaceSettings(_ settings: MTASettings, services: [String: MTASettings]) {
        anvil.setTimeUnit(settings.anvilTimeUnit)
        current.withLock { $0 = (settings, services) }
    }

    var isShuttingDown: Bool { shuttingDown.load(ordering: .relaxed) }

    func beginShutdown() {
        shuttingDown.store(true, ordering: .relaxed)
    }

    /// The envelope cleanup starts from: the transaction's sender and recipients (plus always_bcc), with bare
    /// names qualified when no rewriting is configured (else `AddressRewriter.rewriteEnvelope` does it).
    func envelope(
        for transaction: MailTransaction, settings: MTASettings, client: ClientIdentity, helo: String?,
        protocolName: String, login: (method: String, username: String)? = nil, arrival: Date
    ) -> QueueEnvelope {
        var recipients = transaction.recipients.map { recipient in
            QueueRecipient(
                recipient.address,
                originalRecipient: recipient.parameters.originalRecipientGiven
                    ? MailAddress(recipient.parameters.originalRecipient.address) : nil,
                notify: recipient.parameters.notify ?? [],
                orcpt: recipient.parameters.originalRecipientGiven
                    ? "\(recipient.parameters.originalRecipient.addressType);\(recipient.parameters.originalRecipient.address)"
                    : nil)
        }
        if let bcc = settings.alwaysBcc, !recipients.contains(where: { $0.address == bcc }) {
            recipients.append(QueueRecipient(bcc, notify: .never))
        }
        let parameters = transaction.parameters
        var envelope = QueueEnvelope(
            arrivalMicroseconds: Int64(arrival.timeIntervalSince1970 * 1_000_000), sender: transaction.sender,
            recipients: recipients,
            client: ClientInfo(
                name: client.name, address: client.address, port: client.port, heloName: helo, protocolName: protocolName),
            saslMethod: login?.method, saslUsername: login?.username, envid: parameters.envelopeID, ret: parameters.ret,
            body: parameters.body, smtputf8: parameters.smtpUTF8)
        if !settings.addressRewriter.isConfigured { settings.addressRewriter.qualifyEnvelope(&envelope) }
        return envelope
    }

    /// `, sasl_method=PLAIN, sasl_username=user` after `client=host[addr]`, as Postfix's smtpd logs it.
    static func loginLogText(_ envelope: QueueEnvelope) -> String {
        guard let method = envelope.saslMethod, let username = envelope.saslUsername else { return "" }
        return ", sasl_method=\(method), sasl_username=\(username)"
    }

    /// smtpd_sasl_authenticated_header: `(Authenticated sender: user)` under the Received: `from` line.
    private func authenticatedSenderComment(_ envelope: QueueEnvelope, _ settings: MTASettings) -> [String] {
        guard settings.sasl?.authenticatedHeader == true, let username = envelope.saslUsername else { return [] }
        return ["Authenticated sender: \(username)"]
    }

    /// Creates the queue file for an envelope (rewritten unless `rewriteError`) and logs `ID: client=...` as
    /// smtpd does. A rewrite error lets the client send the message and refuses it at the end, as cleanup does.
    func makeIncomingMessage(
        _ envelope: QueueEnvelope, transaction: MailTransaction, rewriteError: RewriteError?, settings: MTASettings,
        client: ClientIdentity, helo: String?, protocolName: String, tlsComments: [String] = [],
        eventLoop: any EventLoop, actions: MessageActions = MessageActions()
    ) -> IncomingMessage? {
        let writer: QueueFileWriter
        do {
            writer = try QueueFileWriter.create(in: queue, spares: spareQueueFiles)
        } catch {
            log.warning("smtpd", "queue file create error: \(error)")
            return nil
        }
        do {
            try writer.writeEnvelope(envelope)
        } catch {
            log.warning("smtpd", "queue file write error: \(error)")
            writer.abort()
            return nil
        }
        log.info("smtpd", "\(writer.queueID): client=\(client.logName)\(Self.loginLogText(envelope))")
        if let rewriteError { log.warning("cleanup", "\(writer.queueID): \(rewriteError.logText)") }
        let arrival = envelope.arrivalSeconds
        let received = ReceivedHeader(
            heloName: helo, clientName: client.name, clientAddress: client.address, myHostname: settings.hostname,
            mailName: settings.mailName, protocolName: protocolName, queueID: writer.queueID.value,
            recipient: transaction.recipients.count == 1 ? transaction.recipients[0].address.text : nil,
            epochSeconds: arrival, comments: tlsComments + authenticatedSenderComment(envelope, settings))
        // Header addresses are rewritten only for local_header_rewrite_clients, as Postfix 2.2 and later do.
        let clientAddress = IPAddress(client.address)
        let rewritesHeaders = settings.rewritesHeaders(client: clientAddress)
        let headerRewriter = rewritesHeaders && settings.addressRewriter.rewritesHeaders ? settings.addressRewriter : nil
        let inspector = settings.contentChecks.isEmpty
            ? nil
            : ContentInspector(
                checks: settings.contentChecks, queueID: writer.queueID,
                origin: ContentCheckOrigin(
                    client: client.logName, sender: envelope.sender.text,
                    recipient: transaction.recipients.last?.address.text, protocolName: envelope.client?.protocolName,
                    helo: helo))
        let cleanup = Cleanup(
            queueID: writer.queueID, sender: envelope.sender, arrivalSeconds: arrival,
            prepend: actions.prepend + received.lines.flatMap { $0.split(separator: "\n").map(String.init) },
            options: CleanupOptions(
                myHostname: settings.hostname, addMissingHeaders: settings.addsMissingHeaders(client: clientAddress),
                headerSizeLimit: settings.cleanup.headerSizeLimit, hopcountLimit: settings.cleanup.hopcountLimit,
                emptyAddress: settings.config.value("empty_address_recipient"),
                qualifyDomain: rewritesHeaders ? settings.myorigin : nil, holdHeaders: headerRewriter != nil),
            inspector: inspector)
        let manager = queueManager
        return IncomingMessage(
            writer: writer, cleanup: cleanup, headerRewriter: headerRewriter, rejection: rewriteError?.reply,
            policyDisposition: MessageDisposition(hold: actions.hold, discard: actions.discard, filter: actions.filter),
            queue: queue, eventLoop: eventLoop, log: log
        ) { id in manager.queued(id) }
    }
}
