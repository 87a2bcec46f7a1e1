import Foundation
import NIOCore
import NIOPosix
import ServiceLifecycle
import TernMIME

/// Dovecot's LMTP service (RFC 2033) on a unix socket or TCP port: Postfix's
/// `mailbox_transport = lmtp:unix:private/dovecot-lmtp` hands mail to it, and each recipient's copy is saved
/// by a `mail-deliver` worker running as that user. One reply per recipient after DATA, in RCPT order.
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
                                var session = LMTPSession(context: context, output: output)
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

/// One LMTP connection: LHLO, MAIL, RCPT (checked against the userdb), DATA (spooled to an unlinked
/// temporary file, then saved per recipient), RSET, NOOP, VRFY, QUIT, with Dovecot 2.3's replies.
struct LMTPSession {
    struct Context: Sendable {
        let hostname: String
        let configPath: String
        let spoolDirectory: String
        let launcher: MailSessionLauncher
        let log: DovecotLog
    }

    static let maxLineLength = 4096

    let context: Context
    let output: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var sender: String?
    private var recipients: [String] = []
    private var buffer: [UInt8] = []
    private let sessionID = LoginService.newSessionID()

    init(context: Context, output: NIOAsyncChannelOutboundWriter<ByteBuffer>) {
        self.context = context
        self.output = output
    }

    mutating func run(_ input: NIOAsyncChannelInboundStream<ByteBuffer>) async {
        var iterator = input.makeAsyncIterator()
        do {
            try await reply("220 \(context.hostname) Dovecot (Debian) ready.")
            while let line = try await nextLine(&iterator) {
                if try await !command(line, &iterator) { break }
            }
        } catch {
            // The client went away.
        }
    }

    private mutating func nextLine(_ iterator: inout NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator)
        async throws -> String?
    {
        while true {
            if let end = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                var line = buffer[..<end]
                if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
                let text = String(decoding: line, as: UTF8.self)
                buffer.removeSubrange(...end)
                return text
            }
            guard buffer.count <= Self.maxLineLength else {
                try await reply("500 5.5.2 Line too long")
                return nil
            }
            guard let chunk = try await iterator.next() else { return nil }
            buffer += chunk.readableBytesView
        }
    }

    private func reply(_ text: String) async throws {
        try await output.write(ByteBuffer(string: text + "\r\n"))
    }

    /// A reply after which the session goes on.
    private func answer(_ text: String) async throws -> Bool {
        try await reply(text)
        return true
    }

    /// One command; false ends the session.
    private mutating func command(
        _ line: String, _ iterator: inout NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    ) async throws -> Bool {
        let verb = line.prefix { $0 != " " }.uppercased()
        let argument = line.dropFirst(verb.count).drop { $0 == " " }
        switch verb {
        case "LHLO":
            try await reply(
                "250-\(context.hostname)\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250 PIPELINING")
        case "MAIL":
            guard sender == nil else { return try await answer("503 5.5.1 MAIL already given") }
            guard let address = Self.path(argument, keyword: "FROM:") else {
                return try await answer("501 5.5.4 Invalid parameters")
            }
            sender = address
            try await reply("250 2.1.0 OK")
        case "RCPT":
            guard sender != nil else { return try await answer("503 5.5.1 MAIL needed first") }
            guard let address = Self.path(argument, keyword: "TO:"), !address.isEmpty else {
                return try await answer("501 5.5.4 Invalid parameters")
            }
            guard await context.launcher.userExists(address, service: "lmtp") else {
                return try await answer("550 5.1.1 <\(address)> User doesn't exist: \(address)")
            }
            recipients.append(address)
            try await reply("250 2.1.5 OK")
        case "DATA":
            guard sender != nil else { return try await answer("503 5.5.1 MAIL needed first") }
            guard !recipients.isEmpty else { return try await answer("554 5.5.1 No valid recipients") }
            try await reply("354 OK")
            guard let spool = try await receiveData(&iterator) else { return false }
            defer { close(spool) }
            for recipient in recipients { try await reply(await save(spool, for: recipient)) }
            reset()
        case "RSET":
            reset()
            try await reply("250 2.0.0 OK")
        case "NOOP":
            try await reply("250 2.0.0 OK")
        case "VRFY":
            try await reply("252 2.3.3 Try RCPT instead")
        case "QUIT":
            try await reply("221 2.0.0 Bye")
            return false
        default:
            try await reply("500 5.5.1 Unknown command")
        }
        return true
    }

    private mutating func reset() {
        sender = nil
        recipients = []
    }

    /// `FROM:<addr> params` / `TO:<addr>`: the address inside the brackets.
    static func path(_ argument: Substring, keyword: String) -> String? {
        guard argument.uppercased().hasPrefix(keyword) else { return nil }
        let rest = argument.dropFirst(keyword.count).drop { $0 == " " }
        guard rest.first == "<", let close = rest.firstIndex(of: ">") else { return nil }
        return String(rest[rest.index(after: rest.startIndex)..<close])
    }

    /// The message up to `.`, dot-unstuffed with CRLF line ends, in an unlinked temporary file.
    private mutating func receiveData(_ iterator: inout NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator)
        async throws -> Int32?
    {
        var template = Array("\(context.spoolDirectory)/lmtp-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            try await reply("451 4.3.0 Temporary internal failure")
            return nil
        }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        while true {
            guard let end = buffer.firstIndex(of: UInt8(ascii: "\n")) else {
                guard let chunk = try await iterator.next() else {
                    close(fd)
                    return nil
                }
                buffer += chunk.readableBytesView
                continue
            }
            var line = Array(buffer[..<end])
            buffer.removeSubrange(...end)
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            if line == [UInt8(ascii: ".")] { break }
            if line.first == UInt8(ascii: ".") { line.removeFirst() }
            line += [13, 10]
            _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        }
        return fd
    }

    /// Saves one copy as `recipient` and returns its reply line.
    private func save(_ spool: Int32, for recipient: String) async -> String {
        lseek(spool, 0, SEEK_SET)
        var request = MailSessionRequest(
            protocolName: "lmtp", user: recipient, tag: nil, sessionID: sessionID, remoteIP: "", localIP: "",
            configPath: context.configPath)
        let date = MailDate.rfc5322(epochSeconds: Int(Date().timeIntervalSince1970))
        request.deliveryHeaders =
            "Return-Path: <\(sender ?? "")>\r\nDelivered-To: \(recipient)\r\n"
            + "Received: from \(context.hostname)\r\n\tby \(context.hostname) with LMTP\r\n\tid \(sessionID)\r\n"
            + "\t(envelope-from <\(sender ?? "")>)\r\n\tfor <\(recipient)>; \(date)\r\n"
        do {
            let status = try await context.launcher.deliver(request, message: spool)
            guard status == 0 else { return "451 4.2.0 <\(recipient)> Temporary internal failure" }
            return "250 2.0.0 <\(recipient)> \(sessionID) Saved"
        } catch {
            context.log.log("lmtp(\(recipient))<\(sessionID)>", .error, "\(error)")
            return "451 4.3.0 <\(recipient)> Temporary internal failure"
        }
    }
}
