/// Tern's caches beside `tern.index` (IMAP's `tern.sort`): files Dovecot ignores, rebuilt from the messages
/// whenever they are missing or broken, so they are replaced without fsync and errors only cost a rebuild.
extension Mailbox {
    /// The whole file; nil when it is missing or cannot be read.
    public func cacheFile(_ name: String) -> [UInt8]? {
        (try? Posix.readFile(cacheDirectory + "/" + name)) ?? nil
    }

    /// Replaces the file (temporary file and rename).
    public func storeCacheFile(_ name: String, _ bytes: [UInt8]) {
        try? Posix.replaceFile(cacheDirectory + "/" + name, with: bytes, durable: false)
    }

    /// Appends to the file; false when it is not there or cannot be written.
    public func appendCacheFile(_ name: String, _ bytes: [UInt8]) -> Bool {
        (try? Posix.appendToFile(cacheDirectory + "/" + name, bytes)) != nil
    }
}

extension MaildirMailbox {
    public var cacheDirectory: String { folder.path }
}
