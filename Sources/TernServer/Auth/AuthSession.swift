import Foundation
import NIOCore
import TernAuth

/// One auth client connection: writes the handshake, feeds lines to the state machine, runs the credential
/// checks it asks for concurrently (a slow passdb does not hold up other requests on the connection), after
/// the auth penalty of the client's address, and sends failures after auth_failure_delay.
struct AuthSession {
    let connectionID: UInt32
    let service: AuthService
    let limits: AuthServerConnection.Limits

    private enum Event: Sendable {
        case line(String)
        case verified(id: UInt32, serial: UInt64, outcome: AuthOutcome)
        case write(String)
        case lineTooLong
        case ended
    }

    func run(_ connection: NIOAsyncChannel<String, ByteBuffer>) async {
        let hostname = service.settings.hostname
        var machine = AuthServerConnection(mechanisms: service.settings.mechanisms, limits: limits) {
            SASLServerExchange.cramChallenge(hostname: hostname)
        }
        let cookie = AuthCookie.random()
        try? await connection.executeThenClose { inbound, outbound in
            let handshake = machine.handshake(serverPID: getpid(), connectionID: connectionID, cookie: cookie)
            try await outbound.write(Self.buffer(handshake))
            let (events, sink) = AsyncStream<Event>.makeStream()
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    do {
                        for try await line in inbound { sink.yield(.line(line)) }
                    } catch is AuthLineDecoder.LineTooLong {
                        sink.yield(.lineTooLong)
                    } catch {}
                    sink.yield(.ended)
                }
                loop: for await event in events {
                    let actions: [AuthServerConnection.Action]
                    switch event {
                    case .line(let line): actions = machine.receive(line: line)
                    case .verified(let id, let serial, let outcome):
                        actions = machine.complete(id: id, serial: serial, outcome: outcome)
                    case .write(let line): actions = [.send(line)]
                    case .lineTooLong:
                        service.record(
                            AuthLogLine(
                                level: .error,
                                message: "BUG: Authentication client \(machine.clientPID) sent too long line"))
                        break loop
                    case .ended: break loop
                    }
                    var lines: [String] = []
                    var close = false
                    for action in actions {
                        switch action {
                        case .send(let line): lines.append(line)
                        case .log(let line): service.record(line)
                        case .close: close = true
                        case .sendDelayed(let line):
                            let delay = service.settings.failureDelay
                            group.addTask {
                                try? await Task.sleep(for: delay)
                                sink.yield(.write(line))
                            }
                        case .verify(let id, let serial, let step, let request):
                            group.addTask {
                                let outcome = await service.verifyWithPenalty(step, request: request)
                                sink.yield(.verified(id: id, serial: serial, outcome: outcome))
                            }
                        }
                    }
                    if !lines.isEmpty {
                        do { try await outbound.write(Self.buffer(lines)) } catch { break loop }
                    }
                    if close { break loop }
                }
                sink.finish()
                group.cancelAll()
            }
        }
    }

    static func buffer(_ lines: [String]) -> ByteBuffer {
        ByteBuffer(string: lines.map { $0 + "\n" }.joined())
    }
}

/// The handshake's COOKIE: 16 random bytes in hex (Dovecot's login processes hand it to the master).
enum AuthCookie {
    static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}
