@testable import TernIMAP
import Testing

/// The pieces SORT and THREAD compare: base subjects (RFC 5256 §2.1), the i;unicode-casemap comparator
/// (RFC 5051), encoded words (RFC 2047), sent dates and message IDs.
@Suite struct SortPrimitivesTests {
    private func base(_ subject: String) -> (String, Bool) {
        let result = BaseSubject(subject: Array(subject.utf8))
        return (String(decoding: result.key, as: UTF8.self), result.isReplyOrForward)
    }

    @Test func baseSubjectFollowsRFC5256() {
        #expect(base("Re: Sort test") == ("SORT TEST", true))
        #expect(base("sort test") == ("SORT TEST", false))
        #expect(base("Fwd: [list] Re: Sort test (fwd)") == ("SORT TEST", true))
        #expect(base("FWD:[x] Fw: sort TEST") == ("SORT TEST", true))
        #expect(base("[fwd: Sort test]") == ("SORT TEST", true))
        #expect(base("Re: Re:  RE: re: test") == ("TEST", true))
        #expect(base("  Re:hello  (fwd) (FWD)  ") == ("HELLO", true))
        #expect(base("Re: [blob] Re: hello") == ("HELLO", true))
        #expect(base("Re[2]: hello") == ("HELLO", true))
        // A blob alone stays: removing it would leave nothing (step 4).
        #expect(base("[blob]") == ("[BLOB]", false))
        #expect(base("Re: [a]") == ("[A]", true))
        #expect(base("[a][b] x") == ("X", false))
        #expect(base("[fwd: [fwd: nested]]") == ("NESTED", true))
        #expect(base("\tfolded\r\n  subject ") == ("FOLDED SUBJECT", false))
        #expect(base("=?UTF-8?Q?Re=3A_Sort?= =?UTF-8?Q?_test?=") == ("SORT TEST", true))
        #expect(base("") == ("", false))
        // Only at the start: a "re:" inside stays.
        #expect(base("Are: you there") == ("ARE: YOU THERE", false))
    }

    @Test func casemapTitlecasesAndDecomposes() {
        #expect(UnicodeCasemap.key("abc XYZ _[") == Array("ABC XYZ _[".utf8))
        #expect(UnicodeCasemap.key("über") == Array("U\u{308}BER".utf8))
        #expect(UnicodeCasemap.key("Über") == UnicodeCasemap.key("üBER"))
        // The simple titlecase mapping: ß and ﬁ have none (their full mappings are two letters), so ﬁ
        // decomposes to a lower-case "fi", as Dovecot sorts it.
        #expect(UnicodeCasemap.key("ﬁne") == Array("fiNE".utf8))
        #expect(UnicodeCasemap.key("ǆ") == UnicodeCasemap.key("ǅ"))
        // Bytes that are not UTF-8: one U+FFFD for a run.
        #expect(UnicodeCasemap.key([0x43, 0xE9, 0xE9, 0x41]) == [0x43, 0xEF, 0xBF, 0xBD, 0x41])
        #expect(UnicodeCasemap.contains(Array("Grüße aus Zürich".utf8), "ZÜRICH"))
        #expect(UnicodeCasemap.contains(Array("Grüße".utf8), "ue") == false)
        #expect(UnicodeCasemap.contains(Array("ﬁne".utf8), "ﬁ"))
        #expect(UnicodeCasemap.contains(Array("ﬁne".utf8), "fi") == false)
        #expect(UnicodeCasemap.contains(Array("anything".utf8), ""))
    }

    @Test func encodedWordsDecode() {
        func decoded(_ text: String) -> String { String(decoding: EncodedWords.decode(Array(text.utf8)), as: UTF8.self) }
        #expect(decoded("=?ISO-8859-1?Q?a?=") == "a")
        #expect(decoded("=?ISO-8859-1?Q?caf=E9?=") == "café")
        #expect(decoded("=?UTF-8?B?w4lsw6g=?= <el@e.example>") == "Élè <el@e.example>")
        // RFC 2047 §8's examples: whitespace between adjacent encoded words goes, other text stays.
        #expect(decoded("(=?ISO-8859-1?Q?a?= b)") == "(a b)")
        #expect(decoded("(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)") == "(ab)")
        #expect(decoded("(=?ISO-8859-1?Q?a?=  \r\n   =?ISO-8859-1?Q?b?=)") == "(ab)")
        #expect(decoded("(=?ISO-8859-1?Q?a_b?=)") == "(a b)")
        #expect(decoded("(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)") == "(a b)")
        #expect(decoded("=?windows-1252?Q?=80?=") == "€")
        #expect(decoded("=?UTF-8*en?Q?x?=") == "x")
        // Not well-formed: kept as sent.
        #expect(decoded("=?UTF-8?X?abc?=") == "=?UTF-8?X?abc?=")
        #expect(decoded("=?UTF-8?Q?no end") == "=?UTF-8?Q?no end")
        #expect(EncodedWords.mayHold(Array("a =?x".utf8)))
        #expect(!EncodedWords.mayHold(Array("a = ?x".utf8)))
    }

    @Test func sentDatesAsDovecotReadsThem() {
        func date(_ text: String) -> Int? { MessageDate.timestamp(Array(text.utf8)) }
        #expect(date("Mon, 04 Mar 2024 10:00:00 +0000") == 1_709_546_400)
        #expect(date("Mon, 04 Mar 2024 11:00:00 +0200") == 1_709_542_800)
        #expect(date("4 Mar 2024 08:30 -0100") == 1_709_544_600)
        #expect(date("Tue, 5 Mar 2024 12:00:00 EST") == 1_709_658_000)
        #expect(date("Tue, 5 Mar 2024 12:00:00 EDT") == 1_709_654_400)
        #expect(date("05 Mar 24 12:00:00 -0500") == 1_709_658_000)
        #expect(date("1 Jan 70 00:00:00 GMT") == 0)
        #expect(date("Thu, 1 Jan 2004 00.00.01 (comment) +0000 (UTC)") == 1_072_915_201)
        #expect(date("Sat, 2 Mar 2024 00:00:00 XYZ") == 1_709_337_600)
        #expect(date("Sat, 2 Mar 2024 00:00:00") == 1_709_337_600)
        #expect(date("not a date") == nil)
        #expect(date("Mon 04 Mar 2024 10:00:00 +0000") == nil)
        #expect(date("4 Mar 1800 10:00 +0000") == nil)
        #expect(date("") == nil)
    }

    @Test func messageIDs() {
        func ids(_ text: String) -> [String] { MessageID.all(in: Array(text.utf8)) }
        #expect(ids("<a@b> <c@d>") == ["a@b", "c@d"])
        #expect(ids("foo <gone@x> bar") == ["gone@x"])
        #expect(ids("<no-at> (comment) <ok@x>") == ["ok@x"])
        #expect(ids("<broken \"q\"@x> <ok@x>") == ["ok@x"])
        #expect(ids("<unterminated@x") == [])
        #expect(ids("") == [])
    }

    @Test func sortFieldFileRoundTrips() {
        let first = SortFields(
            header: Array(
                ("From: =?UTF-8?Q?=C3=89mile?= <emile@e.example>\r\nTo: a@b\r\nSubject: Re: hi\r\n"
                    + "Message-ID: <1@x>\r\nReferences: <0@x> <00@x>\r\nDate: 4 Mar 2024 08:30 -0100\r\n\r\n").utf8))
        let second = SortFields(header: Array("X: y\r\n\r\n".utf8))
        #expect(first.displayFrom == Array("E\u{301}MILE".utf8))
        #expect(first.references == ["0@x", "00@x"] && first.messageID == "1@x" && first.subject.isReplyOrForward)
        #expect(second.messageID == nil && !second.hasSubject && second.sentDate == 0)
        let bytes = SortFieldFile.encode([(7, first), (9, second)], uidValidity: 42)
        let decoded = SortFieldFile.decode(bytes, uidValidity: 42)
        #expect(decoded.map(\.uid) == [7, 9])
        #expect(decoded.map(\.fields) == [first, second])
        // Another UIDVALIDITY: nothing; a torn end: the records before it.
        #expect(SortFieldFile.decode(bytes, uidValidity: 43).isEmpty)
        #expect(SortFieldFile.decode(Array(bytes.dropLast(3)), uidValidity: 42).map(\.uid) == [7])
        #expect(SortFieldFile.decode(Array("garbage".utf8), uidValidity: 42).isEmpty)
    }
}
