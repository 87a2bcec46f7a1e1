import TernCore
/// The `subscriptions` file in the Maildir root as Dovecot 2.3 writes it (subscription-file.c): a `V\t2`
/// line, an empty line, then one mailbox per line with the hierarchy separator written as a tab and names in
/// modified UTF-7 (`Drafts\tSub`, `Caf&AOk-`). Older files without the version line list names with the
/// namespace separator; both are read.
public enum SubscriptionList {
    /// Mailbox names (UTF-8, with `separator` between levels) in file order, without duplicates.
    public static func parse(_ bytes: [UInt8], separator: Character) -> [String] {
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self)
        }
        let versioned = lines.first?.hasPrefix("V\t") == true
        if versioned { lines.removeFirst() }
        var names: [String] = []
        var seen = Set<String>()
        for line in lines where !line.isEmpty {
            let levels =
                versioned ? line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) : [line]
            let name = levels.map { ModifiedUTF7.decode($0) ?? $0 }.joined(separator: String(separator))
            if seen.insert(name).inserted { names.append(name) }
        }
        return names
    }

    /// `otherNamespace`: names of another namespace kept in this file (a shared namespace with `subscriptions =
    /// no`), which Dovecot writes with the namespace separator instead of tabs (`shared/carla/Work`).
    public static func serialize(
        _ names: [String], separator: Character, otherNamespace: (String) -> Bool = { _ in false }
    ) -> [UInt8] {
        var text = "V\t2\n\n"
        for name in names {
            let levels = name.split(separator: separator, omittingEmptySubsequences: false).map {
                ModifiedUTF7.encode(String($0))
            }
            text += levels.joined(separator: otherNamespace(name) ? String(separator) : "\t") + "\n"
        }
        return Array(text.utf8)
    }
}
