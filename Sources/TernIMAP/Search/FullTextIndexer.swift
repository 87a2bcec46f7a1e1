public import TernMailbox

/// Brings a mailbox's FullTextIndex up to date: the messages it lacks are read and added, header and body
/// split as SEARCH splits them. A search does this first; with Dovecot's fts_autoindex a delivery does it too.
public enum FullTextIndexer {
    /// Updates the index of `mailbox`, reading messages with `read` (CRLF line ends; nil: gone).
    @discardableResult
    public static func update(_ mailbox: any Mailbox, read: (UInt32) -> [UInt8]?) throws -> FullTextIndex {
        let index = try FullTextIndex(path: mailbox.fullTextIndexPath, uidValidity: mailbox.uidValidity)
        try index.add(uids: mailbox.messages.lazy.map(\.uid)) { uid in
            guard let bytes = read(uid) else { return nil }
            let sections = MessageSections(bytes)
            return (Array(bytes[sections.root.header]), Array(bytes[sections.root.body]))
        }
        return index
    }

    /// Updates the index of `mailbox`, reading the messages from it.
    public static func update(_ mailbox: any Mailbox) throws {
        try update(mailbox) { uid in SearchQuery.messageBytes(uid, in: mailbox) }
    }
}
