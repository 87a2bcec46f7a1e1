import Foundation
import TernConfig
import TernIMAP
import TernMailbox
import Testing

@testable import TernServer

/// What imap's dovecot.conf settings make of a session: mail_plugins, imap_capability, imap_max_line_length.
@Suite struct IMAPSessionSettingsTests {
    private func configuration(_ text: String, userdb: [String: String] = [:]) throws -> IMAPMailSession.Configuration {
        let path = NSTemporaryDirectory() + "tern-imap-settings-\(UUID().uuidString).conf"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let settings = try AccessSettings.load(path: path, readingTLSFiles: false)
        return IMAPSessionWorker.configuration("u", home: "/home/u", settings.settings(protocol: "imap"), userdb: userdb)
    }

    @Test func defaultsAreDovecotsListAndLimits() throws {
        let plain = try configuration("protocols = imap\n")
        #expect(plain.capabilities == IMAPReplyText.postLoginCapabilities)
        #expect(plain.parserLimits.maxLineLength == 65536)
        #expect(!plain.fullTextSearch)
    }

    @Test func pluginsCapabilityAndLineLength() throws {
        let tuned = try configuration(
            """
            protocols = imap
            mail_plugins = $mail_plugins fts
            imap_max_line_length = 2k
            imap_capability = +XTERN
            plugin {
              fts = lucene
            }
            protocol imap {
              mail_plugins = $mail_plugins imap_zlib
            }

            """)
        #expect(tuned.capabilities == IMAPReplyText.postLoginCapabilities + ["COMPRESS=DEFLATE", "XTERN"])
        #expect(tuned.parserLimits.maxLineLength == 2048)
        #expect(tuned.fullTextSearch)
        let replaced = try configuration("protocols = imap\nimap_capability = IMAP4rev1 IDLE\n")
        #expect(replaced.capabilities == ["IMAP4rev1", "IDLE"])
        let metadata = try configuration(
            "imap_metadata = yes\nmail_attribute_dict = file:%h/dovecot-attributes\nprotocol imap {\n  mail_plugins = imap_zlib\n}\n")
        #expect(metadata.capabilities.suffix(2) == ["METADATA", "COMPRESS=DEFLATE"])
        #expect(metadata.metadataPath == "/home/u/dovecot-attributes")
        #expect(try configuration("imap_metadata = yes\n").metadataPath == nil, "no dict: no METADATA")
        // The fts plugin without a backend does nothing, as in Dovecot.
        #expect(try !configuration("mail_plugins = fts\n").fullTextSearch)
    }

    /// imap_literal_minus = yes: LITERAL- where LITERAL+ stood, and non-synchronizing literals up to 4096 octets
    /// (RFC 7888), after login as before it (imap-login's LoginSettings).
    @Test func literalMinus() throws {
        let minus = try configuration("imap_literal_minus = yes\n")
        #expect(minus.capabilities.contains("LITERAL-") && !minus.capabilities.contains("LITERAL+"))
        #expect(minus.parserLimits.maxNonSynchronizingLiteralSize == 4096)
        #expect(try configuration("protocols = imap\n").parserLimits.maxNonSynchronizingLiteralSize == nil)
        let path = NSTemporaryDirectory() + "tern-imap-settings-\(UUID().uuidString).conf"
        try "imap_literal_minus = yes\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let settings = try AccessSettings.load(path: path, readingTLSFiles: false)
        #expect(LoginSettings(settings.settings(protocol: "imap")).literalMinus)
    }

    /// The task's configuration as Dovecot reads it: acl in mail_plugins, imap_acl for imap, a vfile backend
    /// and a shared namespace (which Tern does not offer yet, see docs/compatibility.md).
    @Test func aclPlugin() throws {
        let text = """
            protocols = imap
            mail_location = maildir:~/Maildir
            mail_plugins = $mail_plugins acl
            protocol imap {
              mail_plugins = $mail_plugins imap_acl imap_zlib
            }
            plugin {
              acl = vfile
              acl_shared_dict = file:/var/lib/dovecot/shared-mailboxes.db
            }
            namespace inbox {
              inbox = yes
              separator = /
            }
            namespace shared {
              type = shared
              separator = /
              prefix = shared/%%u/
              location = maildir:%%h/Maildir:INDEXPVT=~/Maildir/shared/%%u
              subscriptions = no
              list = children
            }

            """
        let acl = try configuration(text)
        // Dovecot 2.3.19 lists COMPRESS=DEFLATE before ACL whatever the order in mail_plugins.
        #expect(acl.capabilities == IMAPReplyText.postLoginCapabilities + ["COMPRESS=DEFLATE", "ACL", "RIGHTS=texk"])
        #expect(
            acl.acl
                == ACLSettings(commands: true, anyoneAllowed: false, sharedDictPath: "/var/lib/dovecot/shared-mailboxes.db"))
        let rightsOnly = try configuration("mail_plugins = acl\nplugin {\n  acl = vfile:/etc/dovecot/global-acls\n  acl_anyone = allow\n}\n")
        #expect(rightsOnly.acl == ACLSettings(commands: false, anyoneAllowed: true, globalPath: "/etc/dovecot/global-acls"))
        #expect(!rightsOnly.capabilities.contains("ACL"))
        #expect(try configuration("mail_plugins = acl imap_acl\n").acl == nil, "no backend: no ACL")
    }

    /// The quota plugin enforces; imap_quota adds QUOTA after COMPRESS=DEFLATE and before ACL, as Dovecot
    /// 2.3.19 lists them with any mail_plugins order.
    @Test func quotaPlugins() throws {
        let text = """
            mail_plugins = $mail_plugins quota
            plugin {
              quota = maildir:User quota
              quota_rule = *:storage=%u
              quota_warning = storage=95%% quota-warning 95 %u
            }
            service quota-warning {
              executable = script /usr/local/bin/quota-warning.sh
            }
            protocol imap {
              mail_plugins = $mail_plugins imap_quota imap_zlib
            }

            """
        let quota = try configuration(text.replacingOccurrences(of: "storage=%u", with: "storage=1G"))
        #expect(quota.capabilities.suffix(2) == ["COMPRESS=DEFLATE", "QUOTA"])
        #expect(quota.quotaCommands)
        #expect(quota.quota.first?.limits.bytes == 1 << 30)
        #expect(quota.quota.first?.warnings.first?.command == ["quota-warning", "95", "u"])
        #expect(quota.quotaWarningPrograms["quota-warning"] == ["/usr/local/bin/quota-warning.sh"])
        let enforcedOnly = try configuration("mail_plugins = quota\nplugin {\n  quota = count:User quota\n}\n")
        #expect(!enforcedOnly.quota.isEmpty && !enforcedOnly.quotaCommands)
        #expect(!enforcedOnly.capabilities.contains("QUOTA"))
        #expect(try configuration("plugin {\n  quota = count:User quota\n}\n").quota.isEmpty, "plugin not loaded")
    }

    /// The userdb's quota fields override dovecot.conf's plugin settings for the user (and can add a root);
    /// settings Dovecot refuses (the fs backend here) leave the session without quota.
    @Test func quotaSettingsFromTheUserdb() throws {
        let text = """
            mail_plugins = $mail_plugins quota imap_quota
            plugin {
              quota = maildir:User quota
              quota_rule = *:storage=1G
            }

            """
        let userdb = DovecotSettings.quotaSettings(userdb: [
            ("uid", "1000"), ("quota_rule", "*:storage=%u"), ("quota2", "count:Archive"), ("quota2_rule", "*:messages=5"),
        ])
        #expect(userdb == ["quota_rule": "*:storage=%u", "quota2": "count:Archive", "quota2_rule": "*:messages=5"])
        let overridden = try configuration(text, userdb: userdb.merging(["quota_rule": "*:storage=2G"]) { $1 })
        #expect(overridden.quota.map(\.name) == ["User quota", "Archive"])
        #expect(overridden.quota.first?.limits.bytes == 2 << 30)
        #expect(overridden.quota.last?.limits.messages == 5)
        #expect(overridden.capabilities.contains("QUOTA"))
        let refused = try configuration(text, userdb: ["quota": "fs:User quota"])
        #expect(refused.quota.isEmpty && !refused.capabilities.contains("QUOTA"))
    }
}
