import Crypto
import Foundation
import Synchronization
import Testing

@testable import TernAuth

/// Transcripts captured from Dovecot 2.3.19's auth-client socket (passwd-file passdb, auth_mechanisms =
/// plain login cram-md5), replayed against Tern's state machine. `~FAIL` marks a reply Dovecot sent after
/// auth_failure_delay.
@Suite struct AuthServerConnectionTests {
    struct FixedPassDB: PassDB {
        let driver = "passwd-file"
        let users: [String: String]

        func lookupCredentials(_ request: AuthRequest) async -> CredentialsLookup {
            guard let password = users[request.user] else { return .userUnknown }
            return .found(PassdbEntry(user: request.user, password: StoredPassword(password, defaultScheme: "PLAIN")))
        }
    }

    final class LogSink: Sendable {
        let lines = Mutex<[String]>([])
        func add(_ line: AuthLogLine) { lines.withLock { $0.append(line.message) } }
        var all: [String] { lines.withLock { $0 } }
    }

    static let challenge = Array("<1896.697170952@postoffice.reston.mci.net>".utf8)

    func service(_ log: LogSink) -> AuthService {
        var settings = AuthSettings()
        settings.mechanisms = [.plain, .login, .cramMD5, .apop]
        settings.verbose = true
        return AuthService(
            settings: settings,
            passdbs: [
                FixedPassDB(users: ["alice": "{PLAIN}secret", "tim": "{PLAIN}tanstaaftanstaaf", "bob": "{SHA}x"])
            ],
            log: log.add)
    }

    /// Feeds lines and returns what the server wrote, `~` before delayed lines and `<close>` at a close.
    func transcript(
        _ lines: [String], log: LogSink = LogSink(), version: Bool = true, service given: AuthService? = nil
    ) async -> [String] {
        let service = given ?? service(log)
        var connection = AuthServerConnection(mechanisms: service.settings.mechanisms) { Self.challenge }
        var output: [String] = []
        for line in (version ? ["VERSION\t1\t2", "CPID\t1234"] : []) + lines {
            var actions = connection.receive(line: line)
            while !actions.isEmpty {
                let action = actions.removeFirst()
                switch action {
                case .send(let text): output.append(text)
                case .sendDelayed(let text): output.append("~" + text)
                case .log(let line): log.add(line)
                case .close: output.append("<close>")
                case .verify(let id, let serial, let step, let request):
                    let outcome = await service.verify(step, request: request)
                    actions = connection.complete(id: id, serial: serial, outcome: outcome) + actions
                }
            }
        }
        return output
    }

    func b64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

    /// APOP (pop3-login's private mechanism): MD5(challenge + password) with a challenge of this server;
    /// a successful login uses the challenge up.
    @Test func apopChecksTheDigestAndTheChallenge() async {
        let challenge = APOPChallenges.make(
            serverPID: Int(getpid()), connectionID: 1, hostname: "mx.test", now: Int(Date().timeIntervalSince1970))
        func line(_ id: Int, _ password: String) -> String {
            let digest = Array(Insecure.MD5.hash(data: Array((challenge + password).utf8)))
            return "AUTH\t\(id)\tAPOP\tservice=pop3\tresp="
                + Data(Array("\(challenge)\0tim\0".utf8) + digest).base64EncodedString()
        }
        let log = LogSink()
        let service = service(log)
        let output = await transcript([line(1, "wrong"), line(2, "tanstaaftanstaaf"), line(3, "tanstaaftanstaaf")], log: log, service: service)
        #expect(output == ["~FAIL\t1\tuser=tim", "OK\t2\tuser=tim", "~FAIL\t3\tuser=tim"], "\(output)")
        #expect(log.all.contains("apop(tim): Password mismatch"), "\(log.all)")
        #expect(log.all.contains("apop(tim): invalid challenge"), "the replay: \(log.all)")
    }

    @Test func handshakeLines() {
        let connection = AuthServerConnection(mechanisms: [.plain, .login, .cramMD5]) { [] }
        #expect(
            connection.handshake(serverPID: 7644, connectionID: 1, cookie: "7909ef5b24352f35a8e11c574792e0bd") == [
                "VERSION\t1\t2", "MECH\tPLAIN\tplaintext", "MECH\tLOGIN\tplaintext",
                "MECH\tCRAM-MD5\tdictionary\tactive",
                "SPID\t7644", "CUID\t1", "COOKIE\t7909ef5b24352f35a8e11c574792e0bd", "DONE",
            ])
    }

    @Test func dovecotTranscript() async {
        let log = LogSink()
        let output = await transcript(
            [
                "AUTH\t1\tPLAIN\tservice=smtp\tnologin\tlip=127.0.0.1\trip=1.2.3.4\tsecured\tresp=AGFsaWNlAHNlY3JldA==",
                "AUTH\t2\tPLAIN\tservice=smtp\trip=1.2.3.4\tresp=AGFsaWNlAHdyb25n",
                "AUTH\t3\tPLAIN\tservice=smtp",
                "CONT\t3\tAG5vYm9keQB4",
                "AUTH\t4\tLOGIN\tservice=smtp",
                "CONT\t4\tYWxpY2U=",
                "CONT\t4\tc2VjcmV0",
                "AUTH\t5\tPLAIN\tservice=smtp\tresp=ZGF2ZQBhbGljZQBzZWNyZXQ=",
                "AUTH\t6\tPLAIN\tservice=smtp\tresp=!!!notbase64",
                "AUTH\t7\tPLAIN\tservice=smtp\tresp=YWxpY2UAc2VjcmV0",
                "CONT\t9\tAAAA",
                "AUTH\t8\tLOGIN\tservice=smtp\tresp=YWxpY2U=",
                "CONT\t8\tc2VjcmV0",
            ], log: log)
        #expect(
            output == [
                "OK\t1\tuser=alice",
                "~FAIL\t2\tuser=alice",
                "CONT\t3\t",
                "~FAIL\t3\tuser=nobody",
                "CONT\t4\tVXNlcm5hbWU6",
                "CONT\t4\tUGFzc3dvcmQ6",
                "OK\t4\tuser=alice",
                "~FAIL\t5\tuser=alice",
                "FAIL\t6\tcode=invalid_base64\treason=Invalid base64 data in initial response",
                "~FAIL\t7",
                "FAIL\t9\treason=Authentication request timed out",
                "CONT\t8\tUGFzc3dvcmQ6",
                "OK\t8\tuser=alice",
            ])
        #expect(
            log.all == [
                "passwd-file(alice,1.2.3.4): Password mismatch",
                "passwd-file(nobody): unknown user",
                "plain(alice): login user: Master user login attempted without master passdbs",
                "plain(?): Invalid base64 data in initial response",
                "plain(?): invalid input",
            ])
    }

    @Test func cramMD5AgainstPlaintextSecret() async {
        let output = await transcript([
            "AUTH\t1\tCRAM-MD5\tservice=imap",
            "CONT\t1\t" + b64("tim b913a602c7eda7a495b4e6e7334d3890"),
            "AUTH\t2\tCRAM-MD5\tservice=imap",
            "CONT\t2\t" + b64("tim b913a602c7eda7a495b4e6e7334d3891"),
            "AUTH\t3\tCRAM-MD5\tservice=imap",
            "CONT\t3\t" + b64("bob b913a602c7eda7a495b4e6e7334d3890"),
        ])
        let cont = "CONT\t1\t" + Data(Self.challenge).base64EncodedString()
        #expect(output[0] == cont)
        #expect(output[1] == "OK\t1\tuser=tim")
        #expect(output[3] == "~FAIL\t2\tuser=tim")
        #expect(output[5] == "~FAIL\t3\tuser=bob")
    }

    @Test(arguments: [
        ["AUTH\t1\tXOAUTH\tservice=smtp"],
        ["AUTH\t1\tPLAIN"],
        ["AUTH\t1\tPLAIN\tservice=smtp", "AUTH\t1\tPLAIN\tservice=smtp"],
        ["FOO\tbar"],
        ["AUTH\tx\tPLAIN\tservice=smtp"],
        ["AUTH\t0\tPLAIN\tservice=smtp"],
        ["AUTH\t1\tPLAIN\tservice=smtp\tresp=AA==\tx=y"],
        ["CONT"],
        [String(repeating: "A", count: 20000)],
    ])
    func protocolErrorsDisconnect(lines: [String]) async {
        let output = await transcript(lines)
        #expect(output.last == "<close>")
    }

    @Test func versionMustComeFirst() async {
        #expect(await transcript(["AUTH\t1\tPLAIN\tservice=smtp"], version: false) == ["<close>"])
        #expect(await transcript(["VERSION\t2\t0"], version: false) == ["<close>"])
        #expect(await transcript(["VERSION\t1\t1", "AUTH\t1\tPLAIN\tservice=smtp"], version: false) == ["CONT\t1\t"])
    }

    @Test func unexpectedContinuationAndLateResults() async {
        let service = service(LogSink())
        var connection = AuthServerConnection(mechanisms: [.plain]) { [] }
        _ = connection.receive(line: "VERSION\t1\t2")
        let actions = connection.receive(line: "AUTH\t1\tPLAIN\tservice=smtp\tresp=" + b64("\0alice\0secret"))
        guard case .verify(let id, let serial, let step, let request) = actions.first else {
            Issue.record("\(actions)")
            return
        }
        // The client continues while the check runs: Dovecot drops the request and the result with it.
        #expect(
            connection.receive(line: "CONT\t1\tAAAA") == [
                .log(AuthLogLine(level: .info, message: "plain(?): Unexpected continuation")),
                .send("FAIL\t1\treason=Unexpected continuation"),
            ])
        let outcome = await service.verify(step, request: request)
        #expect(connection.complete(id: id, serial: serial, outcome: outcome) == [])
        #expect(connection.pendingRequests == 0)
    }

    @Test func pendingRequestsAreBounded() {
        var limits = AuthServerConnection.Limits()
        limits.maximumPendingRequests = 3
        var connection = AuthServerConnection(mechanisms: [.plain], limits: limits) { [] }
        _ = connection.receive(line: "VERSION\t1\t2")
        for id in 1...3 {
            #expect(connection.receive(line: "AUTH\t\(id)\tPLAIN\tservice=smtp") == [.send("CONT\t\(id)\t")])
        }
        #expect(connection.receive(line: "AUTH\t4\tPLAIN\tservice=smtp").last == .close)
        #expect(connection.receive(line: "AUTH\t5\tPLAIN\tservice=smtp") == [])
    }

    @Test func garbageLinesNeverCrash() {
        var generator = SystemRandomNumberGenerator()
        let words = [
            "AUTH", "CONT", "CANCEL", "CPID", "VERSION", "1", "PLAIN", "LOGIN", "service=smtp", "resp=", "=", "\t",
            "\u{1}",
        ]
        for _ in 0..<500 {
            var connection = AuthServerConnection(mechanisms: [.plain, .login, .cramMD5]) { [1] }
            _ = connection.receive(line: "VERSION\t1\t2")
            for _ in 0..<10 {
                let count = Int.random(in: 0...8, using: &generator)
                let line = (0..<count).map { _ in words.randomElement(using: &generator)! }.joined(separator: "\t")
                _ = connection.receive(line: line)
            }
        }
    }

    @Test func tabEscaping() {
        #expect(AuthProtocolText.escape("a\tb\u{1}c\nd") == "a\u{1}tb\u{1}1c\u{1}nd")
        #expect(AuthProtocolText.unescape("a\u{1}tb\u{1}1c\u{1}nd") == "a\tb\u{1}c\nd")
        #expect(AuthClientReply(line: "OK\t4\tuser=alice") == .ok(id: 4, fields: ["user=alice"]))
        #expect(AuthClientReply(line: "FAIL\t2\tuser=alice")?.user == "alice")
        #expect(AuthClientReply(line: "CONT\t4\tVXNlcm5hbWU6") == .cont(id: 4, challenge: "VXNlcm5hbWU6"))
        #expect(AuthClientReply(line: "NOPE\t1") == nil)
    }
}
