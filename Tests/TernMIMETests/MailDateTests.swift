import Testing
import TernMIME

@Suite struct MailDateTests {
    // 2026-11-30 11:17:12 UTC, a Monday (the time of the reference queue files).
    let t = 1_796_037_432

    @Test func rfc5322AsPostfixWritesIt() {
        #expect(MailDate.rfc5322(epochSeconds: t, zone: .utc) == "Mon, 30 Nov 2026 11:17:12 +0000 (UTC)")
        #expect(
            MailDate.rfc5322(epochSeconds: t, zone: .fixed(offsetSeconds: 3600, name: "CET"))
                == "Mon, 30 Nov 2026 12:17:12 +0100 (CET)")
        #expect(
            MailDate.rfc5322(epochSeconds: t, zone: .fixed(offsetSeconds: -(4 * 3600 + 1800), name: "X"))
                == "Mon, 30 Nov 2026 06:47:12 -0430 (X)")
    }

    @Test func dayOfMonthIsSpacePadded() {
        // 2024-09-02 10:00:00 UTC: Postfix 3.7 uses %e.
        #expect(MailDate.rfc5322(epochSeconds: 1_725_271_200, zone: .utc) == "Mon,  2 Sep 2024 10:00:00 +0000 (UTC)")
        #expect(MailDate.asctime(epochSeconds: 1_725_271_200, zone: .utc) == "Mon Sep  2 10:00:00 2024")
    }

    @Test func compactStampForMessageIDs() {
        #expect(MailDate.compactUTC(epochSeconds: t) == "20261130111712")
        #expect(MailDate.asctime(epochSeconds: t, zone: .utc) == "Mon Nov 30 11:17:12 2026")
    }
}
