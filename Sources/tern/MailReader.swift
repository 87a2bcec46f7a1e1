import Foundation
import TernDelivery

/// mail(1) / mailx reading a mailbox, as Debian's bsd-mailx 8.1.2 with its /etc/mail.rc does: `mail` reads
/// the system mailbox ($MAIL, else /var/mail/USER), `mail -f [FILE]` a folder (default ~/mbox; an mbox file
/// or a Maildir). It lists the headers, then runs commands from stdin until `quit` (or end of input), which
/// writes the changes back; `xit` leaves the mailbox as it was.
struct MailReader {
    struct Options {
        var folder: String?
        var useFolder = false
        var user: String?
        var listHeaders = true

        /// The reading options, or nil when the arguments ask to send (recipients or sending flags).
        init?(_ arguments: [String]) {
            var index = 0
            while index < arguments.count {
                let argument = arguments[index]
                switch argument {
                case "-f":
                    useFolder = true
                    if index + 1 < arguments.count, !arguments[index + 1].hasPrefix("-") {
                        index += 1
                        folder = arguments[index]
                    }
                case "-u":
                    guard index + 1 < arguments.count else { return nil }
                    index += 1
                    user = arguments[index]
                case "-N": listHeaders = false
                case "-n", "-v", "-i", "-I": break
                default: return nil
                }
                index += 1
            }
        }
    }

    /// Debian's /etc/mail.rc: `ignore Received Message-Id Resent-Message-Id Status Mail-From Return-Path Via
    /// Delivered-To`.
    static let ignoredFields: Set<String> = [
        "received", "message-id", "resent-message-id", "status", "mail-from", "return-path", "via", "delivered-to",
    ]

    var session: MailSession
    var folder: MailFolder
    let displayName: String
    let writer = FolderWriter()
    let home: String
    var out = MailOutput()
    let width: Int
    let pageSize: Int

    static func run(_ options: Options, environment: [String: String]) -> Int32 {
        let account = getpwuid(getuid())
        let user = options.user ?? account.map { String(cString: $0.pointee.pw_name) } ?? environment["USER"] ?? ""
        let home = environment["HOME"] ?? account.map { String(cString: $0.pointee.pw_dir) } ?? "/"
        let path: String
        if options.useFolder {
            path = expand(options.folder ?? "&", home: home, environment: environment)
        } else if let user = options.user {
            path = "/var/mail/" + user
        } else {
            path = environment["MAIL"] ?? "/var/mail/" + user
        }
        let folder: MailFolder
        do {
            folder = try MailFolder.read(path: path, lockPolicy: MailboxLockPolicy())
        } catch {
            if !options.useFolder {
                FileHandle.standardError.write(Data("No mail for \(user)\n".utf8))
            } else {
                FileHandle.standardError.write(Data("mail: \(error.text)\n".utf8))
            }
            return 1
        }
        if !options.useFolder && folder.messages.isEmpty {
            FileHandle.standardError.write(Data("No mail for \(user)\n".utf8))
            return 1
        }
        var reader = MailReader(
            session: MailSession(messages: folder.messages, isSystemMailbox: !options.useFolder), folder: folder,
            displayName: path, home: home, environment: environment)
        return reader.loop(listHeaders: options.listHeaders)
    }

    init(session: MailSession, folder: MailFolder, displayName: String, home: String, environment: [String: String]) {
        self.session = session
        self.folder = folder
        self.displayName = displayName
        self.home = home
        // mailx uses the terminal's size, and 80 columns with 24 lines (20 headers) otherwise.
        var size = winsize()
        if isatty(1) == 1, ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0, size.ws_row > 4 {
            width = Int(size.ws_col)
            pageSize = Int(size.ws_row) - 4
        } else {
            width = 80
            pageSize = 20
        }
        mboxPath = Self.expand(environment["MBOX"] ?? "~/mbox", home: home, environment: environment)
    }

    let mboxPath: String

    /// `~/x`, `&` (~/mbox) as mailx expands file names.
    static func expand(_ name: String, home: String, environment: [String: String]) -> String {
        if name == "&" { return environment["MBOX"] ?? home + "/mbox" }
        if name == "~" { return home }
        if name.hasPrefix("~/") { return home + name.dropFirst() }
        return name
    }

    mutating func loop(listHeaders: Bool) -> Int32 {
        out.line("Mail version 8.1.2 01/15/2001.  Type ? for help.")
        out.line(session.announcement(name: displayName))
        if listHeaders && !session.messages.isEmpty { showHeaders(around: nil) }
        let interactive = isatty(0) == 1
        while true {
            if interactive { out.text("& ") }
            out.flush()
            guard let line = readLine(strippingNewline: true) else { break }
            switch execute(line.trimmingCharacters(in: .whitespaces)) {
            case .continue: continue
            case .quit: return quit()
            case .exit:
                out.flush()
                return 0
            }
        }
        return quit()
    }
}

/// Buffered standard output for the reader (a script reading our output gets it before each prompt).
struct MailOutput {
    private var buffer: [UInt8] = []

    mutating func text(_ text: String) { bytes(Array(text.utf8)) }
    mutating func line(_ text: String) { bytes(Array((text + "\n").utf8)) }

    mutating func bytes(_ bytes: some Collection<UInt8>) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 64 * 1024 { flush() }
    }

    mutating func flush() {
        guard !buffer.isEmpty else { return }
        FileHandle.standardOutput.write(Data(buffer))
        buffer.removeAll(keepingCapacity: true)
    }
}
