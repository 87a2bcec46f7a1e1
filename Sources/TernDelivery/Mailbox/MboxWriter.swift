import Glibc

/// Appends one message to a UNIX mbox file as Postfix local(8) does for `mail_spool_directory/user`,
/// `home_mailbox = Mailbox` and `/file/name` alias or .forward targets (`deliver_mailbox_file()`,
/// `deliver_file()`, `mail_copy()` with MAIL_COPY_MBOX):
///
///     From sender  Thu Nov 30 11:12:35 2023
///     Return-Path: <sender>            (the prepended header lines)
///     ...message, with ">From " for lines that start with "From "...
///                                      (blank line)
///
/// The file is opened and locked by `LockedMailbox` (`mailbox_delivery_lock`), created with mode 0600 when
/// missing, fsynced, and truncated back to its original size when anything fails. `mailbox_size_limit` is
/// enforced like Postfix's file size resource limit: the append fails with EFBIG (5.2.2) when the file would
/// grow past the limit. Errors are reported without the `cannot update mailbox ...` prefix (see
/// `DeliveryWorker`).
public struct MboxWriter: Sendable {
    public var lockPolicy: MailboxLockPolicy
    /// `mailbox_size_limit`; 0 means no limit.
    public var sizeLimit: Int
    /// `strict_mailbox_ownership`: refuse (4.2.0) a mailbox not owned by this uid.
    public var requiredOwner: UInt32?
    /// Mailbox deliveries refuse anything but a regular file; `/file` deliveries may write to devices.
    public var requireRegularFile: Bool
    /// `/file` deliveries refuse executable files (5.7.1 `file is executable`).
    public var refuseExecutable: Bool
    /// `/file` deliveries tolerate a dot-lock that cannot be created (Postfix MBOX_DOT_LOCK_MAY_FAIL).
    public var dotLockMayFail: Bool
    /// Owner given to a mailbox file created by this delivery (root-owned spool: chown to the user).
    public var createOwnership: FileOwnership?
    /// Status code for errors without a more specific one (`5.2.0` in local(8)).
    public var defaultDSN: String

    public init(
        lockPolicy: MailboxLockPolicy = MailboxLockPolicy(), sizeLimit: Int = 0, requiredOwner: UInt32? = nil,
        requireRegularFile: Bool = true, refuseExecutable: Bool = false, dotLockMayFail: Bool = false,
        createOwnership: FileOwnership? = nil, defaultDSN: String = "5.2.0"
    ) {
        self.lockPolicy = lockPolicy
        self.sizeLimit = sizeLimit
        self.requiredOwner = requiredOwner
        self.requireRegularFile = requireRegularFile
        self.refuseExecutable = refuseExecutable
        self.dotLockMayFail = dotLockMayFail
        self.createOwnership = createOwnership
        self.defaultDSN = defaultDSN
    }

    /// The writer Postfix uses for a `/file/name` alias, :include: or .forward target.
    public static func forFileDestination(lockPolicy: MailboxLockPolicy, sizeLimit: Int) -> MboxWriter {
        MboxWriter(
            lockPolicy: lockPolicy, sizeLimit: sizeLimit, requireRegularFile: false, refuseExecutable: true,
            dotLockMayFail: true)
    }

    /// Appends the message.
    /// - Parameters:
    ///   - sender: envelope sender for the `From ` line (empty: MAILER-DAEMON).
    ///   - header: the prepended header lines (Return-Path etc.), written after the `From ` line.
    ///   - contentFD: message content, read until EOF or `contentLength` bytes.
    ///   - date: seconds since the epoch for the `From ` line (nil: now).
    ///   - warnings: receives non-fatal problems Postfix would log as warnings.
    public func append(
        to path: String, sender: String, header: [UInt8], contentFD: Int32, contentLength: Int? = nil,
        date: Int? = nil, warnings: inout [String]
    ) throws(DeliveryFailure) {
        let mailbox = try LockedMailbox.open(
            path, mode: 0o600, createOwnership: createOwnership, policy: lockPolicy, defaultDSN: defaultDSN,
            dotLockMayFail: dotLockMayFail, warnings: &warnings)
        let st = mailbox.status
        let isRegular = (st.st_mode & S_IFMT) == S_IFREG
        if requireRegularFile && !isRegular {
            mailbox.release()
            throw DeliveryFailure(dsn: "5.2.0", text: "destination \(path) is not a regular file")
        }
        if let requiredOwner, st.st_uid != uid_t(requiredOwner) {
            mailbox.release()
            warnings.append("specify \"strict_mailbox_ownership = no\" to ignore mailbox ownership mismatch")
            throw DeliveryFailure(dsn: "4.2.0", text: "destination \(path) is not owned by recipient")
        }
        if refuseExecutable && isRegular && (st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) != 0 {
            mailbox.release()
            throw DeliveryFailure(dsn: "5.7.1", text: "file is executable")
        }

        let header = Array(DeliveredHeaders.fromLine(sender: sender, date: date).utf8) + header
        let originalSize = isRegular ? Int(lseek(mailbox.fd, 0, SEEK_END)) : 0
        var sink = FileSink(fd: mailbox.fd, size: max(0, originalSize), limit: isRegular ? sizeLimit : 0)
        var failure: DeliveryFailure?
        do {
            try MessageCopier.copy(
                from: contentFD, length: contentLength, to: &sink,
                options: MessageCopyOptions(header: header, quoteFromLines: true, blankLineAtEnd: true))
            if isRegular && fsync(mailbox.fd) != 0 { failure = SystemError.writeFailure(errno) }
        } catch {
            failure = error
        }
        // Undo a partial append while we still hold the locks (MAIL_COPY_TOFILE).
        if failure != nil && isRegular && originalSize >= 0 {
            _ = ftruncate(mailbox.fd, off_t(originalSize))
        }
        if let code = mailbox.release(), failure == nil { failure = SystemError.writeFailure(code) }
        if let failure { throw failure }
    }

    /// Postfix's choice of privileges for `mail_spool_directory` deliveries: a world-writable spool (or a
    /// home-directory mailbox) is written as the user; a group-writable spool as the user with the spool's
    /// group; otherwise as root, chowning a newly created mailbox to the user.
    public static func spoolCredentials(spoolDirectory: String?, uid: UInt32, gid: UInt32)
        -> (uid: UInt32, gid: UInt32, createOwnership: FileOwnership?)
    {
        var st = stat()
        guard let spoolDirectory, stat(spoolDirectory, &st) == 0, (st.st_mode & S_IWOTH) == 0 else {
            return (uid, gid, nil)
        }
        if (st.st_mode & S_IWGRP) != 0 { return (uid, UInt32(st.st_gid), nil) }
        return (0, 0, FileOwnership(uid: uid, gid: gid))
    }
}
