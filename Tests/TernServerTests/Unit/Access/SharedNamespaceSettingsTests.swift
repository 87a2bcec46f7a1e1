import Foundation
import TernIMAP
import TernMailbox
import Testing

@testable import TernServer

/// The shared namespace as dovecot.conf describes it, Dovecot's documented example unchanged.
@Suite struct SharedNamespaceSettingsTests {
    private func settings(_ text: String) throws -> AccessSettings {
        let path = NSTemporaryDirectory() + "tern-shared-settings-\(UUID().uuidString).conf"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try AccessSettings.load(path: path, readingTLSFiles: false)
    }

    static let config = """
        protocols = imap
        mail_location = maildir:~/Maildir
        mail_plugins = $mail_plugins acl
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
        plugin {
          acl = vfile
          acl_shared_dict = file:/var/lib/dovecot/shared-mailboxes.db
        }

        """

    @Test func ownersMaildirsFromTheNamespaceLocation() throws {
        let access = try settings(Self.config)
        #expect(access.sharedDictPath == "/var/lib/dovecot/shared-mailboxes.db")
        let store = try access.mailStore(
            user: "alice", home: "/home/alice", mailLocation: nil, sharedHomes: ["bob": "/home/bob"])
        // INDEXPVT=~/Maildir/shared/%%u: `~` is the session user's home, `%%u` the owner.
        #expect(
            store.shared
                == SharedNamespace(
                    prefix: "shared/", owners: ["bob": "/home/bob/Maildir"],
                    privateIndexes: ["bob": "/home/alice/Maildir/shared/bob"]))
        let imap = IMAPSessionWorker.configuration("alice", home: "/home/alice", access.settings(protocol: "imap"))
        #expect(imap.acl?.sharedDictPath == "/var/lib/dovecot/shared-mailboxes.db")
    }

    /// Without the acl plugin, or with a separator other than the personal namespace's, it is not served.
    @Test func notServedWithoutACLOrWithAnotherSeparator() throws {
        let noACL = try settings(Self.config.replacingOccurrences(of: "mail_plugins = $mail_plugins acl\n", with: ""))
        #expect(noACL.sharedDictPath == nil)
        #expect(try noACL.mailStore(user: "alice", home: "/home/alice", mailLocation: nil).shared == nil)
        let dots = try settings(Self.config.replacingOccurrences(of: "  separator = /\n  prefix", with: "  separator = .\n  prefix"))
        #expect(dots.sharedDictPath == nil)
    }

    /// The owner level as Dovecot 2.3.19 expanded it on loopback: `shared/%%n@%%d/` names owners in full,
    /// `shared/%%n/` by their local part and only those of the user's domain (dan@other.org neither listed
    /// nor reachable); `%%n/` without text before it is refused (Dovecot: "Duplicate namespace prefix").
    @Test func ownerLevelsAsDovecotExpandsThem() throws {
        let homes = ["bob@ex.org": "/home/bob", "dan@other.org": "/home/dan"]
        let local = try settings(Self.config.replacingOccurrences(of: "shared/%%u/", with: "shared/%%n/"))
        let store = try local.mailStore(
            user: "alice@ex.org", home: "/home/alice", mailLocation: nil, sharedHomes: homes)
        #expect(
            store.shared
                == SharedNamespace(
                    prefix: "shared/", owners: ["bob": "/home/bob/Maildir"], users: ["bob": "bob@ex.org"],
                    privateIndexes: ["bob@ex.org": "/home/alice/Maildir/shared/bob@ex.org"]))
        let mailStore = MailStore(settings: store)
        #expect(mailStore.sharedOwner("shared/bob/Work") == "bob@ex.org")
        #expect(mailStore.sharedStore("shared/dan/Work") == nil)
        let full = try settings(Self.config.replacingOccurrences(of: "shared/%%u/", with: "shared/%%n@%%d/"))
        let both = try full.mailStore(user: "alice@ex.org", home: "/home/alice", mailLocation: nil, sharedHomes: homes)
        #expect(both.shared?.owners == ["bob@ex.org": "/home/bob/Maildir", "dan@other.org": "/home/dan/Maildir"])
        #expect(both.shared?.users == [:])
        let bare = try settings(Self.config.replacingOccurrences(of: "shared/%%u/", with: "%%n/"))
        #expect(bare.sharedDictPath == nil)
    }
}
