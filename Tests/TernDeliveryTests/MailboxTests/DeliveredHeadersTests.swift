import Glibc
import Testing

@testable import TernDelivery

@Suite struct DeliveredHeadersTests {
    @Test func headersComeInPostfixOrder() {
        let text = DeliveredHeaders.render(
            sender: "Sender.Name@client.example", originalRecipient: "info@acc.test",
            deliveredTo: "accuser1@acc.test")
        #expect(
            text == "Return-Path: <Sender.Name@client.example>\nX-Original-To: info@acc.test\n"
                + "Delivered-To: accuser1@acc.test\n")
    }

    @Test func nullSenderAndUnknownOriginalRecipient() {
        #expect(
            DeliveredHeaders.render(sender: "", originalRecipient: "", deliveredTo: "u@x")
                == "Return-Path: <>\nDelivered-To: u@x\n")
        #expect(
            DeliveredHeaders.render(sender: "a@b", originalRecipient: nil, deliveredTo: nil) == "Return-Path: <a@b>\n")
    }

    @Test(arguments: [
        ("user@example.com", "user@example.com"),
        ("first.last@example.com", "first.last@example.com"),
        ("first last@example.com", "\"first last\"@example.com"),
        ("a..b@example.com", "\"a..b\"@example.com"),
        (".lead@example.com", "\".lead\"@example.com"),
        ("q\"uote@example.com", "\"q\\\"uote\"@example.com"),
        ("@relay:user@example.com", "@relay:user@example.com"),
        ("bare", "bare"),
    ])
    func localPartsAreQuotedLikeQuote822Local(input: String, expected: String) {
        #expect(DeliveredHeaders.quoteLocalPart(input) == expected)
    }

    @Test func fromLineHasTwoSpacesAndAsctimeDate() {
        setenv("TZ", "UTC", 1)
        tzset()
        // 2023-11-02 09:05:07 UTC, a Thursday: asctime pads the day with a space.
        let line = DeliveredHeaders.fromLine(sender: "mboxer@client.example", date: 1_698_915_907)
        #expect(line == "From mboxer@client.example  Thu Nov  2 09:05:07 2023\n")
        #expect(DeliveredHeaders.fromLine(sender: "", date: 1_698_915_907).hasPrefix("From MAILER-DAEMON  Thu"))
    }
}
