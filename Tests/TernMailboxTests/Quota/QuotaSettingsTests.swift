import Testing

@testable import TernMailbox

/// The quota plugin's settings as Dovecot 2.3 reads them (doc/example-config/conf.d/90-quota.conf).
@Suite struct QuotaSettingsTests {
    @Test func theExampleConfiguration() throws {
        let settings = try #require(
            try QuotaSettings.parse([
                "quota": "maildir:User quota", "quota_rule": "*:storage=1G", "quota_rule2": "Trash:storage=+100M",
                "quota_rule3": "*:messages=1000", "quota_warning": "storage=95% quota-warning 95 carla",
                "quota_warning2": "-storage=100% quota-warning below carla",
            ]))
        #expect(settings.backend == .maildir)
        #expect(settings.name == "User quota")
        // Rules for `*` add up, each setting the limits it names (a Dovecot 2.3.19 showed STORAGE and MESSAGE).
        #expect(settings.limits == .init(bytes: 1 << 30, messages: 1000))
        #expect(settings.exceededMessage == "Quota exceeded (mailbox for user is full)")
        #expect(settings.warnings.count == 2)
        #expect(settings.warnings[0].command == ["quota-warning", "95", "carla"])
        #expect(settings.warnings[1].reverse)
    }

    @Test func rulesUnitsAndRelativeMailboxRules() throws {
        let settings = try #require(
            try QuotaSettings.parse([
                "quota": "count:User quota", "quota_rule": "*:storage=1G messages=1000",
                "quota_rule2": "Trash:storage=+100M", "quota_rule3": "Spam:storage=-10%",
                "quota_rule4": "Junk:bytes=1000", "quota_grace": "10%",
                "quota_warning": "storage=95% quota-warning 95 carla",
            ]))
        #expect(settings.limits == .init(bytes: 1 << 30, messages: 1000))
        #expect(settings.limits(for: "Trash") == .init(bytes: (1 << 30) + (100 << 20), messages: 1000))
        #expect(settings.limits(for: "Spam").bytes == (1 << 30) - (1 << 30) / 10)
        // Mailbox rules add to the `*` rule in Dovecot 2.3, with or without `+`.
        #expect(settings.limits(for: "Junk").bytes == (1 << 30) + 1000)
        #expect(settings.limits(for: "INBOX") == settings.limits)
        #expect(settings.graceBytes == (1 << 30) / 10)
        #expect(settings.warnings[0].limits == .init(bytes: (1 << 30) * 95 / 100, messages: 0))
        // Without a name the root's name is empty (`* QUOTA "" (STORAGE 0 1)` from Dovecot 2.3.19).
        #expect(try QuotaSettings.parse(["quota": "maildir"])?.name == "")
        // storage= is in kilobytes without a unit.
        #expect(try QuotaSettings.parse(["quota": "maildir", "quota_rule": "*:storage=100"])?.limits.bytes == 102_400)
        #expect(try QuotaSettings.parse(["quota": "maildir", "quota_grace": "5M"])?.graceBytes == 5 << 20)
    }

    @Test func invalidSettings() throws {
        #expect(try QuotaSettings.parse([:]) == nil)
        #expect(throws: QuotaSettings.ParseError.self) { try QuotaSettings.parse(["quota": "fs:User quota"]) }
        #expect(throws: QuotaSettings.ParseError.self) {
            try QuotaSettings.parse(["quota": "maildir:q", "quota_rule": "*:storage=1X"])
        }
        #expect(throws: QuotaSettings.ParseError.self) {
            try QuotaSettings.parse(["quota": "maildir:q", "quota_rule": "*:size=1"])
        }
        let noEnforcing = try QuotaSettings.parse(["quota": "maildir:User quota:noenforcing"])
        #expect(noEnforcing?.enforcing == false)
    }
}
