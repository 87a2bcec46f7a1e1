/// `tern.index`: Tern's own per-mailbox cache of MODSEQs (RFC 7162 CONDSTORE) and of the UIDs expunged since
/// (QRESYNC), kept in the Maildir folder next to `dovecot-uidlist`. Dovecot's `dovecot.index*` files are neither
/// read nor imitated; Dovecot ignores this file (it is no `.`-folder and lies outside cur/ and new/). One text
/// line per record (docs/mailbox-index.md):
///
///     tern-index 3 V1796056493 H17 E3
///     1 3 2048 1700000000 FS
///     4 17 512 1700000100 - $Forwarded Junk
///     - 9 2:3,5
///     + 4 18 512 1700000100 S $Forwarded Junk
///     - 19 1
///
/// The header holds the format version, `V` UIDVALIDITY, `H` HIGHESTMODSEQ and `E` the MODSEQ since which every
/// expunge is recorded. Each message record is a UID, its MODSEQ, the physical size, INTERNALDATE (epoch
/// seconds), the system flags as maildir(5) letters (`-` for none), then keyword names. `-` records list the
/// UIDs expunged at one MODSEQ. Message records come in ascending UID order and no MODSEQ exceeds the header's
/// HIGHESTMODSEQ. After them comes the log (version 3): changes appended since the file was written, each with
/// a MODSEQ above all before it, which becomes HIGHESTMODSEQ: `+ <message record>` replaces a message's record,
/// `-` records expunge. A file that breaks any of this is unusable and is rebuilt. Version 1 files (no `E`, no
/// `-` records) are read as having no history before their HIGHESTMODSEQ.
struct MailboxIndex: Sendable, Equatable {
    /// What the index last saw of one message.
    struct Entry: Sendable, Equatable {
        var modSeq: UInt64
        var flags: MessageFlags
        var keywords: [String]
        var size: Int
        var internalDate: Int

        init(modSeq: UInt64, message: MessageInfo) {
            self.modSeq = modSeq
            flags = message.flags
            keywords = message.keywords
            size = message.size
            internalDate = message.internalDate
        }

        init(modSeq: UInt64, flags: MessageFlags, keywords: [String], size: Int, internalDate: Int) {
            self.modSeq = modSeq
            self.flags = flags
            self.keywords = keywords
            self.size = size
            self.internalDate = internalDate
        }

        /// Whether the message's flags or keywords differ from what was recorded.
        func differs(from message: MessageInfo) -> Bool {
            flags != message.flags || keywords != message.keywords
        }
    }

    static let fileName = "tern.index"
    static let magic = "tern-index"
    static let version = "3"
    /// The expunge history keeps at most this many UIDs; older ones are forgotten and `expungedSince` rises,
    /// so QRESYNC clients further behind get every missing UID instead (RFC 7162 §3.2.5.2).
    static let maxExpunged = 100_000

    var uidValidity: UInt32
    var highestModSeq: UInt64
    var entries: [UInt32: Entry]
    /// Expunged UIDs and the MODSEQ of their expunge.
    var expunged: [UInt32: UInt64] = [:]
    /// Every expunge with a higher MODSEQ is in `expunged`.
    var expungedSince: UInt64
    /// The HIGHESTMODSEQ in the file's header line (the log may have raised it since): with V and E it tells the
    /// file this index was read from from a later one that reuses its inode.
    var headerModSeq: UInt64

    init(uidValidity: UInt32, highestModSeq: UInt64, entries: [UInt32: Entry] = [:], expungedSince: UInt64? = nil) {
        self.uidValidity = uidValidity
        self.highestModSeq = highestModSeq
        self.entries = entries
        self.expungedSince = expungedSince ?? highestModSeq
        headerModSeq = highestModSeq
    }

    /// An index for `messages` made from nothing: all of them at `modSeq`, which is also HIGHESTMODSEQ. What
    /// was expunged before is unknown.
    static func rebuilt(uidValidity: UInt32, messages: [MessageInfo], modSeq: UInt64) -> MailboxIndex {
        var index = MailboxIndex(uidValidity: uidValidity, highestModSeq: modSeq)
        index.entries.reserveCapacity(messages.count)
        for message in messages { index.entries[message.uid] = Entry(modSeq: modSeq, message: message) }
        return index
    }

    /// Whether some message is new to the index or changed flags, or an indexed message is gone.
    func isOutdated(for messages: [MessageInfo]) -> Bool {
        guard entries.count == messages.count else { return true }
        return messages.contains { entries[$0.uid]?.differs(from: $0) ?? true }
    }

    /// Gives the new or changed messages the next MODSEQ, one for all of them as Dovecot gives one per
    /// transaction, and forgets expunged messages, which raises HIGHESTMODSEQ once more (RFC 7162 §3.1: an
    /// expunge is a change to the mailbox).
    mutating func record(_ messages: [MessageInfo]) {
        recordChanges(messages.filter { entries[$0.uid]?.differs(from: $0) ?? true })
        guard entries.count > messages.count else { return }
        let present = Set(messages.map(\.uid))
        recordExpunges(entries.keys.filter { !present.contains($0) })
    }

    /// Records new flags of the messages given: all of them get the next MODSEQ (one STORE over many messages
    /// is one change, as in Dovecot).
    mutating func recordChanges(_ messages: [MessageInfo]) {
        guard !messages.isEmpty else { return }
        highestModSeq += 1
        for message in messages { entries[message.uid] = Entry(modSeq: highestModSeq, message: message) }
    }

    /// Adds the messages one save made, all at the next MODSEQ.
    mutating func recordSaved(_ saved: [UInt32: Entry]) {
        highestModSeq += 1
        for (uid, entry) in saved {
            var entry = entry
            entry.modSeq = highestModSeq
            entries[uid] = entry
        }
    }

    /// Forgets expunged messages and adds them to the history; HIGHESTMODSEQ goes up once.
    mutating func recordExpunges(_ uids: [UInt32]) {
        guard !uids.isEmpty else { return }
        highestModSeq += 1
        for uid in uids {
            entries[uid] = nil
            expunged[uid] = highestModSeq
        }
        pruneHistory()
    }

    /// Beyond `maxExpunged`, drops the oldest expunges (whole MODSEQs) down to three quarters of it, so the
    /// sort is not repeated at every expunge.
    private mutating func pruneHistory() {
        guard expunged.count > Self.maxExpunged else { return }
        let byModSeq = expunged.sorted { $0.value < $1.value }
        var cut = byModSeq[expunged.count - Self.maxExpunged * 3 / 4 - 1].value
        cut = max(cut, expungedSince)
        expunged = expunged.filter { $0.value > cut }
        expungedSince = cut
    }

    /// UIDs expunged after `modSeq`, ascending; nil when the history may not reach back that far. A client at
    /// exactly `expungedSince` is not served from it: a rebuilt index reuses MODSEQs the lost one had given.
    func expungedUIDs(since modSeq: UInt64) -> [UInt32]? {
        guard modSeq > expungedSince else { return nil }
        return expunged.filter { $0.value > modSeq }.keys.sorted()
    }

    // MARK: file format

    /// The parsed file, or nil when it is not a sound index of version 1 to 3.
    static func parse(_ bytes: [UInt8]) -> MailboxIndex? {
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        guard lines.last?.isEmpty == true else { return nil }  // a torn write has no final newline
        lines.removeLast()
        guard let headerLine = lines.first, let header = parseHeader(headerLine) else { return nil }
        var index = header
        var previous: UInt32 = 0
        var inLog = false
        for line in lines.dropFirst() {
            guard index.read(line, previous: &previous, inLog: &inLog) else { return nil }
        }
        return index
    }

    /// The index with log lines appended to its file since it was read (whole lines); nil when one is not sound.
    func appending(_ bytes: ArraySlice<UInt8>) -> MailboxIndex? {
        var index = self
        var previous = UInt32.max
        var inLog = true
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            guard index.read(line, previous: &previous, inLog: &inLog) else { return nil }
        }
        return index
    }

    /// One line after the header: a record of the file as written (message records by ascending UID), or,
    /// from the first one on, a log line whose MODSEQ is not below anything before it (the records of one
    /// change share its MODSEQ).
    private mutating func read(_ line: ArraySlice<UInt8>, previous: inout UInt32, inLog: inout Bool) -> Bool {
        if line.first == UInt8(ascii: "+") {
            guard line.dropFirst().first == UInt8(ascii: " "), let record = Self.parseRecord(line.dropFirst(2)),
                record.entry.modSeq > highestModSeq || (inLog && record.entry.modSeq == highestModSeq)
            else { return false }
            inLog = true
            entries[record.uid] = record.entry
            highestModSeq = record.entry.modSeq
            return true
        }
        if line.first == UInt8(ascii: "-") {
            guard let expunge = Self.parseExpunges(line), expunge.modSeq > expungedSince else { return false }
            if expunge.modSeq > highestModSeq {
                inLog = true
                highestModSeq = expunge.modSeq
                for uid in expunge.uids { entries[uid] = nil }
            } else if inLog {
                return false
            }
            for uid in expunge.uids { expunged[uid] = expunge.modSeq }
            return true
        }
        guard !inLog, let record = Self.parseRecord(line), record.uid > previous,
            record.entry.modSeq <= highestModSeq
        else { return false }
        entries[record.uid] = record.entry
        previous = record.uid
        return true
    }

    /// The header line of a file, for telling whether a grown file is still the one an index was read from.
    static func header(of bytes: ArraySlice<UInt8>) -> MailboxIndex? {
        guard let end = bytes.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        return parseHeader(bytes[..<end])
    }

    /// Whether `header` (`header(of:)`) is that of the file this index was read from or last wrote.
    func isSameFile(as header: MailboxIndex) -> Bool {
        header.uidValidity == uidValidity && header.headerModSeq == headerModSeq
            && header.expungedSince == expungedSince
    }

    private static func parseHeader(_ line: ArraySlice<UInt8>) -> MailboxIndex? {
        let fields = line.split(separator: UInt8(ascii: " "))
        guard fields.count >= 4, fields[0].elementsEqual(magic.utf8), fields[2].first == UInt8(ascii: "V"),
            fields[3].first == UInt8(ascii: "H"), let validity = UInt32(text(fields[2].dropFirst())), validity != 0,
            let highest = UInt64(text(fields[3].dropFirst()))
        else { return nil }
        let version = text(fields[1])
        if version == "1", fields.count == 4 {
            return MailboxIndex(uidValidity: validity, highestModSeq: highest)
        }
        guard version == "2" || version == Self.version, fields.count == 5, fields[4].first == UInt8(ascii: "E"),
            let since = UInt64(text(fields[4].dropFirst())), since <= highest
        else { return nil }
        return MailboxIndex(uidValidity: validity, highestModSeq: highest, expungedSince: since)
    }

    private static func text(_ bytes: ArraySlice<UInt8>) -> Substring {
        Substring(decoding: bytes, as: UTF8.self)
    }

    /// `- <modseq> <uid ranges>`, the ranges as `1:3,7`.
    private static func parseExpunges(_ line: ArraySlice<UInt8>) -> (modSeq: UInt64, uids: [UInt32])? {
        let fields = text(line).split(separator: " ")
        guard fields.count == 3, fields[0] == "-", let modSeq = UInt64(fields[1]) else { return nil }
        var uids: [UInt32] = []
        for range in fields[2].split(separator: ",", omittingEmptySubsequences: false) {
            let ends = range.split(separator: ":", omittingEmptySubsequences: false)
            guard ends.count <= 2, let low = UInt32(ends[0]), let high = UInt32(ends[ends.count - 1]), low != 0,
                low <= high
            else { return nil }
            guard uids.count + Int(high - low) < maxExpunged else { return nil }  // never written so
            uids.append(contentsOf: low...high)
        }
        return (modSeq, uids)
    }

    private static func parseRecord(_ line: ArraySlice<UInt8>) -> (uid: UInt32, entry: Entry)? {
        let fields = text(line).split(separator: " ")
        guard fields.count >= 5, let uid = UInt32(fields[0]), uid != 0, let modSeq = UInt64(fields[1]), modSeq != 0,
            let size = Int(fields[2]), size >= 0, let date = Int(fields[3]), let flags = parseFlags(fields[4])
        else { return nil }
        let entry = Entry(
            modSeq: modSeq, flags: flags, keywords: fields.dropFirst(5).map(String.init), size: size,
            internalDate: date)
        return (uid, entry)
    }

    private static func parseFlags(_ text: Substring) -> MessageFlags? {
        if text == "-" { return [] }
        var flags: MessageFlags = []
        for letter in text {
            guard let flag = MessageFlags.letters.first(where: { $0.0 == letter })?.1 else { return nil }
            flags.insert(flag)
        }
        return flags
    }

    /// The whole file. Its header carries HIGHESTMODSEQ as `headerModSeq`, which whoever writes it sets.
    func serialized() -> [UInt8] {
        var text = "\(Self.magic) \(Self.version) V\(uidValidity) H\(highestModSeq) E\(expungedSince)\n"
        for uid in entries.keys.sorted() {
            guard let entry = entries[uid] else { continue }
            text += Self.recordText(uid, entry) + "\n"
        }
        var byModSeq: [UInt64: [UInt32]] = [:]
        for (uid, modSeq) in expunged { byModSeq[modSeq, default: []].append(uid) }
        for modSeq in byModSeq.keys.sorted() {
            text += "- \(modSeq) \(Self.ranges(byModSeq[modSeq, default: []].sorted()))\n"
        }
        return Array(text.utf8)
    }

    /// The log lines that turn the file of `earlier` into this index, in MODSEQ order: the records whose MODSEQ
    /// and the expunges whose MODSEQ is above `earlier`'s HIGHESTMODSEQ. Nil when the change needs a new file
    /// (another UIDVALIDITY, or the expunge history was cut).
    func log(since earlier: MailboxIndex) -> [UInt8]? {
        guard uidValidity == earlier.uidValidity, expungedSince == earlier.expungedSince,
            headerModSeq == earlier.headerModSeq
        else { return nil }
        let floor = earlier.highestModSeq
        var lines: [(modSeq: UInt64, uid: UInt32, text: String)] = []
        for (uid, entry) in entries where entry.modSeq > floor {
            lines.append((entry.modSeq, uid, "+ " + Self.recordText(uid, entry)))
        }
        var byModSeq: [UInt64: [UInt32]] = [:]
        for (uid, modSeq) in expunged where modSeq > floor { byModSeq[modSeq, default: []].append(uid) }
        for (modSeq, uids) in byModSeq { lines.append((modSeq, 0, "- \(modSeq) \(Self.ranges(uids.sorted()))")) }
        // The records of one change share its MODSEQ: in UID order within it.
        lines.sort { ($0.modSeq, $0.uid) < ($1.modSeq, $1.uid) }
        // A reader's HIGHESTMODSEQ is the last line's: a MODSEQ given and overwritten within this change (one
        // message changed twice) leaves none for itself, which changes nothing then.
        guard lines.last?.modSeq == highestModSeq || (lines.isEmpty && highestModSeq == floor) else { return nil }
        return Array(lines.map { $0.text + "\n" }.joined().utf8)
    }

    private static func recordText(_ uid: UInt32, _ entry: Entry) -> String {
        let letters = MessageFlags.letters.filter { entry.flags.contains($0.1) }.map { String($0.0) }.joined()
        var text = "\(uid) \(entry.modSeq) \(entry.size) \(entry.internalDate) \(letters.isEmpty ? "-" : letters)"
        for keyword in entry.keywords { text += " " + keyword }
        return text
    }

    /// Ascending UIDs as `1:3,7`.
    private static func ranges(_ uids: [UInt32]) -> String {
        var parts: [String] = []
        var start = uids.first ?? 0
        var end = start
        for uid in uids.dropFirst() {
            if uid == end + 1 {
                end = uid
                continue
            }
            parts.append(start == end ? "\(start)" : "\(start):\(end)")
            start = uid
            end = uid
        }
        if !uids.isEmpty { parts.append(start == end ? "\(start)" : "\(start):\(end)") }
        return parts.joined(separator: ",")
    }
}
