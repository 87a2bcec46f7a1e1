import Foundation
import NIOPosix
import TernCore
import TernMIME
import TernPolicy
import TernQueue
import TernSMTP
import TernDelivery

/// One delivery attempt for one queue file, as qmgr(8) and the delivery agents do it together, with their
/// log lines (`from=<..>, size=.., nrcpt=.. (queue active)`, `to=<..>, relay=.., delay=.., delays=..,
/// dsn=.., status=..`, `removed`).
struct MessageDelivery {
    let queue: QueueDirectory
    let log: MailLog
    let context: DeliveryContext
    /// The daemon died while this message was being delivered (it was in active/ at start-up).
    let interrupted: Bool
    /// Told about forwarded copies, which are delivered at once.
    let manager: QueueManager?
    /// `postfix flush` / `sendmail -q`: defer_transports deliver too.
    var flushing = false

    func deliver(_ id: QueueID, from source: QueueName) async {
        do {
            if source != .active { try queue.move(id, from: source, to: .active, durable: false) }
        } catch {
            return  // postsuper removed or held it meanwhile
        }
        guard let path = queue.existingPath(.active, id) else { return }
        let file: QueueFile
        do {
            file = try QueueFile.open(path: path)
        } catch {
            log.warning("qmgr", "\(id): cannot open queue file: \(error)")
            return
        }
        let envelope = file.envelope
        let activeSince = Date()
        log.info(
            "qmgr",
            "\(id): from=<\(envelope.sender.text)>, size=\(file.contentLength), nrcpt=\(envelope.recipients.count) (queue active)")
        let deferLog = DeliveryStatusLog(queue: queue, kind: .defer)
        deferLog.remove(id)
        let deliveredTo = Self.deliveredToHeaders(file)
        var deferrals: [DeliveryStatusLog.Entry] = []
        var bounces: [BounceEntry] = []
        var successes: [BounceEntry] = []
        // The last recipient's mark is not fsynced; the removal is, unless that recipient's deliveries can be
        // repeated harmlessly after a crash (the file would come back in active/, and a delivery of a message
        // found there at start-up looks for its Maildir copy first).
        var removalMustBeDurable = true

        var remote: [RemoteRoute: [Int]] = [:]
        var remoteOrder: [RemoteRoute] = []

        /// Logs a recipient's outcomes, queues forwarded copies, and marks it done or remembers the deferral.
        func record(_ index: Int, _ outcomes: [RecipientOutcome], forwards: [ForwardRequest], started: Date) async {
            let recipient = Self.redirected(envelope.recipients[index], file.summary.redirect)
            var forwardedAs: QueueID?
            if !forwards.isEmpty {
                forwardedAs = forward(forwards, file: file)
            }
            var allOutcomes = outcomes
            if let forwardedAs {
                allOutcomes.append(
                    RecipientOutcome(status: .sent, dsn: "2.0.0", text: "forwarded as \(forwardedAs)", relay: "local"))
            } else if !forwards.isEmpty {
                allOutcomes.append(.deferred("4.3.0", "cannot forward message: queue file write error", relay: "local"))
            }
            for outcome in allOutcomes {
                logOutcome(outcome, id: id, recipient: recipient, arrival: envelope, activeSince: activeSince, started: started)
            }
            if let deferred = allOutcomes.first(where: { $0.status == .deferred }) {
                deferrals.append(
                    DeliveryStatusLog.Entry(
                        recipient: recipient.address.text, recipientIndex: index,
                        originalRecipient: recipient.originalRecipient?.text, orcpt: recipient.orcpt,
                        status: deferred.dsn, action: "delayed", reason: deferred.text))
                return
            }
            if let bounced = allOutcomes.first(where: { $0.status == .bounced }) {
                bounces.append(BounceEntry(index: index, recipient: recipient, outcome: bounced))
            } else if forwards.isEmpty, let sent = allOutcomes.first, recipient.notify.contains(.success) {
                successes.append(BounceEntry(index: index, recipient: recipient, outcome: sent))
            }
            let last = deferrals.isEmpty && file.pendingRecipients == [index]
            if last { removalMustBeDurable = allOutcomes.isEmpty || !allOutcomes.allSatisfy(\.repeatable) }
            let status: RecipientStatus = allOutcomes.contains { $0.status == .bounced } ? .bounced : .delivered
            // fsync blocks: off the concurrency pool, which runs the SMTP sessions.
            try? await blocking { try file.markRecipient(index, status, durable: !last) }
        }

        let pending = file.pendingRecipients
        for index in pending {
            if file.summary.redirect != nil && index != pending.first {
                // REDIRECT made every recipient the same address: one delivery serves them all, as qmgr's
                // duplicate filter has it (a retry redelivers through the first one).
                await record(index, [], forwards: [], started: Date())
                continue
            }
            let recipient = Self.redirected(envelope.recipients[index], file.summary.redirect)
            let started = Date()
            switch await route(recipient, index: index, id: id, file: file, deliveredTo: deliveredTo) {
            case .delivered(let outcomes, let forwards):
                await record(index, outcomes, forwards: forwards, started: started)
            case .smtp(let route):
                if remote[route] == nil { remoteOrder.append(route) }
                remote[route, default: []].append(index)
            }
        }
        for route in remoteOrder {
            let indexes = remote[route] ?? []
            let transport = route.lmtp ? "lmtp" : "smtp"
            let settings = context.settings
            let limit = max(1, settings.destinationLimit(transport, "recipient", default: 50))
            let key = "\(transport):\(route.hop)"
            // At most the destination recipient limit per transaction, and the destination concurrency limit
            // in transactions at a time (qmgr's per-destination limits).
            for start in stride(from: 0, to: indexes.count, by: limit) {
                let chunk = Array(indexes[start..<min(start + limit, indexes.count)])
                await DestinationLimiter.shared.acquire(key, limit: settings.destinationLimit(transport, "concurrency", default: 20))
                // smtp_connection_cache_on_demand: a backlog when the delivery starts or when it ends.
                let backlogAtStart = DestinationLimiter.shared.hasBacklog(key)
                let started = Date()
                let outcomes = await deliverRemote(chunk, route: route, file: file) {
                    backlogAtStart || DestinationLimiter.shared.hasBacklog(key)
                }
                DestinationLimiter.shared.release(key)
                for (index, outcome) in zip(chunk, outcomes) {
                    await record(index, [outcome], forwards: [], started: started)
                }
            }
        }
        if !bounces.isEmpty {
            returnToSender(bounces, id: id, file: file)
        }
        if !successes.isEmpty {
            reportSuccess(successes, id: id, file: file)
        }

        if file.pendingRecipients.isEmpty {
            let queue = self.queue
            let durable = removalMustBeDurable
            _ = try? await blocking { try queue.delete(id, in: [.active], durable: durable) }
            log.info("qmgr", "\(id): removed")
            return
        }
        let settings = context.settings
        let age = Int(Date().timeIntervalSince1970) - envelope.arrivalSeconds
        let lifetime = envelope.sender.text.isEmpty ? settings.bounceQueueLifetime : settings.maximalQueueLifetime
        if age >= lifetime {
            // Too old to try again: what is still deferred goes back to the sender with its last reason.
            log.info("qmgr", "\(id): from=<\(envelope.sender.text)>, status=expired, returned to sender")
            returnToSender(Self.entries(deferrals, envelope, status: .bounced), id: id, file: file)
            let queue = self.queue
            _ = try? await blocking { try queue.delete(id, in: [.active]) }
            log.info("qmgr", "\(id): removed")
            return
        }
        // delay_warning_time: one warning per message, marked in the queue file so a restart does not repeat it.
        if settings.delayWarningTime > 0, age >= settings.delayWarningTime, envelope.delayWarningSent == 0,
            file.canRecordDelayWarning, !envelope.sender.text.isEmpty,
            warnSender(Self.entries(deferrals, envelope, status: .deferred), id: id, file: file)
        {
            do {
                try file.markDelayWarningSent(at: Int(Date().timeIntervalSince1970))
            } catch {
                log.warning("qmgr", "\(id): cannot record the delay warning: \(error)")
            }
        }
        try? deferLog.append(deferrals, for: id)
        let backoff = min(max(age, settings.minimalBackoff), settings.maximalBackoff)
        do {
            try queue.move(id, from: .active, to: .deferred, durable: false)
            try queue.setNextAttempt(id, epochSeconds: Int(Date().timeIntervalSince1970) + backoff)
        } catch {
            log.warning("qmgr", "\(id): cannot move to deferred queue: \(error)")
        }
    }

    /// The deferred recipients as notice entries with their last reason.
    static func entries(
        _ deferrals: [DeliveryStatusLog.Entry], _ envelope: QueueEnvelope, status: RecipientOutcome.Status
    ) -> [BounceEntry] {
        deferrals.compactMap { entry in
            guard let index = entry.recipientIndex else { return nil }
            return BounceEntry(
                index: index, recipient: envelope.recipients[index],
                outcome: RecipientOutcome(status: status, dsn: entry.status, text: entry.reason, relay: "none"))
        }
    }

    private enum Route {
        /// Done here (local and virtual delivery, or a decision without delivery).
        case delivered([RecipientOutcome], [ForwardRequest])
        /// For the smtp (or lmtp) client, grouped by next hop.
        case smtp(RemoteRoute)
    }

    /// Recipients that go to the same next hop with the same protocol share one transaction.
    struct RemoteRoute: Hashable {
        var hop: NextHop
        var lmtp: Bool
    }

    /// Routes one recipient by its address class (trivial-rewrite) to the local or virtual agent, or to the
    /// smtp client with its next hop (the transport's, else relayhost, else the recipient domain).
    private func route(
        _ recipient: QueueRecipient, index: Int, id: QueueID, file: QueueFile, deliveredTo: [String]
    ) async -> Route {
        let settings = context.settings
        if let reason = file.summary.bounce {
            // A local submission cleanup rejected: returned to the sender (cleanup_bounce).
            let dsn = String(reason.prefix { $0 != " " })
            return .delivered(
                [RecipientOutcome(status: .bounced, dsn: dsn, text: String(reason.dropFirst(dsn.count + 1)), relay: "none")],
                [])
        }
        // REDIRECT (header_checks, access maps) is already in `recipient` (`redirected`).
        var address = recipient.address
        if address.domain == nil { address = MailAddress("\(address.text)@\(settings.myorigin)") }
        let job = LocalTransport.Job(
            queueFile: file.path, contentOffset: file.contentOffset, contentLength: file.contentLength,
            sender: file.envelope.sender, recipient: address, originalRecipient: recipient.originalRecipient?.text,
            deliveredTo: deliveredTo, client: Self.clientEnvironment(file.envelope),
            deliveryName: "\(file.envelope.arrivalSeconds).Q\(id)R\(index)", interrupted: interrupted)
        let addressClass: AddressClass
        do {
            addressClass = try await settings.classifier.classify(domain: address.domain)
        } catch {
            return .delivered([.deferred("4.3.0", "address resolver failure: \(error)")], [])
        }
        // trivial-rewrite: the address class's transport, unless transport_maps names another.
        var transport: String
        switch addressClass {
        case .local: transport = settings.localTransport
        case .virtualMailbox: transport = settings.virtualTransport
        case .relay: transport = settings.relayTransport
        case .remote: transport = settings.defaultTransport
        // cleanup expands virtual aliases; an address still in such a domain has no entry (trivial-rewrite).
        case .virtualAlias: transport = "error:5.1.1 User unknown in virtual alias table"
        }
        do {
            if let mapped = try await TransportTable.lookup(
                address, in: settings.transportMaps, delimiter: settings.recipientDelimiter) {
                transport = TransportTable.merge(mapped, into: transport)
            }
        } catch {
            return .delivered([.deferred("4.3.0", "transport_maps lookup failure: \(error)")], [])
        }
        // FILTER (header_checks, access maps): its transport:destination for every recipient.
        if let filter = file.summary.filter { transport = filter }
        let name = String(transport.prefix { $0 != ":" })
        let nexthop = transport.contains(":") ? String(transport.drop { $0 != ":" }.dropFirst()) : ""
        if !flushing && settings.deferTransports.contains(name) {
            return .delivered([.deferred("4.3.2", "deferred transport")], [])
        }
        switch name {
        case "local":
            let result = await context.transport.deliverLocal(job) { transport, recipient in
                await handoff(transport, recipient: recipient, file: file)
            }
            for warning in result.warnings { log.warning("local", warning) }
            return .delivered(result.outcomes, result.forwards)
        case "virtual":
            return .delivered([await context.transport.deliverVirtual(job)], [])
        case "smtp", "relay", "lmtp":
            // The transport's own next hop; else relayhost for mail that leaves; else the recipient domain.
            let leaves = addressClass == .remote || addressClass == .relay
            let text = !nexthop.isEmpty && !(addressClass == .local && nexthop == settings.hostname)
                ? nexthop : (leaves && !settings.relayhost.isEmpty ? settings.relayhost : address.domain ?? "")
            guard var hop = NextHop(parsing: text, defaultPort: name == "lmtp" ? 24 : 25) else {
                return .delivered([.deferred("4.3.5", "bad next hop: \(text)")], [])
            }
            if name == "lmtp" { hop.lookUpMX = false }  // lmtp(8) connects to the host itself
            return .smtp(RemoteRoute(hop: hop, lmtp: name == "lmtp"))
        case "error":
            // error(8): the next hop is the reason, optionally led by its enhanced status code.
            var dsn = "5.0.0"
            var text = nexthop.isEmpty ? "mail for \(address.domain ?? "") not accepted" : nexthop
            let first = text.prefix { $0 != " " }
            if first.hasPrefix("5."), first.split(separator: ".").count == 3,
                first.allSatisfy({ $0.isNumber || $0 == "." })
            {
                dsn = String(first)
                text = String(text.dropFirst(first.count + 1))
            }
            return .delivered(
                [RecipientOutcome(status: .bounced, dsn: dsn, text: text, relay: "none", agent: "error")], [])
        case "discard":
            return .delivered(
                [RecipientOutcome(
                    status: .sent, dsn: "2.0.0", text: nexthop.isEmpty ? "discarded" : nexthop, relay: "none",
                    agent: "discard")], [])
        default:
            return .delivered([.deferred("4.3.0", "mail transport unavailable: \(name) is not provided by Tern")], [])
        }
    }

    /// local(8)'s deliver_pass for mailbox_transport / fallback_transport: one recipient, as resolved by
    /// local delivery, through an lmtp or smtp transport (`lmtp:unix:private/dovecot-lmtp`).
    private func handoff(_ transport: String, recipient: MailAddress, file: QueueFile) async -> RecipientOutcome {
        let name = String(transport.prefix { $0 != ":" })
        let nexthop = String(transport.drop { $0 != ":" }.dropFirst())
        guard name == "lmtp" || name == "smtp", var hop = NextHop(parsing: nexthop, defaultPort: name == "lmtp" ? 24 : 25)
        else {
            return .deferred("4.3.5", "mail transport unavailable: \(transport) is not supported by Tern")
        }
        if name == "lmtp" { hop.lookUpMX = false }
        let envelope = file.envelope
        let client = SMTPClientDelivery(settings: context.settings.smtpClient, log: log)
        let outcomes = await client.deliver(
            file: file,
            envelope: SMTPClientStateMachine.Envelope(
                sender: envelope.sender.text, recipients: [recipient.text], size: file.contentLength,
                eightBitMIME: envelope.body == .eightBitMIME, dsnMailParameters: Self.dsnMailParameters(envelope),
                dsnRecipientParameters: [""]),
            hop: hop, lmtp: name == "lmtp"
        ) { file in
            ContentStream(file: file, rewriteHeaders: nil)
        }
        return outcomes.first ?? .deferred("4.3.0", "no answer from \(transport)")
    }

    /// smtp(8) for recipients that share a next hop: one transaction, the envelope rewritten by
    /// smtp_generic_maps.
    private func deliverRemote(
        _ indexes: [Int], route: RemoteRoute, file: QueueFile, backlog: @escaping @Sendable () -> Bool
    ) async -> [RecipientOutcome] {
        let settings = context.settings
        let generic = GenericRewriter(tables: settings.genericMaps, settings: settings)
        let envelope = file.envelope
        var recipients: [String] = []
        for index in indexes {
            let recipient = Self.redirected(envelope.recipients[index], file.summary.redirect)
            recipients.append(await generic.rewrite(recipient.address.text))
        }
        let sender = envelope.sender.text.isEmpty ? "" : await generic.rewrite(envelope.sender.text)
        let headerMap = settings.genericMaps.isEmpty ? [:] : await generic.headerAddresses(in: file)
        let client = SMTPClientDelivery(settings: settings.smtpClient, log: log)
        return await client.deliver(
            file: file,
            envelope: SMTPClientStateMachine.Envelope(
                sender: sender, recipients: recipients, size: file.contentLength,
                eightBitMIME: envelope.body == .eightBitMIME,
                dsnMailParameters: Self.dsnMailParameters(envelope),
                dsnRecipientParameters: indexes.map { Self.dsnRecipientParameters(envelope.recipients[$0]) }),
            hop: route.hop, lmtp: route.lmtp, backlog: backlog
        ) { file in
            ContentStream(file: file, rewriteHeaders: headerMap.isEmpty ? nil : { GenericRewriter.rewriteHeader($0, headerMap) })
        }
    }

    /// Queues a copy of the message for the addresses an alias or .forward produced (local(8) resubmits
    /// forwarded mail with the same content and sender).
    private func forward(_ requests: [ForwardRequest], file: QueueFile) -> QueueID? {
        var envelope = file.envelope
        envelope.sender = requests[0].sender
        envelope.recipients = requests.flatMap { request in
            request.recipients.map { QueueRecipient($0, originalRecipient: MailAddress(request.originalRecipient)) }
        }
        do {
            let id = try file.requeue(in: queue, envelope: envelope)
            log.info("cleanup", "\(id): message-id=\(file.summary.messageID ?? "<>")")
            manager?.queued(id)
            return id
        } catch {
            log.warning("local", "cannot forward message: \(error)")
            return nil
        }
    }

    /// The recipient as REDIRECT made it: the redirect address, the original one as `orig_to`.
    static func redirected(_ recipient: QueueRecipient, _ redirect: String?) -> QueueRecipient {
        guard let redirect else { return recipient }
        var copy = recipient
        copy.originalRecipient = recipient.originalRecipient ?? recipient.address
        copy.address = MailAddress(redirect)
        return copy
    }

    private func logOutcome(
        _ outcome: RecipientOutcome, id: QueueID, recipient: QueueRecipient, arrival envelope: QueueEnvelope,
        activeSince: Date, started: Date
    ) {
        let now = Date()
        let arrival = Double(envelope.arrivalMicroseconds) / 1_000_000
        let total = now.timeIntervalSince1970 - arrival
        let beforeActive = max(0, activeSince.timeIntervalSince1970 - arrival)
        let inQueueManager = max(0, started.timeIntervalSince(activeSince))
        let setup = outcome.setupSeconds.map { min(max(0, $0), max(0, now.timeIntervalSince(started))) } ?? 0
        let transmission = max(0, now.timeIntervalSince(started) - setup)
        let to = outcome.loggedRecipient ?? recipient.address.text
        var line = "\(id): to=<\(to)>"
        let original = outcome.originalRecipient ?? recipient.originalRecipient?.text
        if let original, original.lowercased() != to.lowercased() { line += ", orig_to=<\(original)>" }
        line += ", relay=\(outcome.relay)"
        if outcome.connectionUse > 1 { line += ", conn_use=\(outcome.connectionUse)" }
        line += ", delay=\(Self.format(total)), delays=\(Self.format(beforeActive))/"
        line += "\(Self.format(inQueueManager))/\(Self.format(setup))/\(Self.format(transmission)), dsn=\(outcome.dsn), "
        line += "status=\(outcome.status.rawValue) (\(outcome.text))"
        log.info(outcome.agent ?? (outcome.relay == "virtual" ? "virtual" : (outcome.relay == "local" ? "local" : "qmgr")), line)
    }

    /// Runs blocking file work (fsync) on the I/O thread pool.
    private func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await BlockingIO.pool.runIfActive(work)
    }

    /// RET and ENVID for the next hop (RFC 3461 §4.3, §4.4), sent when it offers DSN.
    static func dsnMailParameters(_ envelope: QueueEnvelope) -> String {
        var text = ""
        if let ret = envelope.ret { text += " RET=\(ret.rawValue)" }
        if let envid = envelope.envid, !envid.isEmpty { text += " ENVID=\(XText.encode(envid))" }
        return text
    }

    /// NOTIFY and ORCPT for the next hop (RFC 3461 §4.1, §4.2).
    static func dsnRecipientParameters(_ recipient: QueueRecipient) -> String {
        var text = ""
        if !recipient.notify.isEmpty {
            var words: [String] = []
            if recipient.notify.contains(.never) {
                words = ["NEVER"]
            } else {
                if recipient.notify.contains(.success) { words.append("SUCCESS") }
                if recipient.notify.contains(.failure) { words.append("FAILURE") }
                if recipient.notify.contains(.delay) { words.append("DELAY") }
            }
            text += " NOTIFY=\(words.joined(separator: ","))"
        }
        if let orcpt = recipient.orcpt, let semicolon = orcpt.firstIndex(of: ";") {
            text += " ORCPT=\(orcpt[..<semicolon]);\(XText.encode(String(orcpt[orcpt.index(after: semicolon)...])))"
        }
        return text
    }

    /// Postfix's delay format: whole seconds from 10 s, one decimal from 1 s, else two, trailing zeros
    /// dropped (`35`, `1.2`, `0.05`, `0.1`, `0`).
    static func format(_ seconds: Double) -> String {
        if seconds >= 10 { return String(Int(seconds.rounded())) }
        let digits = seconds >= 1 ? 1 : 2
        let scale = digits == 1 ? 10.0 : 100.0
        let scaled = Int((max(0, seconds) * scale).rounded())
        let whole = scaled / Int(scale)
        var fraction = String(scaled % Int(scale))
        while fraction.count < digits { fraction = "0" + fraction }
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return fraction.isEmpty ? String(whole) : "\(whole).\(fraction)"
    }

    /// The Delivered-To: values in the message header, for local(8)'s forwarding-loop check.
    static func deliveredToHeaders(_ file: QueueFile) -> [String] {
        file.headerLines().compactMap { line in
            guard line.lowercased().hasPrefix("delivered-to:") else { return nil }
            return String(line.dropFirst("delivered-to:".count)).trimmingCharacters(in: .whitespaces)
        }
    }

    /// CLIENT_* environment for mailbox_command and |command deliveries.
    static func clientEnvironment(_ envelope: QueueEnvelope) -> [String: String] {
        guard let client = envelope.client else { return [:] }
        var environment = [
            "CLIENT_HOSTNAME": client.name, "CLIENT_ADDRESS": client.address, "CLIENT_PROTOCOL": client.protocolName,
        ]
        if let helo = client.heloName { environment["CLIENT_HELO"] = helo }
        return environment
    }
}
