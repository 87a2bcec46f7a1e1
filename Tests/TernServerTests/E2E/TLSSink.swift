import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// A loopback SMTP server for the smtp client's STARTTLS and AUTH: offers STARTTLS when it has a
/// certificate, AUTH PLAIN LOGIN (after TLS when `authAfterTLS`) when it has an account, and records
/// what each transaction looked like.
final class TLSSink: Sendable {
    struct Received: Sendable {
        var tls = false
        var authenticatedAs: String?
        var sender = ""
        var recipients: [String] = []
        var data = ""
    }

    struct Options: Sendable {
        var certificate: (chain: String, key: String)?
        var account: (user: String, password: String)?
        var authAfterTLS = true
    }

    let port: Int
    private let channel: any Channel
    private let store = Store()

    private final class Store: Sendable {
        let messages = Mutex<[Received]>([])
    }

    init(_ options: Options) throws {
        let context = try options.certificate.map { files in
            try NIOSSLContext(
                configuration: .makeServerConfiguration(
                    certificateChain: try NIOSSLCertificate.fromPEMFile(files.chain).map { .certificate($0) },
                    privateKey: .privateKey(try NIOSSLPrivateKey(file: files.key, format: .pem))))
        }
        let record: @Sendable (Received) -> Void = { [store] message in store.messages.withLock { $0.append(message) } }
        channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(
                        SinkSession(tls: context, account: options.account, authAfterTLS: options.authAfterTLS, record: record))
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
        port = channel.localAddress?.port ?? 0
    }

    var messages: [Received] { store.messages.withLock { $0 } }

    func stop() { try? channel.close().wait() }
}

private final class SinkSession: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let tlsContext: NIOSSLContext?
    private let account: (user: String, password: String)?
    private let authAfterTLS: Bool
    private let record: @Sendable (TLSSink.Received) -> Void
    private var buffer: [UInt8] = []
    private var current = TLSSink.Received()
    private var tls = false
    private var inData = false
    private var loginStep = 0

    init(
        tls: NIOSSLContext?, account: (user: String, password: String)?, authAfterTLS: Bool,
        record: @escaping @Sendable (TLSSink.Received) -> Void
    ) {
        tlsContext = tls
        self.account = account
        self.authAfterTLS = authAfterTLS
        self.record = record
    }

    func channelActive(context: ChannelHandlerContext) {
        send(context, "220 sink.test ESMTP")
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        buffer += bytes.readBytes(length: bytes.readableBytes) ?? []
        while let newline = buffer.firstIndex(of: 0x0A) {
            var line = String(decoding: buffer[..<newline], as: UTF8.self)
            buffer.removeSubrange(...newline)
            if line.hasSuffix("\r") { line.removeLast() }
            handle(line, context)
        }
    }

    private func send(_ context: ChannelHandlerContext, _ text: String) {
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: text + "\r\n")), promise: nil)
    }

    private func handle(_ line: String, _ context: ChannelHandlerContext) {
        if inData {
            if line == "." {
                inData = false
                current.tls = tls
                record(current)
                let authenticated = current.authenticatedAs
                current = TLSSink.Received(authenticatedAs: authenticated)
                send(context, "250 2.0.0 Ok: queued as TLS1")
            } else {
                current.data += line + "\n"
            }
            return
        }
        if loginStep > 0 {
            loginStep += 1
            if loginStep == 2 {
                current.authenticatedAs = decode(line)
                send(context, "334 UGFzc3dvcmQ6")
            } else {
                loginStep = 0
                finishAuth(user: current.authenticatedAs ?? "", password: decode(line), context)
            }
            return
        }
        let words = line.split(separator: " ").map(String.init)
        switch words.first?.uppercased() ?? "" {
        case "EHLO":
            var lines = ["250-sink.test", "250-PIPELINING"]
            if tlsContext != nil && !tls { lines.append("250-STARTTLS") }
            if account != nil && (tls || !authAfterTLS) { lines.append("250-AUTH PLAIN LOGIN") }
            lines.append("250 8BITMIME")
            send(context, lines.joined(separator: "\r\n"))
        case "STARTTLS":
            guard let tlsContext, !tls else { return send(context, "502 5.5.1 no") }
            send(context, "220 2.0.0 Ready to start TLS")
            tls = true
            try? context.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tlsContext), position: .first)
        case "AUTH":
            let mechanism = words.count > 1 ? words[1].uppercased() : ""
            if mechanism == "LOGIN" {
                loginStep = 1
                send(context, "334 VXNlcm5hbWU6")
            } else if mechanism == "PLAIN", words.count > 2 {
                let parts = decode(words[2]).split(separator: "\0", omittingEmptySubsequences: false).map(String.init)
                finishAuth(user: parts.count == 3 ? parts[1] : "", password: parts.count == 3 ? parts[2] : "", context)
            } else {
                send(context, "504 5.5.4 Unrecognized authentication type")
            }
        case "MAIL":
            if account != nil && current.authenticatedAs == nil { return send(context, "530 5.7.0 Authentication required") }
            current.sender = address(line)
            send(context, "250 2.1.0 Ok")
        case "RCPT":
            current.recipients.append(address(line))
            send(context, "250 2.1.5 Ok")
        case "DATA":
            inData = true
            send(context, "354 End data with <CR><LF>.<CR><LF>")
        case "QUIT":
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "221 2.0.0 Bye\r\n"))).whenComplete { _ in
                context.close(promise: nil)
            }
        default:
            send(context, "250 2.0.0 Ok")
        }
    }

    private func finishAuth(user: String, password: String, _ context: ChannelHandlerContext) {
        if let account, account.user == user, account.password == password {
            current.authenticatedAs = user
            send(context, "235 2.7.0 Authentication successful")
        } else {
            current.authenticatedAs = nil
            send(context, "535 5.7.8 Error: authentication failed: authentication failure")
        }
    }

    private func decode(_ text: String) -> String {
        Data(base64Encoded: text).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    private func address(_ line: String) -> String {
        String(line.split(separator: "<").last?.split(separator: ">").first ?? "")
    }
}

/// A CA and a server certificate signed by it, made with openssl(1) (installed by .ci/run).
struct TestCertificates {
    let caFile: String
    let chainFile: String
    let keyFile: String

    static func make(in directory: String, names: [String]) throws -> TestCertificates {
        let certificates = TestCertificates(
            caFile: "\(directory)/ca.pem", chainFile: "\(directory)/server.pem", keyFile: "\(directory)/server.key")
        let san = names.map { "DNS:\($0)" }.joined(separator: ",")
        let script = """
            set -e
            cd '\(directory)'
            openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj '/CN=Tern Test CA' 2>/dev/null
            openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj '/CN=\(names[0])' 2>/dev/null
            printf 'subjectAltName=\(san)\\n' > ext.cnf
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 \
              -extfile ext.cnf 2>/dev/null
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw POSIXError(.EIO) }
        return certificates
    }
}
