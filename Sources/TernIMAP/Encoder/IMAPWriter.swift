/// Appends IMAP syntax to a byte buffer with Dovecot's choice of representation: atoms where the grammar
/// allows them, quoted strings for printable text, literals for anything with CR, LF, NUL or 8-bit bytes
/// (RFC 3501 §4.3: quoted strings cannot hold those).
public struct IMAPWriter: Sendable {
    public var bytes: [UInt8] = []
    /// UTF8=ACCEPT or IMAP4rev2 is enabled: valid UTF-8 goes in quoted strings (RFC 6855 §3, RFC 9051 §4.3).
    public var quotesUTF8 = false

    public init() {}

    /// Hands out what was written so far and starts empty.
    public mutating func take() -> [UInt8] {
        defer { bytes.removeAll(keepingCapacity: true) }
        return bytes
    }

    public mutating func raw(_ text: String) { bytes.append(contentsOf: text.utf8) }
    public mutating func raw(_ data: some Sequence<UInt8>) { bytes.append(contentsOf: data) }
    public mutating func space() { bytes.append(UInt8(ascii: " ")) }
    public mutating func crlf() { bytes += [0x0D, 0x0A] }
    public mutating func number(_ value: some BinaryInteger) { raw(String(value)) }
    public mutating func nilValue() { raw("NIL") }

    /// Whether `data` can go in a quoted string.
    public static func isQuotable(_ data: some Collection<UInt8>) -> Bool {
        data.allSatisfy { $0 >= 0x20 && $0 < 0x7F || $0 == 0x09 }
    }

    /// Printable text that is valid UTF-8 (RFC 6855 §3 `uQUOTED-CHAR`).
    static func isQuotableUTF8(_ data: some Collection<UInt8>) -> Bool {
        data.allSatisfy { $0 >= 0x20 && $0 != 0x7F || $0 == 0x09 } && String(validating: data, as: UTF8.self) != nil
    }

    /// `string`: quoted when possible, else a literal.
    public mutating func string(_ data: some Collection<UInt8>) {
        if Self.isQuotable(data) || (quotesUTF8 && Self.isQuotableUTF8(data)) {
            bytes.append(UInt8(ascii: "\""))
            for b in data {
                if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { bytes.append(UInt8(ascii: "\\")) }
                bytes.append(b)
            }
            bytes.append(UInt8(ascii: "\""))
        } else {
            literal(data)
        }
    }

    public mutating func string(_ text: String) { string(Array(text.utf8)) }

    /// `nstring`: NIL for nil.
    public mutating func nstring(_ data: (some Collection<UInt8>)?) {
        if let data { string(data) } else { nilValue() }
    }

    public mutating func nstring(_ text: String?) { nstring(text.map { Array($0.utf8) }) }

    /// `{n}CRLF` followed by the bytes.
    public mutating func literal(_ data: some Collection<UInt8>) {
        literalHeader(data.count)
        bytes.append(contentsOf: data)
    }

    /// `~{n}CRLF` and the bytes: a literal8 (RFC 3516 §4.1), which may hold NUL.
    public mutating func literal8(_ data: some Collection<UInt8>) {
        raw("~")
        literal(data)
    }

    /// `{n}CRLF` only, for data the caller streams itself.
    public mutating func literalHeader(_ count: Int) {
        raw("{\(count)}")
        crlf()
    }

    /// `astring`: an atom when every byte is an ASTRING-CHAR and it is not `NIL`, else a string (Dovecot's
    /// imap_append_astring; mailbox names in LIST/STATUS go this way: `INBOX`, `"Foo Bar"`).
    public mutating func astring(_ data: some Collection<UInt8>) {
        if !data.isEmpty, data.allSatisfy({ IMAPArgumentReader.isAStringChar($0) && $0 < 0x80 }),
            String(decoding: data, as: UTF8.self).uppercased() != "NIL"
        {
            bytes.append(contentsOf: data)
        } else {
            string(data)
        }
    }

    public mutating func mailbox(_ name: MailboxName) { astring(name.bytes) }

    /// `( a b c )` with `item` writing each element, separated by `separator` (Dovecot writes no space
    /// between the parenthesised elements of address lists and multipart bodies).
    public mutating func list<C: Collection>(
        _ items: C, separator: String = " ", _ item: (inout Self, C.Element) -> Void
    ) {
        bytes.append(UInt8(ascii: "("))
        var first = true
        for element in items {
            if !first { raw(separator) }
            first = false
            item(&self, element)
        }
        bytes.append(UInt8(ascii: ")"))
    }

    /// `("name" "value" ...)`: BODYSTRUCTURE parameters and ID fields; a nil value is NIL.
    public mutating func pairs(_ pairs: [(String, [UInt8]?)]) {
        list(pairs) { w, pair in
            w.string(pair.0)
            w.space()
            w.nstring(pair.1)
        }
    }

    public mutating func flags(_ flags: [Flag]) {
        list(flags) { $0.raw($1.text) }
    }
}
