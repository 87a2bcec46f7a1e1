import TernCore
import TernIMAP
import Testing

@Suite struct IMAPGrammarValueTests {
    @Test func modifiedUTF7() {
        #expect(ModifiedUTF7.encode("~peter/mail/台北/日本語") == "~peter/mail/&U,BTFw-/&ZeVnLIqe-")
        #expect(ModifiedUTF7.decode(bytes("~peter/mail/&U,BTFw-/&ZeVnLIqe-")) == "~peter/mail/台北/日本語")
        #expect(ModifiedUTF7.encode("été") == "&AOk-t&AOk-")
        #expect(ModifiedUTF7.encode("a&b") == "a&-b")
        #expect(ModifiedUTF7.decode(bytes("a&-b")) == "a&b")
        #expect(ModifiedUTF7.encode("😀") == "&2D3eAA-")
        #expect(ModifiedUTF7.decode(bytes("&2D3eAA-")) == "😀")
        #expect(ModifiedUTF7.decode(bytes("&AGE-")) == nil)  // "a" must not be shifted
        #expect(ModifiedUTF7.decode(bytes("&Jjo!")) == nil)
        #expect(ModifiedUTF7.decode(bytes("&2D0-")) == nil)  // lone surrogate
        #expect(ModifiedUTF7.decode([0xC3, 0xA9]) == nil)
        for text in ["", "INBOX", "Entwürfe", "Корзина", "a&&b", "x 台北 y&"] {
            #expect(ModifiedUTF7.decode(bytes(ModifiedUTF7.encode(text))) == text)
        }
        #expect(MailboxName(bytes: bytes("inBox")) == .inbox)
        #expect(MailboxName("été").bytes == bytes("&AOk-t&AOk-"))
    }

    @Test func sequenceSets() {
        #expect(
            SequenceSet(bytes("1:3,5,7:*"))
                == .ranges([
                    SequenceRange(.number(1), .number(3)), SequenceRange(.number(5)),
                    SequenceRange(.number(7), .last),
                ]))
        #expect(SequenceSet(bytes("$")) == .lastSearchResult)
        for bad in ["", "0", "1:", ":1", "1,,2", "01", "4294967296", "a", "1:2:3"] {
            #expect(SequenceSet(bytes(bad)) == nil, "\(bad)")
        }
        #expect(SequenceSet(bytes("4294967295")) == .ranges([SequenceRange(.number(UInt32.max))]))
        let set = SequenceSet(bytes("5:3,10:*"))!
        #expect(
            set.contains(4, largest: 12) && set.contains(12, largest: 12) && !set.contains(6, largest: 12)
        )
        #expect(SequenceSet.compact([1, 2, 3, 5, 7, 8]).description == "1:3,5,7:8")
        #expect(set.description == "5:3,10:*")
    }

    @Test func dates() {
        #expect(IMAPDate("1-Feb-1994") == IMAPDate(year: 1994, month: 2, day: 1))
        #expect(IMAPDate("32-Feb-1994") == nil)
        #expect(IMAPDate("1-Foo-1994") == nil)
        #expect(IMAPDate("1-Feb-94") == nil)
        let dt = IMAPDateTime("17-Jul-1996 02:44:25 -0700")
        #expect(dt?.epochSeconds == 837_596_665)
        #expect(
            dt.map { IMAPDateTime(epochSeconds: $0.epochSeconds).text } == "17-Jul-1996 09:44:25 +0000")
        #expect(IMAPDateTime(" 7-Jul-1996 02:44:25 +0130")?.zoneMinutes == 90)
        #expect(IMAPDateTime("17-Jul-1996 24:44:25 -0700") == nil)
        #expect(IMAPDateTime("17-Jul-1996 02:44:25 0700") == nil)
        #expect(IMAPDateTime(epochSeconds: 0).text == "01-Jan-1970 00:00:00 +0000")
        #expect(
            IMAPDateTime(epochSeconds: 951_782_400, zoneMinutes: -300).text
                == "28-Feb-2000 19:00:00 -0500")
    }
}
