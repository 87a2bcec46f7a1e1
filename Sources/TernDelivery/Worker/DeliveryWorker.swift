import Glibc

/// Carries out `DeliveryWorkRequest`s: in the current process (`perform`, used by the worker and by a daemon
/// that delivers for its own uid), or as the persistent worker's main loop (`runServerMain`, in
/// DeliveryWorker+Serve.swift). The master's side of a worker is `WorkerProcess`.
public enum DeliveryWorker {
    /// Delivers the message readable from `contentFD` (until EOF, or `contentLength` bytes) as the request
    /// says, with the current process's privileges. When the process is root and the request names another
    /// uid, files and directories it creates are given to that user and commands run as that user; the
    /// privilege-separated path is a `WorkerProcess` running as the user. Blocking: call it from a thread that
    /// may block.
    public static func perform(_ request: DeliveryWorkRequest, contentFD: Int32, contentLength: Int? = nil)
        -> DeliveryWorkResult
    {
        let length = contentLength ?? request.contentLength
        let header = Array(request.prependHeaders.utf8)
        let asOtherUser = geteuid() == 0 && request.uid != 0
        let ownership = asOtherUser ? FileOwnership(uid: request.uid, gid: request.gid) : nil
        var warnings: [String] = []

        switch request.kind {
        case .maildir:
            return deliverMaildir(
                request, path: request.target, header: header, fd: contentFD, length: length,
                ownership: ownership)
        case .file where request.target.hasSuffix("/"):
            // Postfix: "If the name ends in /, use maildir-style delivery instead."
            return deliverMaildir(
                request, path: request.target, header: header, fd: contentFD, length: length,
                ownership: ownership)
        case .mbox:
            let writer = MboxWriter(
                lockPolicy: request.lockPolicy, sizeLimit: request.mailboxSizeLimit,
                requiredOwner: request.strictMailboxOwnership ? request.uid : nil,
                createOwnership: request.createOwnership ?? ownership)
            do {
                try writer.append(
                    to: request.target, sender: request.sender, header: header, contentFD: contentFD,
                    contentLength: length, warnings: &warnings)
                return .delivered("delivered to mailbox", path: request.target, warnings: warnings)
            } catch {
                let prefix = "cannot update mailbox \(request.target) for user \(request.userName). "
                return .failed(error.prefixed(prefix), warnings: warnings)
            }
        case .file:
            var writer = MboxWriter.forFileDestination(
                lockPolicy: request.lockPolicy, sizeLimit: request.mailboxSizeLimit)
            writer.createOwnership = ownership
            do {
                try writer.append(
                    to: request.target, sender: request.sender, header: header, contentFD: contentFD,
                    contentLength: length, warnings: &warnings)
                return .delivered("delivered to file: \(request.target)", path: request.target, warnings: warnings)
            } catch {
                return .failed(error.prefixed("cannot append message to file \(request.target): "), warnings: warnings)
            }
        case .command:
            let delivery = commandDelivery(for: request, asOtherUser: asOtherUser)
            do {
                try delivery.run(sender: request.sender, header: header, contentFD: contentFD, contentLength: length)
                return .delivered("delivered to command: \(request.target)")
            } catch {
                return .failed(error)
            }
        }
    }

    private static func deliverMaildir(
        _ request: DeliveryWorkRequest, path: String, header: [UInt8], fd: Int32, length: Int?,
        ownership: FileOwnership?
    ) -> DeliveryWorkResult {
        let writer = MaildirWriter(
            hostname: request.hostname, sizeLimit: request.mailboxSizeLimit, ownership: ownership)
        do {
            let file = try writer.deliver(
                to: path, header: header, contentFD: fd, contentLength: length, uniqueName: request.maildirUniqueName,
                skipIfPresent: request.checkExisting ?? false)
            return .delivered("delivered to maildir", path: file)
        } catch {
            var warnings: [String] = []
            if error.text.hasSuffix(SystemError.text(EACCES)) {
                warnings.append("maildir access problem for UID/GID=\(request.uid)/\(request.gid): \(error.text)")
                warnings.append("perhaps you need to create the maildirs in advance")
            }
            return .failed(error.prefixed("maildir delivery failed: "), warnings: warnings)
        }
    }

    /// The command, its environment and privileges for a `.command` request.
    static func commandDelivery(for request: DeliveryWorkRequest, asOtherUser: Bool) -> CommandDelivery {
        let client = request.clientEnvironment.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        let attributes = CommandEnvironment.attributes(
            home: request.home, user: request.userName, sender: request.sender, recipient: request.recipient,
            local: request.localPart, shell: request.shell, domain: request.domain,
            extension: request.extensionPart, originalRecipient: request.originalRecipient, client: client)
        let environment = CommandEnvironment.build(
            attributes: attributes, export: request.exportEnvironment, filter: request.commandExpansionFilter)
        let runAs = asOtherUser && geteuid() != uid_t(request.uid) ? (request.uid, request.gid, request.groups) : nil
        return CommandDelivery(
            command: request.target, environment: environment, shell: request.commandShell,
            timeLimit: request.commandTimeLimit,
            workingDirectory: request.commandDirectory.isEmpty ? nil : request.commandDirectory,
            programName: request.programName, runAs: runAs)
    }
}
