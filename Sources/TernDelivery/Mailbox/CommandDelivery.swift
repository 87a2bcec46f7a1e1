import Glibc

/// Delivery to a command (`mailbox_command`, `|command` aliases and .forward lines) as Postfix local(8)
/// `deliver_command()` and `pipe_command()` do it:
///
/// - the command runs in its own session, directly when it only has plain characters and otherwise through
///   `/bin/sh -c` (or `local_command_shell`), with the environment from `CommandEnvironment`;
/// - its stdin receives `From sender  date`, Return-Path, X-Original-To, Delivered-To and the message,
///   without `>From ` quoting and without a trailing blank line;
/// - its stdout and stderr are captured (4095 bytes) for the bounce text;
/// - `command_time_limit` covers the whole run; a command over the limit is killed and bounced;
/// - a non-zero exit maps through `<sysexits.h>` (EX_TEMPFAIL 75 defers), a `D.S.N text` first output line
///   sets the status, and other codes bounce with `Command died with status N: "command"`.
public struct CommandDelivery: Sendable {
    public var command: String
    /// `NAME=value` entries (see `CommandEnvironment.build`).
    public var environment: [String]
    /// `local_command_shell`; empty runs simple commands directly and others with /bin/sh -c.
    public var shell: String
    /// `command_time_limit` in seconds.
    public var timeLimit: Int
    /// `command_execution_directory`; nil keeps the current directory.
    public var workingDirectory: String?
    /// Name used in the child's fatal messages (`local: fatal: execvp ...`).
    public var programName: String
    /// When set (caller is root), the command runs with these ids.
    public var runAs: (uid: UInt32, gid: UInt32, groups: [UInt32])?

    /// The PATH Postfix gives commands (`_PATH_DEFPATH` of glibc).
    public static let defaultPath = "/usr/bin:/bin"
    static let outputLimit = 4095
    private static let plainCharacters = Set(
        "1234567890!@%-_=+:,./abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ \t".utf8)

    public init(
        command: String, environment: [String], shell: String = "", timeLimit: Int = 1000,
        workingDirectory: String? = nil, programName: String = "local",
        runAs: (uid: UInt32, gid: UInt32, groups: [UInt32])? = nil
    ) {
        self.command = command
        self.environment = environment
        self.shell = shell
        self.timeLimit = timeLimit
        self.workingDirectory = workingDirectory
        self.programName = programName
        self.runAs = runAs
    }

    /// Runs the command with the message on its stdin. Returns normally when the command accepted the mail.
    /// - Parameter date: seconds since the epoch for the `From ` line (nil: now).
    public func run(
        sender: String, header: [UInt8], contentFD: Int32, contentLength: Int? = nil,
        date: Int? = nil
    ) throws(DeliveryFailure) {
        let (path, argv) = try executable()
        guard let input = PipeIO.makePipe() else { throw Self.spawnFailure(errno) }
        guard let output = PipeIO.makePipe() else {
            let code = errno
            close(input.read)
            close(input.write)
            throw Self.spawnFailure(code)
        }
        // Postfix makes the command's output non-blocking: it is read only after the input was written.
        PipeIO.setNonBlocking(output.write)
        let credentials = runAs.map { SpawnCredentials(uid: $0.uid, gid: $0.gid, groups: $0.groups) }
        let child = ChildProcess.spawn(
            path: path, argv: argv, environment: environment, stdin: input.read, stdout: output.write,
            stderr: output.write, credentials: credentials, workingDirectory: workingDirectory)
        let spawnError = errno
        close(input.read)
        close(output.write)
        guard let child else {
            close(input.write)
            close(output.read)
            throw Self.spawnFailure(spawnError)
        }

        var pump = ProcessPump(
            input: input.write, outputs: [(output.read, Self.outputLimit)],
            deadline: Deadline(secondsFromNow: timeLimit))
        var copyFailure: DeliveryFailure?
        do {
            let fromLine = Array(DeliveredHeaders.fromLine(sender: sender, date: date).utf8)
            try MessageCopier.copy(
                from: contentFD, length: contentLength, to: &pump,
                options: MessageCopyOptions(header: fromLine + header, quoteFromLines: false, blankLineAtEnd: false))
        } catch {
            copyFailure = error
        }
        pump.closeInput()
        if !pump.timedOut { _ = pump.drainOutputs() }
        let log = Self.printable(pump.collected[0])
        pump.closeAll()
        if pump.timedOut { child.kill() }
        let (status, waitTimedOut) = child.wait(until: pump.deadline)
        try Self.interpret(
            status: status, timedOut: pump.timedOut || waitTimedOut, log: log, command: command,
            copyFailure: copyFailure, brokenPipe: pump.writeError == EPIPE)
    }

    /// Postfix's reading of the command's fate, in `pipe_command()` order.
    static func interpret(
        status: Int32, timedOut: Bool, log: String, command: String, copyFailure: DeliveryFailure?,
        brokenPipe: Bool
    ) throws(DeliveryFailure) {
        let output = log.isEmpty ? "" : ". Command output: \(log)"
        if timedOut {
            throw DeliveryFailure(dsn: "5.3.0", text: "Command time limit exceeded: \"\(command)\"\(output)")
        }
        let exited = (status & 0x7f) == 0
        let exitCode = (status >> 8) & 0xff
        if !exited {
            throw DeliveryFailure(
                dsn: "5.3.0", text: "Command died with signal \(status & 0x7f): \"\(command)\"\(output)")
        }
        if exitCode != 0 {
            if let (dsn, text) = leadingStatusCode(log) {
                throw DeliveryFailure(dsn: dsn, text: text)
            }
            let detail = SysExits.detail(exitCode)
            if SysExits.isSysExitsCode(exitCode) {
                throw DeliveryFailure(dsn: detail.dsn, text: detail.text + output)
            }
            throw DeliveryFailure(
                dsn: detail.dsn, text: "Command died with status \(exitCode): \"\(command)\"\(output)")
        }
        if let copyFailure, !brokenPipe {
            throw DeliveryFailure(dsn: copyFailure.dsn, text: "Command failed: \(copyFailure.text): \"\(command)\"")
        }
    }

    /// Postfix `dsn_valid()` + `dsn_split()`: output starting with `4.x.y text` or `5.x.y text`.
    static func leadingStatusCode(_ text: String) -> (String, String)? {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, [UInt8(ascii: "2"), UInt8(ascii: "4"), UInt8(ascii: "5")].contains(first),
            bytes.count > 1, bytes[1] == UInt8(ascii: ".")
        else { return nil }
        var index = 2
        for (part, terminator) in [(1, UInt8(ascii: ".")), (2, UInt8(ascii: " "))] {
            let start = index
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 { index += 1 }
            let digits = index - start
            guard digits >= 1, digits <= 3 else { return nil }
            if part == 1 {
                guard index < bytes.count, bytes[index] == terminator else { return nil }
                index += 1
            } else if index < bytes.count && bytes[index] != terminator && bytes[index] != 9 {
                return nil
            }
        }
        let dsn = String(decoding: bytes[..<index], as: UTF8.self)
        let rest = bytes[index...].drop { $0 == 32 || $0 == 9 }
        return (dsn, String(decoding: rest, as: UTF8.self))
    }

    /// Tabs and newlines become spaces and other control characters `_` (Postfix `translit` + `printable`).
    static func printable(_ bytes: [UInt8]) -> String {
        let cleaned = bytes.map { byte -> UInt8 in
            if byte == 9 || byte == 10 { return 32 }
            return byte < 32 || byte == 127 ? UInt8(ascii: "_") : byte
        }
        return String(decoding: cleaned, as: UTF8.self)
    }

    /// argv for the command, after Postfix `exec_command()`; a program that cannot be found is reported as
    /// the child's fatal error would be (EX_TEMPFAIL: deferred).
    func executable() throws(DeliveryFailure) -> (String, [String]) {
        let argv: [String]
        if !shell.isEmpty {
            argv = shell.split(whereSeparator: { " \t\r\n".contains($0) }).map(String.init) + [command]
        } else if command.utf8.allSatisfy({ Self.plainCharacters.contains($0) }) {
            argv = command.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        } else {
            return ("/bin/sh", ["sh", "-c", command])
        }
        let name = argv.first ?? ""
        if let path = Self.resolve(name) { return (path, argv) }
        let prefix = shell.isEmpty ? "" : "pipe_command: "
        let log = "\(programName): fatal: \(prefix)execvp \(name): \(SystemError.text(ENOENT))\n"
        let detail = SysExits.detail(SysExits.temporaryFailure)
        throw DeliveryFailure(
            dsn: detail.dsn, text: detail.text + ". Command output: " + Self.printable(Array(log.utf8)))
    }

    /// execvp(3)'s search through `defaultPath`.
    static func resolve(_ name: String) -> String? {
        guard !name.isEmpty else { return nil }
        if name.contains("/") { return name }
        for directory in defaultPath.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    static func spawnFailure(_ code: Int32) -> DeliveryFailure {
        DeliveryFailure(dsn: "4.3.0", text: "Delivery failed: \(SystemError.text(code))")
    }
}
