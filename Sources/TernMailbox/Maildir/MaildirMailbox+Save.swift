import Glibc

extension MaildirMailbox {
    /// Starts an APPEND into this mailbox. The message shows up here at the next `sync()`.
    public func beginAppend(flags: MessageFlags, keywords: [String], internalDate: Int?)
        throws(MailboxError) -> any MailboxAppender
    {
        try MessageAppender(folder: folder, flags: flags, keywords: keywords, internalDate: internalDate)
    }

    /// COPY (and the copy half of MOVE) into another mailbox of the same user: hard links, as Dovecot's
    /// maildir_copy, with a byte copy where linking is not possible. Flags and keywords are kept, `\Recent` is
    /// not. Returns (source UID, new UID) pairs for COPYUID (RFC 4315); expunged sources are left out.
    public func copy(uids: [UInt32], to destination: MaildirMailbox) throws(MailboxError) -> [(UInt32, UInt32)] {
        try copy(uids: uids, into: destination.folder)
    }

    func copy(uids: [UInt32], into target: MaildirFolder) throws(MailboxError) -> [(UInt32, UInt32)] {
        try target.ensureDirectories()
        var files: [MessageAppender.Delivery] = []
        var sources: [UInt32] = []
        do throws(MailboxError) {
            for uid in uids {
                guard let index = index(of: uid) else { continue }
                let message = messages[index]
                var base = MessageAppender.uniqueBase() + ",S=\(message.size)"
                if let vsize = message.knownVirtualSize { base += ",W=\(vsize)" }
                let tmp = target.tmp + "/" + base
                guard try linkOrCopy(index: index, to: tmp) else { continue }
                files.append(
                    MessageAppender.Delivery(
                        source: tmp, base: base, flags: message.flags, keywords: message.keywords,
                        guid: messageGUID(uid: uid)))
                sources.append(uid)
            }
            let newUIDs = try MessageAppender.deliver(files, into: target)
            return Array(zip(sources, newUIDs))
        } catch {
            for file in files { unlink(file.source) }
            throw error
        }
    }

    /// Puts the message at `index` at `path` (a tmp/ name): link(2), else a copy with the same mtime.
    /// False when the message is gone.
    private func linkOrCopy(index: Int, to path: String) throws(MailboxError) -> Bool {
        var source = messagePath(messages[index])
        if link(source, path) == 0 { return true }
        if errno == ENOENT {
            guard let found = try locate(messages[index].baseName) else { return false }
            messages[index].directory = found.directory
            messages[index].fileName = found.name
            source = messagePath(messages[index])
            if link(source, path) == 0 { return true }
        }
        guard errno == EXDEV || errno == EPERM || errno == EMLINK || errno == EACCES else {
            throw Posix.failure("link", path)
        }
        var reader = try openMessage(uid: messages[index].uid)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd < 0 { throw Posix.failure("open", path) }
        defer { close(fd) }
        do throws(MailboxError) {
            while true {
                let chunk = try reader.read(upTo: 65536)
                if chunk.isEmpty { break }
                try Posix.writeAll(fd, chunk, path: path)
            }
            let date = messages[index].internalDate
            var times = [timespec(tv_sec: date, tv_nsec: 0), timespec(tv_sec: date, tv_nsec: 0)]
            _ = futimens(fd, &times)
            if fsync(fd) != 0 { throw Posix.failure("fsync", path) }
        } catch {
            unlink(path)
            throw error
        }
        return true
    }

    // MARK: POP3

    public func messageGUID(uid: UInt32) -> String? {
        guard let message = message(uid: uid) else { return nil }
        if let kept = records[message.baseName]?.value("G"), !kept.isEmpty { return kept }
        return message.baseName
    }

    /// The POP3 UIDL of a message. A `P` field in the uidlist (a UIDL kept from an earlier server) wins, as in
    /// Dovecot; otherwise `format` is expanded (pop3_uidl_format, default `%08Xu%08Xv`).
    public func pop3UIDL(uid: UInt32, format: String) -> String? {
        guard let message = message(uid: uid) else { return nil }
        if let kept = records[message.baseName]?.value("P"), !kept.isEmpty { return kept }
        return POP3UIDLFormat.expand(format, uid: uid, uidValidity: uidValidity, baseName: message.baseName, guid: guid)
    }
}

/// `pop3_uidl_format` (Dovecot 2.3 pop3-settings): `%u` UID, `%v` UIDVALIDITY, `%f` and `%g` the Maildir file
/// base name (Dovecot's GUID of a Maildir message is its base name), `%%`; each with an optional zero-padded
/// width and `X`/`x` for hex (`%08Xu`). `%m` (an MD5 of the headers) is not supported and expands to nothing.
public enum POP3UIDLFormat {
    public static let dovecotDefault = "%08Xu%08Xv"

    public static func expand(_ format: String, uid: UInt32, uidValidity: UInt32, baseName: String, guid: String)
        -> String
    {
        var out = ""
        var chars = Array(format)[...]
        while let char = chars.popFirst() {
            guard char == "%" else {
                out.append(char)
                continue
            }
            var zeroPad = false
            var width = 0
            var radix = 10
            var uppercase = false
            if chars.first == "0" {
                zeroPad = true
                chars.removeFirst()
            }
            while let digit = chars.first?.wholeNumberValue, chars.first!.isASCII {
                width = min(width * 10 + digit, 64)
                chars.removeFirst()
            }
            if let hex = chars.first, hex == "X" || hex == "x" {
                radix = 16
                uppercase = hex == "X"
                chars.removeFirst()
            }
            guard let variable = chars.popFirst() else { break }
            var value: String
            switch variable {
            case "u": value = String(uid, radix: radix, uppercase: uppercase)
            case "v": value = String(uidValidity, radix: radix, uppercase: uppercase)
            case "f", "g": value = baseName
            case "%": value = "%"
            default: value = ""
            }
            if value.count < width {
                value = String(repeating: zeroPad ? "0" : " ", count: width - value.count) + value
            }
            out += value
        }
        return out
    }
}
