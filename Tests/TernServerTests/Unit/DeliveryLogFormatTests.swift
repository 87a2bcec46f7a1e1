import Testing
@testable import TernServer

@Suite struct DeliveryLogFormatTests {
    @Test(arguments: [
        (0.0, "0"), (0.004, "0"), (0.028, "0.03"), (0.1, "0.1"), (0.456, "0.46"), (1.24, "1.2"), (2.0, "2"),
        (35.4, "35"),
    ])
    func delayFormat(seconds: Double, text: String) {
        #expect(MessageDelivery.format(seconds) == text)
    }
}
