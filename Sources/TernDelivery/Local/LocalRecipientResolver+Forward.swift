import Glibc
import TernCore

/// ~/.forward, :include: and mailbox selection (Postfix dotforward.c, include.c, mailbox.c).
extension LocalRecipientResolver {
    /// deliver_dotforward: the first existing forward_path file, if it is a regular file owned by
    /// the user or root and not world-writable (others are ignored with a warning, as Postfix does).
    /// Returns true when the file named at least one destination.
    func deliverDotForward(_ attrIn: DeliverAttributes, _ usrIn: UserAttributes, _ walk: inout Walk) async -> Bool {
        var attr = attrIn
        attr.level += 1
        guard !settings.forwardPath.trimmingWhitespace().isEmpty else { return false }
        guard let account = try? users.user(named: attr.user) else { return false }
        let usr = UserAttributes(account)
        attr.expansion = .forward
        attr.owner = attr.user
        var found: (path: String, st: stat)?
        for entry in settings.forwardPath.split(whereSeparator: { ", \t\r\n".contains($0) }) {
            let expanded = expansion(attr, usr, filter: settings.forwardExpansionFilter).expand(String(entry))
            guard !expanded.undefined, !expanded.syntaxError else { continue }
            var st = stat()
            if lstat(expanded.text, &st) == 0 {
                if expanded.usedExtension || !settings.propagateUnmatchedExtensions.forward { attr.unmatched = nil }
                found = (expanded.text, st)
                break
            }
        }
        guard let (path, st) = found else { return false }
        guard walk.firstTime("forward \(path)") else {
            // Recursion into our own .forward: only "done" files count as handled.
            return walk.seen.contains("forward-done \(path)")
        }
        attr.expandedFrom = attr.local
        if (st.st_mode & S_IFMT) != S_IFREG {
            walk.warnings.append("file \(path) is not a regular file")
            return false
        }
        if st.st_uid != 0 && st.st_uid != usr.uid {
            walk.warnings.append("file \(path) has bad owner uid \(st.st_uid)")
            return false
        }
        if st.st_mode & S_IWOTH != 0 {
            walk.warnings.append("file \(path) is world writable")
            return false
        }
        let lines: [String]
        switch FileAccess.readLines(path, as: account, lineLimit: settings.lineLengthLimit) {
        case .success(let text): lines = text
        case .failure(let error):
            walk.warnings.append("cannot open file \(path): \(error.message)")
            return false
        }
        var count = 0
        for line in lines where !line.hasPrefix("#") {
            for destination in AddressListTokenizer.destinations(in: line) {
                count += 1
                await deliverToken(attr, usr, destination, &walk)
            }
        }
        guard count > 0 else { return false }
        _ = walk.firstTime("forward-done \(path)")
        return true
    }

    /// deliver_include: an absolute, regular, not world-writable file; with root rights the file
    /// owner's rights apply. Addresses found there are always resubmitted, never delivered inline.
    func deliverInclude(_ attrIn: DeliverAttributes, _ usrIn: UserAttributes, path: String, _ walk: inout Walk) async {
        var attr = attrIn
        var usr = usrIn
        attr.level += 1
        let configError = LocalDeliveryAction.bounce(status: "5.3.5", text: DeliveryStatusText.configurationError)
        if attr.level > Self.nestingLimit {
            walk.warnings.append(":include: nesting limit exceeded for \(path)")
            return walk.emit(.bounce(status: "5.4.6", text: DeliveryStatusText.includeNestingLimit), attr)
        }
        guard walk.firstTime("include \(usr.uid) \(path)") else { return }
        attr.expandedFrom = attr.local
        guard path.hasPrefix("/") else {
            walk.warnings.append(":include:\(path) uses a relative path")
            return walk.emit(configError, attr)
        }
        var st = stat()
        guard stat(path, &st) == 0 else {
            walk.warnings.append("unable to lookup :include: file \(path): \(FileAccess.errorText(errno))")
            return walk.emit(configError, attr)
        }
        if (st.st_mode & S_IFMT) != S_IFREG {
            walk.warnings.append(":include: file \(path) is not a regular file")
            return walk.emit(configError, attr)
        }
        if st.st_mode & S_IWOTH != 0 {
            walk.warnings.append(":include: file \(path) is world writable")
            return walk.emit(configError, attr)
        }
        attr.expansion = .include
        if usr.uid == 0 {
            let owner: SystemUser?
            do { owner = try users.user(uid: st.st_uid) } catch { owner = nil }
            guard let owner else {
                walk.warnings.append("cannot find username for uid \(st.st_uid)")
                walk.warnings.append("\(path): cannot find :include: file owner username")
                return walk.emit(.defer(status: "4.3.5", text: DeliveryStatusText.configurationError), attr)
            }
            if owner.uid != 0 { usr = UserAttributes(owner) }
        }
        if attr.owner == nil { attr.owner = attr.recipient }
        let lines: [String]
        switch FileAccess.readLines(path, as: usr.uid == 0 ? nil : usr.account, lineLimit: settings.lineLengthLimit) {
        case .success(let text): lines = text
        case .failure(let error):
            walk.warnings.append("cannot open include file \(path): \(error.message)")
            return walk.emit(configError, attr)
        }
        if !settings.propagateUnmatchedExtensions.include { attr.unmatched = nil }
        for line in lines where !line.hasPrefix("#") {
            for destination in AddressListTokenizer.destinations(in: line) {
                await deliverToken(attr, usr, destination, &walk)
            }
        }
    }

    /// deliver_mailbox: mailbox_transport, then mailbox_command, home_mailbox (Maildir when it ends
    /// in `/`), a Maildir spool (mail_spool_directory ending in `/`), else the mbox spool file.
    /// Returns false when the user does not exist.
    func deliverMailbox(_ attrIn: DeliverAttributes, _ usrIn: UserAttributes, _ walk: inout Walk) async -> Bool {
        var attr = attrIn
        attr.level += 1
        guard walk.firstTime("mailbox \(attr.local)") else { return true }
        if !settings.mailboxTransport.isEmpty {
            walk.emit(.transport(settings.mailboxTransport), attr)
            return true
        }
        let account: SystemUser
        do {
            guard let found = try users.user(named: attr.user) else { return false }
            account = found
        } catch {
            walk.warnings.append(error.description)
            walk.emit(.defer(status: "4.0.0", text: DeliveryStatusText.userLookupError), attr)
            return true
        }
        let usr = UserAttributes(account)
        if !settings.mailboxCommand.isEmpty {
            deliverCommand(attr, usr, command: settings.mailboxCommand, &walk)
        } else if settings.homeMailbox.hasSuffix("/") {
            walk.emit(.mailbox(user: account, .maildir(account.home + "/" + settings.homeMailbox)), attr)
        } else if settings.mailSpoolDirectory.hasSuffix("/") {
            walk.emit(.mailbox(user: account, .maildir(settings.mailSpoolDirectory + attr.user + "/")), attr)
        } else if !settings.homeMailbox.isEmpty {
            walk.emit(.mailbox(user: account, .mbox(account.home + "/" + settings.homeMailbox)), attr)
        } else {
            walk.emit(.mailbox(user: account, .mbox(settings.mailSpoolDirectory + "/" + attr.user)), attr)
        }
        return true
    }
}
