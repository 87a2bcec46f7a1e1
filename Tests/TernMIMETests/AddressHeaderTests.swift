import Testing

@testable import TernMIME

@Suite struct AddressHeaderTests {
    @Test func addressSpans() {
        func addresses(_ value: String) -> [String] {
            let characters = Array(value)
            return AddressHeader.spans(in: characters).map { String(characters[$0]) }
        }
        #expect(
            addresses(" Joe User <joe@example.com>, ann@x.test (Ann), bare") == [
                "joe@example.com", "ann@x.test", "bare",
            ])
        #expect(addresses(" \"Doe, John\" <john@x.test>") == ["john@x.test"])
        #expect(addresses(" undisclosed-recipients:;") == [])
        #expect(addresses(" team: a@x.test, b@y.test;, c@z.test") == ["a@x.test", "b@y.test", "c@z.test"])
        #expect(addresses(" <@relay.test:u@x.test>") == ["u@x.test"])
        #expect(addresses(" u@[IPv6:2001:db8::1]") == ["u@[IPv6:2001:db8::1]"])
        #expect(addresses(" Two Words") == [], "a phrase without an address is left alone")
    }

    @Test func bareNamesAreQualifiedInAddressHeadersOnly() {
        func qualified(_ header: String) -> String {
            String(decoding: AddressHeader.qualify(Array(header.utf8), domain: "origin.test"), as: UTF8.self)
        }
        #expect(qualified("To: bob, Ann <ann>,\n\tcarol@x.test") == "To: bob@origin.test, Ann <ann@origin.test>,\n\tcarol@x.test")
        #expect(qualified("Reply-To: me (Me)") == "Reply-To: me@origin.test (Me)")
        #expect(qualified("Subject: bob") == "Subject: bob")
        #expect(qualified("Cc: undisclosed-recipients:;") == "Cc: undisclosed-recipients:;")
    }
}
