import TernCore
import Testing

@testable import TernMailbox

@Suite struct UIDListTests {
    @Test func parsesDovecotFile() throws {
        let bytes = try TemporaryMaildir.fixture("dovecot-maildir/dovecot-uidlist")
        let (list, damage) = try #require(UIDList.parse(bytes))
        #expect(damage == nil)
        #expect(list.uidValidity == 1_796_056_493)
        #expect(list.nextUID == 7)
        #expect(list.guid == "de507f22aba50d6bd819000083ecc375")
        #expect(list.records.map(\.uid) == [1, 2, 3, 5, 6])
        #expect(list.records[0].base == "1796056492.M428127P6760.vm,S=46,W=51")
        #expect(list.records[3].value("S") == "36")
        #expect(list.records[3].value("W") == "41")
        #expect(list.records[3].base == "1796056600.Q12345R0N0.vm")
        #expect(list.serialized() == bytes)
    }

    @Test func keepsRecordsBeforeDamage() throws {
        let text = "3 V5 N3 G00112233445566778899aabbccddeeff\n1 :a\n2 S9 lower :b\nxyz\n3 :c\n"
        let (list, damage) = try #require(UIDList.parse(Array(text.utf8)))
        #expect(list.records.map(\.base) == ["a", "b"])
        #expect(list.records[1].extensions.map(\.key) == ["S"])
        #expect(damage?.line == 4)
        #expect(list.nextUID == 3)
    }

    @Test(arguments: ["", "garbage", "3 V0 N1", "3 N5", "3 V1 N1 Gnothex", "9 V1 N1"])
    func refusesBrokenHeaders(_ text: String) {
        #expect(UIDList.parse(Array(text.utf8)) == nil)
    }

    @Test func rejectsUnorderedUIDsAndSlashes() throws {
        let (list, damage) = try #require(
            UIDList.parse(Array("3 V1 N9 G00112233445566778899aabbccddeeff\n5 :a\n4 :b\n".utf8)))
        #expect(list.records.count == 1)
        #expect(damage != nil)
        #expect(UIDList.parseRecord("7 :../etc/passwd", version3: true) == nil)
        #expect(UIDList.parseRecord("4294967295 :x", version3: true) == nil)
    }

    @Test func readsVersion1() throws {
        let (list, _) = try #require(UIDList.parse(Array("1 1234 10\n3 name1\n7 name2:2,S\n".utf8)))
        #expect(list.uidValidity == 1234)
        #expect(list.records.map(\.base) == ["name1", "name2:2,S"])
    }
}

@Suite struct ControlFileTests {
    @Test func keywordsRoundTrip() throws {
        let bytes = try TemporaryMaildir.fixture("dovecot-maildir/dovecot-keywords")
        let list = KeywordList.parse(bytes)
        #expect(list.all == ["todo", "$Label1", "done"])
        #expect(list.index(of: "DONE") == 2)
        #expect(list.serialized() == bytes)
        var full = KeywordList()
        for n in 0..<26 { #expect(full.add("k\(n)") == n) }
        #expect(full.add("one-too-many") == nil)
        #expect(KeywordList.parse(Array("x y\n30 big\n1 ok\n".utf8)).names == [nil, "ok"])
    }

    @Test func subscriptionsRoundTrip() throws {
        let bytes = try TemporaryMaildir.fixture("dovecot-maildir/subscriptions")
        let names = SubscriptionList.parse(bytes, separator: "/")
        #expect(names == ["INBOX", "Sent", "Drafts/Sub", "Café"])
        #expect(SubscriptionList.serialize(names, separator: "/") == bytes)
        #expect(SubscriptionList.parse(Array("INBOX\nA.B\n".utf8), separator: ".") == ["INBOX", "A.B"])
    }

    @Test func fileNames() {
        let name = MaildirFileName("1796056493.M134639P6874.vm,S=46,W=51:2,DRSc")
        #expect(name.base == "1796056493.M134639P6874.vm,S=46,W=51")
        #expect(name.size == 46)
        #expect(name.virtualSize == 51)
        #expect(name.flags == [.draft, .answered, .seen])
        #expect(name.keywordIndexes == [2])
        let changed = name.with(flags: [.flagged, .deleted], keywordIndexes: [0, 2])
        #expect(changed.name == "1796056493.M134639P6874.vm,S=46,W=51:2,FTac")
        #expect(MaildirFileName("x.P1.h:2,PS").with(flags: [], keywordIndexes: []).name == "x.P1.h:2,P")
        #expect(MaildirFileName("1.Q2.host").flagLetters == nil)
        #expect(MaildirFileName("1.Q2.host").size == nil)
        #expect(MaildirFileName.arrivalOrder("10.M5P1.h", "10.M40P1.h"))
        #expect(MaildirFileName.arrivalOrder("9.Q1.h", "10.M1P1.h"))
    }

    @Test func modifiedUTF7() {
        for (plain, encoded) in [
            ("Café", "Caf&AOk-"), ("A&B", "A&-B"), ("日本語", "&ZeVnLIqe-"),
            ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
        ] {
            #expect(ModifiedUTF7.encode(plain) == encoded)
            #expect(ModifiedUTF7.decode(encoded) == plain)
        }
        #expect(ModifiedUTF7.decode("&AGE-") == nil)  // encoded printable ASCII
        #expect(ModifiedUTF7.decode("&Jjo!") == nil)
        #expect(ModifiedUTF7.decode("a&") == nil)
    }

    @Test func pop3UIDLFormats() {
        #expect(
            POP3UIDLFormat.expand("%08Xu%08Xv", uid: 26, uidValidity: 1_796_056_493, baseName: "b", guid: "g")
                == "0000001A6B0DA5AD")
        #expect(POP3UIDLFormat.expand("%u.%v", uid: 7, uidValidity: 99, baseName: "b", guid: "g") == "7.99")
        #expect(POP3UIDLFormat.expand("%f%%", uid: 7, uidValidity: 99, baseName: "base", guid: "g") == "base%")
    }
}
