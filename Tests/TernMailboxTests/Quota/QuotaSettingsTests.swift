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

    /// `quota2`, `quota3`, ... are roots of their own, with `quota2_rule`, `quota2_warning` and `quota2_grace`;
    /// the list stops at the first missing one, as Dovecot reads numbered settings.
    @Test func severalRoots() throws {
        let roots = try QuotaSettings.roots([
            "quota": "maildir:User quota", "quota_rule": "*:storage=1G", "quota2": "count:Archive:ns=Archive/:hidden",
            "quota2_rule": "*:messages=3", "quota2_warning": "messages=2 quota-warning 2 carla", "quota2_grace": "0",
            "quota4": "dirsize:Skipped",
        ])
        #expect(roots.map(\.name) == ["User quota", "Archive"])
        #expect(roots[0].limits == .init(bytes: 1 << 30, messages: 0))
        #expect(roots[1].limits == .init(bytes: 0, messages: 3))
        #expect(roots[1].hidden && roots[1].namespacePrefix == "Archive/" && roots[1].graceBytes == 0)
        #expect(roots[1].warnings.map(\.command) == [["quota-warning", "2", "carla"]])
        #expect(roots[0].warnings.isEmpty)
        #expect(roots[1].covers("Archive/2024") && !roots[1].covers("INBOX"))
        #expect(try QuotaSettings.roots([:]).isEmpty)
    }

    /// `Trash:ignore`, relative mailbox rules and `backend=` (the fs and dict backends' own values).
    @Test func ruleKeys() throws {
        let settings = try #require(
            try QuotaSettings.parse([
                "quota": "maildir:User quota", "quota_rule": "*:storage=100M", "quota_rule2": "Trash:ignore",
                "quota_rule3": "Spam:storage=+20M", "quota_rule4": "Junk:storage=+10%", "quota_rule5": "*:backend=1G",
            ]))
        #expect(settings.ignoredMailboxes == ["Trash"])
        #expect(!settings.covers("Trash") && settings.covers("INBOX"))
        #expect(settings.limits(for: "Spam").bytes == 120 << 20)
        #expect(settings.limits(for: "Junk").bytes == (100 << 20) + (10 << 20))
        #expect(settings.limits.bytes == 100 << 20)
    }

    /// dirsize and dict backends; fs is refused with a clear error, an unknown dict driver too.
    @Test func backends() throws {
        #expect(try QuotaSettings.parse(["quota": "dirsize:User quota"])?.backend == .dirsize)
        let dict = try #require(try QuotaSettings.parse(["quota": "dict:User quota::noenforcing:file:/var/q/%u"]))
        #expect(dict.backend == .dict && dict.dictPath == "/var/q/%u" && !dict.enforcing)
        #expect(try QuotaSettings.parse(["quota": "dict:Q:carla:file:/q"])?.dictPath == "/q")
        #expect(throws: QuotaSettings.ParseError(description: "URI missing from parameters")) {
            try QuotaSettings.parse(["quota": "dict:User quota"])
        }
        #expect(throws: QuotaSettings.ParseError.self) { try QuotaSettings.parse(["quota": "dict:Q::redis:host=x"]) }
        #expect(
            throws: QuotaSettings.ParseError(
                description:
                    "Quota root User quota: quota backend fs (filesystem quota) is not supported by Tern: use maildir, count, dirsize or dict")
        ) { try QuotaSettings.roots(["quota": "fs:User quota"]) }
    }
}
