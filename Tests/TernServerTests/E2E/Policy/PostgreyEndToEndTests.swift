import Foundation
import Glibc
import Testing

extension DaemonEndToEnd {
    /// `tern postgrey` as a process of its own on 127.0.0.1, and as a master.cf service that smtpd asks
    /// through `check_policy_service`. Delays are 2 seconds; every wait has a timeout.
    @Suite struct Postgrey {
        @Test func standaloneServerGreylistsThenPasses() throws {
            let server = try PostgreyProcess(delay: 2)
            defer { server.stop() }
            let client = try PolicyTestClient(port: server.port)
            var request = [
                "request": "smtpd_access_policy", "protocol_state": "RCPT", "client_address": "192.0.2.77",
                "client_name": "mx.example.net", "sender": "list-bounces+123@example.net",
                "recipient": "Alice@Example.COM", "instance": "a1", "etrn_domain": "", "queue_id": "",
            ]
            let greylisted = "DEFER_IF_PERMIT 4.2.0 Greylisted, see http://postgrey.schweikert.ch/help/Example.COM.html"
            #expect(try client.ask(request) == greylisted)
            request["instance"] = "a2"
            #expect(try client.ask(request) == greylisted)
            usleep(2_300_000)
            request["instance"] = "a3"
            let passed = try client.ask(request)
            #expect(
                passed.wholeMatch(
                    of:
                        #/PREPEND X-Greylist: delayed [23] seconds by postgrey-1\.37 at \S+; \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \w+/#
                )
                    != nil, "\(passed)")
            #expect(try client.ask(request) == "DUNNO")
            // Another connection, another request type: postgrey logs it and answers nothing.
            let other = try PolicyTestClient(port: server.port, timeout: 1)
            #expect(throws: PolicyTestClient.Failure.self) { try other.ask(["request": "junk"]) }
            // Whitelisted recipient (the file names postmaster@).
            request["recipient"] = "postmaster@example.org"
            #expect(try client.ask(request) == "DUNNO")
            if geteuid() == 0 {
                #expect(PostgreyProcess.uid(of: server.pid) == getpwnam("nobody")?.pointee.pw_uid)
            }
            try server.waitForLog("action=greylist, reason=new, client_name=mx.example.net, client_address=192.0.2.77")
        }

        /// smtpd with `check_policy_service inet:127.0.0.1:PORT` in front of a `tern postgrey` of its own.
        @Test func smtpdAsksStandaloneServerOverInet() throws {
            let server = try PostgreyProcess(delay: 2)
            defer { server.stop() }
            try TernInstance.with([
                "smtpd_recipient_restrictions":
                    "check_policy_service inet:127.0.0.1:\(server.port), permit_mynetworks, reject_unauth_destination"
            ]) { instance in
                func attempt() throws -> SMTPTestReply {
                    let client = try SMTPTestClient(port: instance.port)
                    try client.greet("grey.e2e.test")
                    #expect(try client.command("MAIL FROM:<sender@client.e2e.test>").code == 250)
                    let reply = try client.command("RCPT TO:<someone@example.com>")
                    #expect(try client.command("QUIT").code == 221)
                    return reply
                }
                let first = try attempt()
                #expect(first.code == 450, "\(first)")
                #expect(
                    first.last
                        == "4.2.0 <someone@example.com>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.com.html"
                )
                usleep(2_300_000)
                let second = try attempt()
                #expect(second.code == 250, "\(second)")
            }
        }

        /// Also started through a `postgrey` link, as `tern link` makes it.
        @Test func overlongRequestLineClosesTheConnection() throws {
            let server = try PostgreyProcess(delay: 2, throughLink: true)
            defer { server.stop() }
            let client = try PolicyTestClient(port: server.port)
            try client.send(String(repeating: "x", count: 5000))
            #expect(client.waitForClose())
            // The server still answers others.
            let next = try PolicyTestClient(port: server.port)
            #expect(try next.ask(["request": "smtpd_access_policy", "client_address": "192.0.2.1"]) == "DUNNO")
        }

        /// smtpd asks a master.cf postgrey service (`unix:private/postgrey`): 450 with postgrey's text, then
        /// 250 after the delay, and the X-Greylist header on the delivered message; `postfix reload` makes it
        /// re-read its whitelists.
        @Test func masterServiceGreylistsSMTP() throws {
            var root = ""
            defer {
                // `postfix stop` stops the postgrey child too.
                let deadline = Date().addingTimeInterval(10)
                while !PostgreyProcess.processes(mentioning: root).isEmpty && Date() < deadline { usleep(50_000) }
                #expect(PostgreyProcess.processes(mentioning: root).isEmpty)
            }
            try TernInstance.with(
                [
                    "smtpd_recipient_restrictions":
                        "check_policy_service unix:private/postgrey, permit_mynetworks, reject_unauth_destination"
                ], start: false
            ) { instance in
                root = instance.root
                let whitelist = instance.root + "/postgrey-whitelist"
                try "".write(toFile: whitelist, atomically: true, encoding: .utf8)
                chmod(whitelist, 0o644)
                let service =
                    "postgrey  unix  -  -  n  -  1  postgrey --delay=2 --whitelist-clients=\(whitelist)"
                    + " --whitelist-recipients=\(whitelist)\n"
                try (TernInstance.masterCF(port: instance.port) + service).write(
                    toFile: instance.configDirectory + "/master.cf", atomically: true, encoding: .utf8)
                try instance.start()
                let socket = instance.queueDirectory + "/private/postgrey"
                try instance.waitUntil("postgrey's socket \(socket)", timeout: 15) {
                    FileManager.default.fileExists(atPath: socket) ? true : nil
                }
                let first = try SMTPTestClient(port: instance.port)
                try first.greet("grey.e2e.test")
                #expect(try first.command("MAIL FROM:<sender@client.e2e.test>").code == 250)
                let deferred = try first.command("RCPT TO:<alice@virt.test>")
                #expect(deferred.code == 450, "\(deferred)")
                #expect(
                    deferred.last
                        == "4.2.0 <alice@virt.test>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/virt.test.html"
                )
                #expect(try first.command("QUIT").code == 221)
                usleep(2_300_000)
                let second = try SMTPTestClient(port: instance.port)
                try second.greet("grey.e2e.test")
                let end = try second.sendMail(
                    from: "sender@client.e2e.test", to: ["alice@virt.test"], content: "Subject: grey\n\ngrey-token\n")
                #expect(end.queueID != nil, "\(end)")
                #expect(try second.command("QUIT").code == 221)
                let message = try instance.waitForMessage("alice", containing: "grey-token")
                #expect(message.content.contains("X-Greylist: delayed "), "\(message.content)")
                try instance.waitForLogLine(#"postgrey\[\d+\]: action=greylist, reason=new, "#)
                // `postfix reload` reaches postgrey: a client whitelist added now lets new triplets through.
                try "127.0.0.1\n".write(toFile: whitelist, atomically: true, encoding: .utf8)
                chmod(whitelist, 0o644)
                #expect(try instance.postfix("reload").status == 0)
                try instance.waitForLogLine(#"postgrey\[\d+\]: HUP received: reloading whitelists\.\.\."#)
                try instance.waitForLogLine(#"postfix/master\[\d+\]: reload -- version "#)  // the daemon's own too
                let third = try SMTPTestClient(port: instance.port)
                try third.greet("grey.e2e.test")
                #expect(try third.command("MAIL FROM:<other@client.e2e.test>").code == 250)
                let whitelisted = try third.command("RCPT TO:<bob@virt.test>")
                #expect(whitelisted.code == 250, "\(whitelisted)")
                #expect(try third.command("QUIT").code == 221)
                try instance.waitForLogLine(#"postgrey\[\d+\]: action=pass, reason=client whitelist, "#)
                let pids = PostgreyProcess.processes(mentioning: instance.root)
                #expect(pids.count == 1)
                for pid in pids { #expect(PostgreyProcess.uid(of: pid) != 0) }
            }
        }
    }
}

/// `tern postgrey --inet=127.0.0.1:PORT` in a temporary directory (as root it drops to `nobody`).
final class PostgreyProcess {
    let directory: String
    let port: Int
    let process = Process()

    var pid: pid_t { process.processIdentifier }

    init(delay: Int, throughLink: Bool = false) throws {
        let binary = try #require(TernBinary.path, "no tern executable found (\(TernBinary.origin))")
        var template = Array("/tmp/tern-postgrey-XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw POSIXError(.EIO)
        }
        directory = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        chmod(directory, 0o755)
        port = try PortAllocator.claim()
        try "postmaster@\n".write(toFile: directory + "/recipients", atomically: true, encoding: .utf8)
        try "# none\n".write(toFile: directory + "/clients", atomically: true, encoding: .utf8)
        chmod(directory + "/recipients", 0o644)
        chmod(directory + "/clients", 0o644)
        var arguments = [
            "postgrey", "--inet=127.0.0.1:\(port)", "--dbdir=\(directory)/db", "--delay=\(delay)",
            "--whitelist-clients=\(directory)/clients", "--whitelist-recipients", "\(directory)/recipients",
            "--auto-whitelist-clients",
        ]
        if geteuid() == 0, let nobody = getpwnam("nobody"), let group = getgrgid(nobody.pointee.pw_gid) {
            arguments += ["--user=nobody", "--group=\(String(cString: group.pointee.gr_name))"]
        }
        if throughLink {
            try FileManager.default.createSymbolicLink(atPath: directory + "/postgrey", withDestinationPath: binary)
            process.executableURL = URL(fileURLWithPath: directory + "/postgrey")
            process.arguments = Array(arguments.dropFirst())
        } else {
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = arguments
        }
        process.environment = ["TZ": "UTC", "PATH": "/usr/bin:/bin"]
        _ = FileManager.default.createFile(atPath: directory + "/stderr", contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/stderr"))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(15)
        while !TernInstance.portAccepts(port) {
            guard Date() < deadline, process.isRunning else {
                stop()
                throw PolicyTestClient.Failure(description: "postgrey did not start: \(log)")
            }
            usleep(50_000)
        }
    }

    var log: String { (try? String(contentsOfFile: directory + "/stderr", encoding: .utf8)) ?? "" }

    func waitForLog(_ text: String, timeout: Double = 10) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !log.contains(text) {
            guard Date() < deadline else { throw PolicyTestClient.Failure(description: "no \(text) in \(log)") }
            usleep(50_000)
        }
    }

    /// SIGTERM, then SIGKILL if it has not exited within 10 seconds.
    func stop() {
        if process.isRunning {
            kill(pid, SIGTERM)
            let deadline = Date().addingTimeInterval(10)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(pid, SIGKILL) }
            process.waitUntilExit()
        }
        PortAllocator.release(port)
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The real uid of a process (from /proc/PID/status).
    static func uid(of pid: pid_t) -> uid_t? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Uid:") })
        else { return nil }
        return line.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().first.flatMap { uid_t($0) }
    }

    /// Running `tern postgrey` processes whose command line mentions `text`.
    static func processes(mentioning text: String) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { pid_t($0) }.filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let words = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return words.count > 1 && words[1] == "postgrey" && words.contains { $0.contains(text) }
        }
    }
}

/// A policy delegation client with a receive timeout.
final class PolicyTestClient {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    private let fd: Int32

    init(port: Int, timeout: Int = 5) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(fd)
            throw Failure(description: "connect to port \(port): \(String(cString: strerror(errno)))")
        }
    }

    deinit { close(fd) }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBytes({ Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count
        else { throw Failure(description: "send: \(String(cString: strerror(errno)))") }
    }

    /// Sends one request and returns the reply's action.
    func ask(_ attributes: [String: String]) throws -> String {
        try send(attributes.map { "\($0.key)=\($0.value)\n" }.joined() + "\n")
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !(reply.count >= 2 && reply.suffix(2) == [10, 10]) {
            let n = recv(fd, &buffer, buffer.count, 0)
            guard n > 0 else { throw Failure(description: n == 0 ? "connection closed" : "no reply in time") }
            reply += buffer[..<n]
        }
        let text = String(decoding: reply, as: UTF8.self)
        guard text.hasPrefix("action="), text.filter({ $0 == "\n" }).count == 2 else {
            throw Failure(description: "bad reply \(text)")
        }
        return String(text.dropFirst("action=".count).dropLast(2))
    }

    /// Whether the server closes the connection within the receive timeout.
    func waitForClose() -> Bool {
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, 0) == 0
    }
}
