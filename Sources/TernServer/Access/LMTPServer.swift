import Foundation
import NIOCore
import NIOPosix
import ServiceLifecycle
import TernMIME
import TernSMTP

/// Dovecot's LMTP service (RFC 2033) on a unix socket or TCP port: Postfix's
/// `mailbox_transport = lmtp:unix:private/dovecot-lmtp` hands mail to it, and each recipient's copy is saved
/// by a `mail-deliver` worker running as that user. One reply per recipient after DATA or the last BDAT
/// chunk, in RCPT order.
struct LMTPServer: Service {
    typealias Connection = NIOAsyncChannel<ByteBuffer, ByteBuffer>

    let channel: NIOAsyncChannel<Connection, Never>
    let session: LMTPSession.Context

    static func bind(unixPath: String?, host: String, port: Int, context: LMTPSession.Context) async throws -> LMTPServer {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
        let initializer: @Sendable (any Channel) -> EventLoopFuture<Connection> = { child in
            child.eventLoop.makeCompletedFuture { try Connection(wrappingChannelSynchronously: child) }
        }
        let channel: NIOAsyncChannel<Connection, Never>
        if let unixPath {
            channel = try await bootstrap.bind(
                unixDomainSocketPath: unixPath, cleanupExistingSocketFile: true, childChannelInitializer: initializer)
        } else {
            channel = try await bootstrap
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: host, port: port, childChannelInitializer: initializer)
        }
        return LMTPServer(channel: channel, session: context)
    }

    func run() async throws {
        let serverChannel = channel.channel
        let context = session
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await channel.executeThenClose { inbound in
                    for try await connection in inbound {
                        group.addTask {
                            try? await connection.executeThenClose { input, output in
                                var session = LMTPSession(
                                    context: context, output: output,
                                    remoteIP: connection.channel.remoteAddress?.ipAddress)
                                await session.run(input)
                            }
                        }
                    }
                }
            }
        } onGracefulShutdown: {
            serverChannel.close(promise: nil)
        }
    }
}

/// One LMTP connection: LMTPServerStateMachine's conversation over the socket. Message data goes to an
/// unlinked temporary file in base_dir; at the end each recipient's copy is saved by a `mail-deliver` worker
/// running as that user.
struct LMTPSession {
    struct Context: Sendable {
        let hostname: String
        let configPath: String
        let spoolDirectory: String
        let launcher: MailSessionLauncher
        let log: DovecotLog
        /// lmtp_rcpt_check_quota: a recipient over quota is refused at RCPT.
        var checkQuotaAtRCPT = false
    }

    let context: Context
    let output: NIOAsyncChannelOutboundWriter<ByteBuffer>
    let remoteIP: String?
    private var machine: LMTPServerStateMachine
    private var spool: Int32 = -1
    /// Dovecot's LMTP session IDs: a 128-bit GUID in base64 without the padding (22 characters).
    private let sessionID = String(
        Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString().dropLast(2))

    init(context: Context, output: NIOAsyncChannelOutboundWriter<ByteBuffer>, remoteIP: String?) {
        self.context = context
        self.output = output
        self.remoteIP = remoteIP
        machine = LMTPServerStateMachine(configuration: .init(hostname: context.hostname, sessionID: sessionID))
    }

    mutating func run(_ input: NIOAsyncChannelInboundStream<ByteBuffer>) async {
        defer { closeSpool() }
        do {
            guard try await perform([machine.greeting()]) else { return }
            for try await bytes in input {
                guard try await perform(machine.receive(Array(bytes.readableBytesView))) else { return }
            }
        } catch {
            // The client went away.
        }
    }

    /// Carries the actions out (and those the answers bring); false once the session is over.
    private mutating func perform(_ initial: [LMTPServerStateMachine.Action]) async throws -> Bool {
        var actions = initial
        var replies = ""
        while !actions.isEmpty {
            switch actions.removeFirst() {
            case .send(let text): replies += text
            case .checkRecipient(let address):
                try await flush(&replies)
                guard await context.launcher.userExists(address, service: "lmtp") else {
                    actions += machine.recipientChecked(exists: false)
                    continue
                }
                actions += machine.recipientChecked(context.checkQuotaAtRCPT ? await quotaRefusal(address) : nil)
            case .beginMessage:
                closeSpool()
                spool = openSpool()
            case .messageData(let bytes):
                if spool >= 0 && !writeAll(bytes) { closeSpool() }
            case .discardMessage: closeSpool()
            case .deliver(let transaction):
                try await flush(&replies)
                var outcomes: [LMTPServerStateMachine.DeliveryOutcome] = []
                for index in transaction.recipients.indices { outcomes.append(await save(transaction, index)) }
                closeSpool()
                actions += machine.delivered(outcomes)
            case .close:
                try await flush(&replies)
                return false
            }
        }
        try await flush(&replies)
        return true
    }

    private func flush(_ replies: inout String) async throws {
        guard !replies.isEmpty else { return }
        try await output.write(ByteBuffer(string: replies))
        replies = ""
    }

    /// An unlinked temporary file in base_dir; -1 (logged) when none can be made, and every copy then fails.
    private func openSpool() -> Int32 {
        var template = Array("\(context.spoolDirectory)/lmtp-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            context.log.log("lmtp", .error, "mkstemp(\(context.spoolDirectory)/lmtp-XXXXXX) failed: \(reason)")
            return -1
        }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        return fd
    }

    private func writeAll(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(spool, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else {
                    context.log.log("lmtp", .error, "write(spool) failed: \(String(cString: strerror(errno)))")
                    return false
                }
                offset += n
            }
            return true
        }
    }

    private mutating func closeSpool() {
        if spool >= 0 { close(spool) }
        spool = -1
    }

    /// lmtp_rcpt_check_quota: Dovecot's reply when `address` is over quota, nil when not (or when that cannot
    /// be told: the delivery checks again).
    private func quotaRefusal(_ address: String) async -> LMTPServerStateMachine.DeliveryOutcome? {
        let request = MailSessionRequest(
            protocolName: "lmtp", user: address, tag: nil, sessionID: sessionID, remoteIP: remoteIP ?? "", localIP: "",
            configPath: context.configPath)
        guard let (status, output) = try? await context.launcher.checkQuota(request) else { return nil }
        return status == MailSessionWorker.refusedStatus ? Self.refusal(output) : nil
    }

    /// `552 5.2.2 text` as a worker wrote it.
    private static func refusal(_ output: String) -> LMTPServerStateMachine.DeliveryOutcome? {
        let words = output.split(separator: " ", maxSplits: 2).map(String.init)
        guard words.count == 3, let code = Int(words[0]) else { return nil }
        return .refused(code: code, enhanced: words[1], text: words[2].trimmingCharacters(in: .newlines))
    }

    /// Saves the copy of recipient `index` as that user.
    private func save(_ transaction: LMTPServerStateMachine.Transaction, _ index: Int) async
        -> LMTPServerStateMachine.DeliveryOutcome
    {
        let recipient = transaction.recipients[index]
        guard spool >= 0 else { return .temporaryFailure("4.3.0") }
        lseek(spool, 0, SEEK_SET)
        var request = MailSessionRequest(
            protocolName: "lmtp", user: recipient, tag: nil, sessionID: transaction.recipientID(index),
            remoteIP: remoteIP ?? "", localIP: "", configPath: context.configPath)
        let date = MailDate.rfc5322(epochSeconds: Int(Date().timeIntervalSince1970))
        request.deliveryHeaders = transaction.deliveryHeaders(
            index, hostname: context.hostname, remoteIP: remoteIP, date: date)
        do {
            let (status, output) = try await context.launcher.deliver(request, message: spool)
            if status == MailSessionWorker.refusedStatus, let refusal = Self.refusal(output) { return refusal }
            return status == 0 ? .saved : .temporaryFailure("4.2.0")
        } catch {
            context.log.log("lmtp(\(recipient))<\(transaction.recipientID(index))>", .error, "\(error)")
            return .temporaryFailure("4.3.0")
        }
    }
}
