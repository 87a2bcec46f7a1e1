/// Tern's private-flags file of one shared mailbox for one user: `tern.pvt` in the mailbox's directory under
/// INDEXPVT (`<INDEXPVT>/.INBOX`, `<INDEXPVT>/.Work`: where Dovecot keeps its `dovecot.index.pvt*`, whose
/// binary format Tern does not read). Text, replaced whole on each change:
///
///     uidvalidity 1796141519
///     seen 1:3,7
///
/// Seen UIDs of another UIDVALIDITY are void.
struct PrivateFlagsFile {
    static let fileName = "tern.pvt"
    /// A file larger than this is not ours (a few million ranges would still fit).
    static let sizeLimit = 16 << 20

    /// The mailbox's directory under INDEXPVT.
    let directory: String

    var path: String { directory + "/" + Self.fileName }
    var stamp: FileStamp? { FileStamp(path) }

    /// The seen UIDs below `nextUID` for `uidValidity` (the bound keeps a hostile `1:4294967295` small);
    /// empty when the file is missing, of another UIDVALIDITY or broken.
    func read(uidValidity: UInt32, nextUID: UInt32) throws(MailboxError) -> Set<UInt32> {
        guard let bytes = try Posix.readFile(path, limit: Self.sizeLimit) else { return [] }
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n")
        guard lines.count >= 2, lines[0] == "uidvalidity \(uidValidity)", lines[1].hasPrefix("seen ") else {
            return []
        }
        var seen = Set<UInt32>()
        for range in lines[1].dropFirst(5).split(separator: ",") {
            let ends = range.split(separator: ":", maxSplits: 1).compactMap { UInt32($0) }
            guard let low = ends.first, let high = ends.last, low <= high else { return [] }
            if low < nextUID { seen.formUnion(low...min(high, nextUID - 1)) }
        }
        return seen
    }

    /// Replaces the file, making the directories under INDEXPVT as needed (mode 0700, as Dovecot's).
    func write(_ seen: Set<UInt32>, uidValidity: UInt32) throws(MailboxError) {
        try Posix.makeDirectories(directory)
        var ranges: [String] = []
        var low: UInt32?
        var high: UInt32 = 0
        for uid in seen.sorted() {
            if low != nil, uid == high + 1 {
                high = uid
                continue
            }
            if let start = low { ranges.append(start == high ? "\(start)" : "\(start):\(high)") }
            low = uid
            high = uid
        }
        if let start = low { ranges.append(start == high ? "\(start)" : "\(start):\(high)") }
        let text = "uidvalidity \(uidValidity)\nseen \(ranges.joined(separator: ","))\n"
        try Posix.replaceFile(path, with: Array(text.utf8))
    }
}
