import Glibc

/// Delivers one message into a Maildir the way Postfix local(8) `deliver_maildir()` does, so that Dovecot and
/// other maildir(5) readers find it (http://cr.yp.to/proto/maildir.html):
///
/// 1. create `tmp/<seconds>.P<pid>R<random>.<host>` with O_EXCL and mode 0600 (creating `tmp/` and any
///    missing parents with mode 0700 when it does not exist),
/// 2. write the prepended headers and the message, fsync the file,
/// 3. link it as `new/<seconds>.V<dev hex>I<inode hex>M<usec>.<host>` (creating `cur/` and `new/` when the
///    link finds no directory), unlink the tmp name, fsync `new/` and `tmp/`.
///
/// Any failure removes the tmp file and is reported with Postfix's text, without the
/// `maildir delivery failed: ` prefix that `DeliveryWorker` adds.
public struct MaildirWriter: Sendable {
    /// The host part of file names (Postfix uses gethostname(2)); `/` and `:` are encoded as maildir(5) says.
    public var hostname: String
    /// `mailbox_size_limit` (or `virtual_mailbox_limit`) applied to the message file; 0 means no limit.
    public var sizeLimit: Int
    /// When set, created directories and the message file are given this owner (root writing for a user).
    public var ownership: FileOwnership?

    public init(hostname: String, sizeLimit: Int = 0, ownership: FileOwnership? = nil) {
        self.hostname = hostname
        self.sizeLimit = sizeLimit
        self.ownership = ownership
    }

    /// Writes the message and returns the path of the file in `new/`.
    /// - Parameters:
    ///   - maildir: the Maildir directory, with or without a trailing slash (`/home/u/Maildir/`).
    ///   - header: bytes written before the message (the Return-Path/X-Original-To/Delivered-To lines).
    ///   - contentFD: descriptor positioned at the message start; read until EOF or `contentLength` bytes.
    ///   - uniqueName: a name the caller guarantees unique for this message and recipient (Tern uses
    ///     `<arrival>.Q<queue ID>R<recipient>N<copy>`), so that a delivery repeated after a crash finds its copy.
    ///   - skipIfPresent: with `uniqueName`, look in `new/` and `cur/` first and do nothing when the message
    ///     is already there (the first attempt was cut off after writing, before it was recorded).
    public func deliver(
        to maildir: String, header: [UInt8], contentFD: Int32, contentLength: Int? = nil, uniqueName: String? = nil,
        skipIfPresent: Bool = false
    ) throws(DeliveryFailure) -> String {
        var base = maildir
        while base.count > 1 && base.hasSuffix("/") { base.removeLast() }
        let tmpDir = base + "/tmp"
        let newDir = base + "/new"
        let curDir = base + "/cur"

        var now = timeval()
        gettimeofday(&now, nil)
        let host = Self.safeHostname(hostname)
        if let uniqueName, skipIfPresent, let existing = Self.existing("\(uniqueName).\(host)", newDir, curDir) {
            return existing
        }
        let tmpPath =
            "\(tmpDir)/\(now.tv_sec).P\(getpid())R\(String(UInt32.random(in: 0...UInt32.max), radix: 16)).\(host)"

        let createFlags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC
        var fd = open(tmpPath, createFlags, 0o600)
        if fd < 0 && errno == ENOENT {
            if let failure = DirectoryMaker.make(tmpDir, mode: 0o700, ownership: ownership) {
                throw Self.createFailure(tmpPath, code: failure)
            }
            fd = open(tmpPath, createFlags, 0o600)
        }
        if fd < 0 { throw Self.createFailure(tmpPath, code: errno) }
        defer { _ = unlink(tmpPath) }  // the new/ link (if any) keeps the message

        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let code = errno
            close(fd)
            throw Self.createFailure(tmpPath, code: code)
        }
        ownership?.apply(to: fd)
        let name =
            uniqueName.map { "\($0).\(host)" }
            ?? "\(now.tv_sec).V\(String(UInt(st.st_dev), radix: 16))I\(String(UInt(st.st_ino), radix: 16))"
            + "M\(now.tv_usec).\(host)"
        let newPath = "\(newDir)/\(name)"

        var sink = FileSink(fd: fd, size: 0, limit: sizeLimit)
        do {
            try MessageCopier.copy(
                from: contentFD, length: contentLength, to: &sink,
                options: MessageCopyOptions(header: header, quoteFromLines: false, blankLineAtEnd: false))
        } catch {
            close(fd)
            throw error
        }
        if fsync(fd) != 0 {
            let code = errno
            close(fd)
            throw SystemError.writeFailure(code)
        }
        if close(fd) != 0 { throw SystemError.writeFailure(errno) }

        if link(tmpPath, newPath) != 0 {
            var code = errno
            if code == ENOENT {
                _ = DirectoryMaker.make(curDir, mode: 0o700, ownership: ownership)
                if let failure = DirectoryMaker.make(newDir, mode: 0o700, ownership: ownership) {
                    code = failure
                } else if link(tmpPath, newPath) == 0 {
                    code = 0
                } else {
                    code = errno
                }
            }
            // A fixed unique name already in new/ is this very message from an interrupted attempt.
            if code == EEXIST && uniqueName != nil { code = 0 }
            if code != 0 { throw Self.createFailure(newPath, code: code) }
        }
        // The rename is only durable once the directory entries are on disk (Postfix leaves this to the
        // file system; Tern promises the message survives a crash once it reports "delivered").
        DirectoryMaker.sync(newDir)
        _ = unlink(tmpPath)  // a tmp/ entry left by a crash is harmless: maildir readers ignore tmp/
        return newPath
    }

    /// The path of `name` in new/, or of `name:2,...` in cur/ (a reader may have moved it), if present.
    static func existing(_ name: String, _ newDir: String, _ curDir: String) -> String? {
        if access("\(newDir)/\(name)", F_OK) == 0 { return "\(newDir)/\(name)" }
        guard let dir = opendir(curDir) else { return nil }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let entryName = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if entryName == name || entryName.hasPrefix(name + ":") { return "\(curDir)/\(entryName)" }
        }
        return nil
    }

    /// `create maildir file %s: %m` with `mbox_dsn(errno, "4.2.0")`.
    static func createFailure(_ path: String, code: Int32) -> DeliveryFailure {
        DeliveryFailure(
            dsn: SystemError.mailboxDSN(code, fallback: "4.2.0"),
            text: "create maildir file \(path): \(SystemError.text(code))")
    }

    /// maildir(5): "To deal with invalid host names, replace / with \057 and : with \072".
    static func safeHostname(_ name: String) -> String {
        var host = name.isEmpty ? Self.systemHostname() : name
        host = host.split(separator: "/", omittingEmptySubsequences: false).joined(separator: "\\057")
        return host.split(separator: ":", omittingEmptySubsequences: false).joined(separator: "\\072")
    }

    /// gethostname(2), as Postfix `get_hostname()` uses for maildir names.
    public static func systemHostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return bytes.isEmpty ? "localhost" : String(decoding: bytes, as: UTF8.self)
    }
}

/// `mkdir -p` with Postfix `make_dirs()` semantics, plus directory fsync.
enum DirectoryMaker {
    /// Creates `path` and missing parents with `mode`. Returns nil on success or the errno.
    static func make(_ path: String, mode: mode_t, ownership: FileOwnership?) -> Int32? {
        var st = stat()
        if stat(path, &st) == 0 { return (st.st_mode & S_IFMT) == S_IFDIR ? nil : ENOTDIR }
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += "/" + component
            if mkdir(prefix, mode) == 0 {
                ownership?.apply(toPath: prefix)
                continue
            }
            let code = errno
            if code == EEXIST, stat(prefix, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR { continue }
            return code == EEXIST ? ENOTDIR : code
        }
        return nil
    }

    /// fsync(2) on a directory so that created or removed entries are durable.
    static func sync(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }
}
