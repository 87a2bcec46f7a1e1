import Testing
import TernCore

@Suite struct UnitsTests {
    @Test(arguments: [("1800s", 1800), ("2h", 7200), ("5d", 432000), ("1w", 604800), ("10m", 600), ("30", 30)])
    func time(text: String, seconds: Int) {
        #expect(TimeValue.seconds(text) == seconds)
    }

    @Test func timeDefaultUnit() {
        #expect(TimeValue.seconds("5", defaultUnit: "d") == 432000)
        #expect(TimeValue.seconds("5x") == nil)
        #expect(TimeValue.seconds("") == nil)
    }

    @Test func size() {
        #expect(SizeValue.bytes("10240000") == 10_240_000)
        #expect(SizeValue.bytes("abc") == nil)
    }

    @Test func addressParts() {
        let a = MailAddress("Joe+ext@Example.COM")
        #expect(a.localPart == "Joe+ext")
        #expect(a.domain == "example.com")
        #expect(a.splitExtension(delimiters: "+").user == "Joe")
        #expect(a.splitExtension(delimiters: "+").ext == "ext")
    }

    @Test func queueIDs() {
        let a = QueueID.generate()
        #expect(a.value.count == 10)
        #expect(QueueID(a.value) == a)
        #expect(QueueID("abc") == nil)
    }
}
