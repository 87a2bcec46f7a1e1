import Foundation
import Synchronization
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
    /// The main.cf settings, and per master.cf service (`-o` overrides) the smtpd settings.
    private let current: Mutex<(base: MTASettings, services: [String: MTASettings])>
    private let shuttingDown = Atomic<Bool>(false)

    init(settings: MTASettings, services: [String: MTASettings], log: MailLog, queue: QueueDirectory,
        queueManager: QueueManager)
    {
        self.log = log
        self.queue = queue
        self.queueManager = queueManager
        current = Mutex((settings, services))
    }

    var settings: MTASettings { current.withLock { $0.base } }

    /// The settings of a master.cf service (by its service key), falling back to main.cf's.
    func settings(service: String) -> MTASettings {
        current.withLock { $0.services[service] ?? $0.base }
    }

    func replaceSettings(_ settings: MTASettings, services: [String: MTASettings]) {
        current.withLock { $0 = (settings, services) }
    }

    var isShuttingDown: Bool { shuttingDown.load(ordering: .relaxed) }

    func beginShutdown() {
        shuttingDown.store(true, ordering: .relaxed)
    }

    /// Creates the queue file for a transaction that reached DATA and logs `ID: client=...` as smtpd does.
    func makeIncomingMessage(
        _ transaction: MailTransaction, settings: MTASettings, client: ClientIdentity, helo: String?,
        protocolName: String
    ) -> IncomingMessage? {
        let writer: QueueFileWriter
        do {
            writer = try QueueFileWriter.create(in: queue)
        } catch {
            log.warning("smtpd", "queue file create error: \(error)")
            return nil
        }
        let now = Date()
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
        let envelope = QueueEnvelope(
            arrivalMicroseconds: Int64(now.timeIntervalSince1970 * 1_000_000), sender: transaction.sender,
            recipients: recipients,
            client: ClientInfo(
                name: client.name, address: client.address, port: client.port, heloName: helo, protocolName: protocolName),
            envid: parameters.envelopeID, ret: parameters.ret,
            body: parameters.body, smtputf8: parameters.smtpUTF8)
        do {
            try writer.writeEnvelope(envelope)
        } catch {
            log.warning("smtpd", "queue file write error: \(error)")
            writer.abort()
            return nil
        }
        log.info("smtpd", "\(writer.queueID): client=\(client.logName)")
        let received = ReceivedHeader(
            heloName: helo, clientName: client.name, clientAddress: client.address, myHostname: settings.hostname,
            mailName: settings.mailName, protocolName: protocolName, queueID: writer.queueID.value,
            recipient: transaction.recipients.count == 1 ? transaction.recipients[0].address.text : nil,
            epochSeconds: Int(now.timeIntervalSince1970))
        let cleanup = Cleanup(
            queueID: writer.queueID, sender: transaction.sender, arrivalSeconds: Int(now.timeIntervalSince1970),
            prepend: received.lines,
            options: CleanupOptions(
                myHostname: settings.hostname,
                addMissingHeaders: settings.rewritesHeaders(client: IPAddress(client.address)),
                headerSizeLimit: settings.cleanup.headerSizeLimit, hopcountLimit: settings.cleanup.hopcountLimit,
                emptyAddress: settings.config.value("empty_address_recipient")))
        let manager = queueManager
        return IncomingMessage(writer: writer, cleanup: cleanup, log: log) { id in manager.queued(id) }
    }
}
