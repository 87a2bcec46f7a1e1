import Foundation

/// The `checkpassword` passdb: `args = /path/to/checkpassword` runs the program with the qmail checkpassword
/// interface (http://cr.yp.to/checkpwd/interface.html): `user NUL password NUL timestamp NUL` on fd 3, and
/// `/bin/true` as the command it runs on success. Exit 0 means verified, 1 a wrong password or unknown user,
/// anything else (2 misuse, 111 temporary) an internal failure. SERVICE, TCPLOCALIP and TCPREMOTEIP are set
/// as Dovecot sets them. Dovecot's checkpassword-reply extra fields (fd 4) are not read.
public struct CheckpasswordDB: PassDB {
    public let driver = "checkpassword"
    public let program: String
    /// Where a checkpassword program runs on success (qmail's "prog").
    static let successCommand = "/bin/true"
    /// The interface allows 512 bytes of input.
    static let maximumInput = 512

    public init(args: String) {
        program = args.trimmingCharacters(in: .whitespaces)
    }

    public func lookupCredentials(_ request: AuthRequest) async -> CredentialsLookup {
        .internalFailure("checkpassword: passdb doesn't support credential lookups")
    }

    public func verifyPlain(_ request: AuthRequest, password: [UInt8]) async -> PassdbResult {
        let input =
            Array(request.user.utf8) + [0] + password + [0] + Array(String(Int(Date().timeIntervalSince1970)).utf8) + [
                0
            ]
        guard input.count <= Self.maximumInput, !request.user.utf8.contains(0) else { return .passwordMismatch }
        var environment = ["SERVICE=\(request.service)", "PATH=/usr/bin:/bin"]
        if let local = request.localIP { environment.append("TCPLOCALIP=\(local)") }
        if let remote = request.remoteIP { environment.append("TCPREMOTEIP=\(remote)") }
        let program = self.program
        let variables = environment
        let status = await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            Thread { continuation.resume(returning: Self.run(program, input: input, environment: variables)) }.start()
        }
        switch status {
        case 0: return .ok(user: request.user, fields: [])
        case 1: return .passwordMismatch
        case -1: return .internalFailure("execv(\(program)) failed: \(String(cString: strerror(errno)))")
        default: return .internalFailure("Child \(program) exited with status \(status)")
        }
    }

    /// Spawns the program with the input on fd 3; its exit status, or -1 when it could not be started.
    static func run(_ program: String, input: [UInt8], environment: [String]) -> Int32 {
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else { return -1 }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipeEnds[0], 3)
        posix_spawn_file_actions_addclose(&actions, pipeEnds[1])
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        let arguments = [program, successCommand].map { (text: String) in strdup(text) } + [nil]
        let environmentPointers = environment.map { (text: String) in strdup(text) } + [nil]
        defer {
            arguments.forEach { free($0) }
            environmentPointers.forEach { free($0) }
        }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, program, &actions, nil, arguments, environmentPointers)
        close(pipeEnds[0])
        guard spawned == 0 else {
            close(pipeEnds[1])
            errno = spawned
            return -1
        }
        input.withUnsafeBytes { bytes in _ = write(pipeEnds[1], bytes.baseAddress, bytes.count) }
        close(pipeEnds[1])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        // WIFEXITED / WEXITSTATUS: a signal-killed checkpassword counts as an internal failure.
        return status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}
