public import TernMailbox

/// OBJECTID (RFC 8474) identifiers. MAILBOXID is the mailbox GUID (dovecot-uidlist's `G` header), which a
/// RENAME keeps. EMAILID is made from the message GUID (Dovecot's: the Maildir base name, or the `G` field a
/// COPY or MOVE wrote), so copies share it; the GUID's characters are not all allowed in an objectid (§4:
/// `1*255(ALPHA / DIGIT / "_" / "-")`), so it is hashed: `M` and 32 hex digits of FNV-1a 128. Tern does not
/// group messages into threads that keep their identity, so THREADID is NIL (§5.2 allows it).
public enum ObjectID {
    /// nil where the mailbox has no GUID yet (an old uidlist before its first rewrite).
    public static func mailboxID(_ mailbox: any Mailbox) -> String? { mailbox.guid.isEmpty ? nil : mailbox.guid }

    public static func emailID(guid: String) -> String {
        // FNV-1a 128: offset basis 0x6c62272e07bb014262b821756295c58d, prime 2^88 + 0x13b.
        var high: UInt64 = 0x6c62_272e_07bb_0142
        var low: UInt64 = 0x62b8_2175_6295_c58d
        for byte in guid.utf8 {
            low ^= UInt64(byte)
            let product = low.multipliedFullWidth(by: 0x13b)
            high = high &* 0x13b &+ product.high &+ (low << 24)
            low = product.low
        }
        return "M" + hex(high) + hex(low)
    }

    private static func hex(_ value: UInt64) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: 16 - text.count) + text
    }

    /// `objectid` (RFC 8474 §4).
    static func isValid(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 255
            && text.utf8.allSatisfy { byte in
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                    || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            }
    }
}
