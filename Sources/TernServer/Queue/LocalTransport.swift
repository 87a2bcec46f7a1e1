import Foundation
import TernCore
import TernDelivery

/// The local(8) and virtual(8) delivery agents: resolve a recipient (aliases, .forward, mailbox choice) and
/// carry out each resulting instruction through the `DeliveryExecutor`.
struct LocalTransport: Sendable {
    let resolver: LocalRecipientResolver
    let virtualResolver: VirtualMailboxResolver
    let executor: any DeliveryExecutor
    let hostname: String
    let mailboxSizeLimit: Int
    let commandTimeLimit: Int
    let spoolDirectory: String
    let lockPolicy: MailboxLockPolicy
    let log: MailLog

    /// One delivery job: the message's queue file and envelope facts.
    struct Job: Sendable {
        var queueFile: String
        var contentOffset: Int
        var contentLength: Int
        var sender: MailAddress
        var recipient: MailAddress
        var originalRecipient: String?
        var deliveredTo: [String]
        var client: [String: String]
        /// Identifies this delivery for crash-safe Maildir names: `<arrival>.Q<queue ID>R<recipient index>`.
        var deliveryName: String
        /// The previous attempt was cut off by a crash: look for its copy before writing again.
        var interrupted: Bool
    }

    /// Delivers to a recipient in a local domain. Returns the outcomes to log (one per instruction) and the
    /// addresses to forward to.
    /// `handoff` carries out mailbox_transport / fallback_transport (deliver_pass): the named transport
    /// delivers the resolved recipient.
    func deliverLocal(
        _ job: Job, handoff: (_ transport: String, _ recipient: MailAddress) async -> RecipientOutcome
    ) async -> (outcomes: [RecipientOutcome], forwards: [ForwardRequest], warnings: [String]) {
        let resolution = await resolver.resolve(
            LocalRecipientRequest(
                recipient: job.recipient, originalRecipient: job.originalRecipient, sender: job.sender,
                deliveredTo: job.deliveredTo))
        var outcomes: [RecipientOutcome] = []
        var forwards: [ForwardRequest] = []
        let warnings = resolution.warnings
        for (number, instruction) in resolution.instructions.enumerated() {
            var outcome: RecipientOutcome
            switch instruction.action {
            case .mailbox(let user, let location):
                let kind: DeliveryWorkRequest.Kind
                switch location {
                case .maildir: kind = .maildir
                case .mbox: kind = .mbox
                }
                var request = baseRequest(kind: kind, target: location.path, user: user, instruction, job)
                request.maildirUniqueName = "\(job.deliveryName)N\(number)"
                if case .mbox(let path) = location, path.hasPrefix(spoolDirectory + "/") {
                    let credentials = MboxWriter.spoolCredentials(spoolDirectory: spoolDirectory, uid: user.uid, gid: user.gid)
                    request.uid = credentials.uid
                    request.gid = credentials.gid
                    request.createOwnership = credentials.createOwnership
                }
                outcome = await run(request, job)
            case .file(let path, let user):
                outcome = await run(baseRequest(kind: .file, target: path, user: user, instruction, job), job)
            case .command(let command, let user, let shell, let environment):
                var request = baseRequest(kind: .command, target: command, user: user, instruction, job)
                if let shell { request.commandShell = shell }
                request.clientEnvironment.merge(environment) { _, new in new }
                outcome = await run(request, job)
            case .forward(let address):
                forwards.append(
                    ForwardRequest(sender: instruction.sender, recipients: [address],
                        originalRecipient: instruction.originalRecipient))
                continue
            case .transport(let name):
                outcome = await handoff(name, instruction.recipient)
            case .discard(let status, let text):
                outcome = RecipientOutcome(status: .sent, dsn: status, text: text, relay: "local")
            case .bounce(let status, let text):
                outcome = RecipientOutcome(status: .bounced, dsn: status, text: text, relay: "local")
            case .defer(let status, let text):
                outcome = RecipientOutcome(status: .deferred, dsn: status, text: text, relay: "local")
            }
            outcome.loggedRecipient = instruction.recipient.text
            outcome.originalRecipient = instruction.originalRecipient
            outcomes.append(outcome)
        }
        return (outcomes, forwards, warnings)
    }

    /// Delivers to a recipient in a virtual mailbox domain (virtual(8)).
    func deliverVirtual(_ job: Job) async -> RecipientOutcome {
        let instruction = await virtualResolver.resolve(recipient: job.recipient, deliveredTo: job.deliveredTo)
        if let warning = instruction.warning { log.warning("virtual", warning) }
        var outcome: RecipientOutcome
        switch instruction.action {
        case .mailbox(let location, let uid, let gid, let sizeLimit):
            let kind: DeliveryWorkRequest.Kind
            switch location {
            case .maildir: kind = .maildir
            case .mbox: kind = .mbox
            }
            let (user, ext) = job.recipient.splitExtension(delimiters: resolver.settings.recipientDelimiter)
            var request = DeliveryWorkRequest(
                kind: kind, target: location.path, uid: uid, gid: gid, groups: [gid], home: "",
                userName: job.recipient.text, sender: job.sender.text, recipient: job.recipient.text,
                originalRecipient: job.originalRecipient ?? job.recipient.text, localPart: user,
                extensionPart: ext ?? "", domain: job.recipient.domain ?? "", mailboxSizeLimit: sizeLimit,
                commandTimeLimit: commandTimeLimit, hostname: hostname,
                prependHeaders: DeliveredHeaders.render(
                    sender: job.sender.text, originalRecipient: job.originalRecipient ?? job.recipient.text,
                    deliveredTo: job.recipient.text),
                lockPolicy: lockPolicy, programName: "virtual", contentLength: job.contentLength)
            request.strictMailboxOwnership = false
            request.maildirUniqueName = job.deliveryName
            request.checkExisting = job.interrupted
            outcome = await run(request, job, relay: "virtual")
        case .bounce(let status, let text):
            outcome = RecipientOutcome(status: .bounced, dsn: status, text: text, relay: "virtual")
        case .defer(let status, let text):
            outcome = RecipientOutcome(status: .deferred, dsn: status, text: text, relay: "virtual")
        }
        outcome.originalRecipient = job.originalRecipient
        return outcome
    }

    private func baseRequest(
        kind: DeliveryWorkRequest.Kind, target: String, user: SystemUser, _ instruction: LocalDeliveryInstruction,
        _ job: Job
    ) -> DeliveryWorkRequest {
        let (local, ext) = instruction.recipient.splitExtension(delimiters: resolver.settings.recipientDelimiter)
        var request = DeliveryWorkRequest(
            kind: kind, target: target, uid: user.uid, gid: user.gid, groups: user.groups, home: user.home,
            userName: user.name, shell: user.shell, sender: instruction.sender.text,
            recipient: instruction.recipient.text, originalRecipient: instruction.originalRecipient,
            localPart: local, extensionPart: ext ?? "", domain: instruction.recipient.domain ?? "",
            mailboxSizeLimit: mailboxSizeLimit, commandTimeLimit: commandTimeLimit, hostname: hostname,
            prependHeaders: DeliveredHeaders.render(
                sender: instruction.sender.text, originalRecipient: instruction.originalRecipient,
                deliveredTo: instruction.deliveredTo),
            lockPolicy: lockPolicy, clientEnvironment: job.client, programName: "local",
            contentLength: job.contentLength)
        request.checkExisting = job.interrupted
        return request
    }

    private func run(_ request: DeliveryWorkRequest, _ job: Job, relay: String = "local") async -> RecipientOutcome {
        let result = await executor.execute(
            request, queueFile: job.queueFile, contentOffset: job.contentOffset, contentLength: job.contentLength)
        let status: RecipientOutcome.Status
        switch result.outcome {
        case .delivered: status = .sent
        case .deferred: status = .deferred
        case .bounced: status = .bounced
        }
        var outcome = RecipientOutcome(status: status, dsn: result.dsn, text: result.text, relay: relay)
        outcome.repeatable = status == .sent && request.kind == .maildir && request.maildirUniqueName != nil
        return outcome
    }
}
