import Testing

@testable import TernDelivery

@Suite struct AddressListTokenizerTests {
    @Test func commaAndWhitespaceSeparatedLists() {
        #expect(AddressListTokenizer.destinations(in: "accuser1, accuser2") == ["accuser1", "accuser2"])
        #expect(AddressListTokenizer.destinations(in: "a b,c") == ["a", "b", "c"])
        #expect(
            AddressListTokenizer.destinations(in: "  user@example.com ,\n\tother@x.org ") == [
                "user@example.com", "other@x.org",
            ])
    }

    @Test func quotedCommandsAndFilesStayWhole() {
        #expect(
            AddressListTokenizer.destinations(in: "\"|/usr/bin/procmail -a foo\", /var/log/mail.log")
                == ["|/usr/bin/procmail -a foo", "/var/log/mail.log"])
        #expect(AddressListTokenizer.destinations(in: "|/usr/local/bin/filter") == ["|/usr/local/bin/filter"])
        #expect(AddressListTokenizer.destinations(in: ":include:/etc/mail/staff") == [":include:/etc/mail/staff"])
    }

    @Test func backslashCommentsAndAngleAddresses() {
        #expect(AddressListTokenizer.destinations(in: "\\joe, joe@remote.example") == ["joe", "joe@remote.example"])
        #expect(
            AddressListTokenizer.destinations(in: "bob (the builder), Jane Doe <jane@x.org>") == ["bob", "jane@x.org"])
    }
}
