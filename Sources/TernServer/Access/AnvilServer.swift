import Foundation
import NIOCore
import NIOPosix
import ServiceLifecycle
import TernAuth

/// `base_dir/anvil` (mode 0600, like Dovecot's): a client first sends `VERSION<TAB>anvil<TAB>1<TAB>0`, then
/// commands; this one answers CONNECT-DUMP, which `doveadm who` asks. Other commands close the connection,
/// as Dovecot's anvil does with a command it does not know.
struct AnvilServer: Service {
    static let maximumLineLength = 1024

    /// The running sessions: Dovecot's ident (`imap/127.0.0.1/user`) and the pid serving each.
    typealias Sessions = @Sendable () -> [(ident: String, pid: Int32)]

    let path: String
    let channel: NIOAsyncChannel<NIOAsyncChannel<String, ByteBuffer>, Never>
    let sessions: Sessions

    static func bind(path: String, sessions: @escaping Sessions) async throws -> AnvilServer {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true) { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(AuthLineDecoder(maximumLength: maximumLineLength)))
                    return try NIOAsyncChannel<String, ByteBuffer>(wrappingChannelSynchronously: child)
                }
            }
        try AuthSocketServer.applyOwnership(.init(path: path, mode: 0o600))
        return AnvilServer(path: path, channel: channel, sessions: sessions)
    }

    func run() async throws {
        let serverChannel = channel.channel
        let sessions = self.sessions
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await channel.executeThenClose { inbound in
                    for try await connection in inbound {
                        group.addTask {
                            try? await connection.executeThenClose { lines, output in
                                var greeted = false
                                for try await line in lines {
                                    guard let reply = Self.answer(line, greeted: &greeted, sessions: sessions) else {
                                        return
                                    }
                                    if !reply.isEmpty { try await output.write(ByteBuffer(string: reply)) }
                                }
                            }
                        }
                    }
                }
            }
        } onGracefulShutdown: {
            serverChannel.close(promise: nil)
        }
        unlink(path)
    }

    /// The reply to one line ("" for none); nil closes the connection.
    static func answer(_ line: String, greeted: inout Bool, sessions: Sessions) -> String? {
        let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
        guard greeted else {
            guard fields.count >= 3, fields[0] == "VERSION", fields[1] == "anvil", fields[2] == "1" else { return nil }
            greeted = true
            return ""
        }
        switch fields[0] {
        case "CONNECT-DUMP": return connectDump(sessions())
        default: return nil
        }
    }

    /// Dovecot's ident: `imap/127.0.0.1/user` (`service/user` without an address).
    static func ident(service: String, remoteIP: String, user: String) -> String {
        remoteIP.isEmpty ? "\(service)/\(user)" : "\(service)/\(remoteIP)/\(user)"
    }

    /// anvil's CONNECT-DUMP answer: `ident<TAB>pid<TAB>sessions` per ident and pid, then an empty line.
    static func connectDump(_ sessions: [(ident: String, pid: Int32)]) -> String {
        var counts: [String: Int] = [:]
        var keys: [String] = []
        for session in sessions {
            let key = "\(AuthProtocolText.escape(session.ident))\t\(session.pid)"
            if counts[key] == nil { keys.append(key) }
            counts[key, default: 0] += 1
        }
        return keys.map { "\($0)\t\(counts[$0] ?? 0)\n" }.joined() + "\n"
    }
}
