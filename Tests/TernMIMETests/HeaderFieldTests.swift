import Testing
import TernMIME

@Suite struct HeaderFieldTests {
    @Test func recognisesHeaderNamesLikePostfix() {
        #expect(HeaderField.name(of: Array("Subject: hi".utf8)) == "Subject")
        #expect(HeaderField.name(of: Array("Subject : spaced".utf8)) == "Subject")
        #expect(HeaderField.name(of: Array("X-Empty:".utf8)) == "X-Empty")
        #expect(HeaderField.name(of: Array("not a header line".utf8)) == nil)
        #expect(HeaderField.name(of: Array(": no name".utf8)) == nil)
        #expect(HeaderField.name(of: Array(" Subject: folded".utf8)) == nil)
        #expect(HeaderField.name(of: Array("".utf8)) == nil)
    }

    @Test func continuationAndUnfolding() {
        #expect(HeaderField.isContinuation(Array("\tb".utf8)))
        #expect(HeaderField.isContinuation(Array(" b".utf8)))
        #expect(!HeaderField.isContinuation(Array("b".utf8)))
        let header = Array("X-Folded: a\n\tb".utf8)
        #expect(HeaderField.value(of: header) == Array("a\n\tb".utf8))
        #expect(HeaderField.unfold(Array("a\r\n\tb".utf8)) == Array("a\tb".utf8))
    }

    @Test func namesCompareCaseInsensitively() {
        #expect(HeaderField.namesMatch("Message-ID", "message-id"))
        #expect(!HeaderField.namesMatch("Message-ID", "Message-IDs"))
    }

    @Test func quotesLocalPartsThatAreNotDotAtoms() {
        #expect(AddressQuoting.quoteLocalPart("john doe@client.example") == "\"john doe\"@client.example")
        #expect(AddressQuoting.quoteLocalPart("plain.user@x") == "plain.user@x")
        #expect(AddressQuoting.quoteLocalPart("a..b@x") == "\"a..b\"@x")
        #expect(AddressQuoting.quoteLocalPart("") == "")
    }
}
