import Foundation
import Testing

extension DaemonEndToEnd {
    /// Dovecot's shared namespace with INDEXPVT through `tern dovecot` on a real socket: alice shares her INBOX
    /// with bob (SETACL writes acl_shared_dict), bob logs in, finds it under `shared/alice` and sets his own
    /// \Seen there, which alice does not see.
    @Suite struct IMAPSharedAccess {
        @Test func privateSeenInAnotherUsersInbox() throws {
            try MailAccessInstance.with(extra: Self.config, users: ["bob"]) { access in
                // Every user's session rewrites the dict (a new file renamed into place).
                let dict = access.root + "/dict"
                try FileManager.default.createDirectory(atPath: dict, withIntermediateDirectories: true)
                try TernInstance.chownTree(dict, uid: access.uid, gid: access.gid)
                let alice = try Self.login(access, "alice")
                for subject in ["one", "two"] {
                    let appended = try alice.imap(
                        "a1", "APPEND INBOX (\\Seen) {\(13 + subject.count)+}\r\nSubject: \(subject)\r\n\r\n")
                    #expect(appended.completion.hasPrefix("a1 OK [APPENDUID "), "\(appended)")
                }
                #expect(try alice.imap("a2", "SETACL INBOX bob lrs").completion.hasPrefix("a2 OK Setacl complete"))

                let bob = try Self.login(access, "bob")
                let list = try bob.imap("b1", "LIST \"\" *")
                #expect(
                    list.untagged == [
                        "* LIST (\\HasNoChildren) \"/\" INBOX", "* LIST (\\HasNoChildren \\Sent) \"/\" Sent",
                        "* LIST (\\Noselect \\HasChildren) \"/\" shared",
                        "* LIST (\\HasNoChildren) \"/\" shared/alice",
                    ], "\(list)")
                let select = try bob.imap("b2", "SELECT shared/alice")
                #expect(select.untagged.contains("* OK [UNSEEN 1] First unseen."), "\(select)")
                #expect(select.untagged.contains("* OK [PERMANENTFLAGS (\\Seen)] Flags permitted."), "\(select)")
                let store = try bob.imap("b3", "STORE 2 +FLAGS (\\Seen)")
                #expect(store.untagged == ["* 2 FETCH (FLAGS (\\Seen \\Recent))"], "\(store)")
                let search = try bob.imap("b4", "SEARCH UNSEEN")
                #expect(search.untagged == ["* SEARCH 1"], "\(search)")
                #expect(try bob.imap("b5", "LOGOUT").completion.hasPrefix("b5 OK Logout completed"))

                _ = try alice.imap("a3", "SELECT INBOX")
                let flags = try alice.imap("a4", "FETCH 1:* (FLAGS)")
                #expect(flags.untagged == ["* 1 FETCH (FLAGS (\\Seen))", "* 2 FETCH (FLAGS (\\Seen))"], "\(flags)")
                let pvt = access.root + "/home-bob/Maildir/shared/alice/.INBOX/tern.pvt"
                #expect((try? String(contentsOfFile: pvt, encoding: .utf8))?.hasSuffix("\nseen 2\n") == true)
            }
        }

        /// carla shares a mailbox after bob logged in: bob's next LIST shows it (the session reads the changed
        /// dict again and looks carla up in the userdb), and he can select it, without logging out.
        @Test func mailboxSharedAfterLoginShowsInTheSameSession() throws {
            try MailAccessInstance.with(extra: Self.config, users: ["bob", "carla"]) { access in
                let dict = access.root + "/dict"
                try FileManager.default.createDirectory(atPath: dict, withIntermediateDirectories: true)
                try TernInstance.chownTree(dict, uid: access.uid, gid: access.gid)
                let bob = try Self.login(access, "bob")
                let own = ["* LIST (\\HasNoChildren) \"/\" INBOX", "* LIST (\\HasNoChildren \\Sent) \"/\" Sent"]
                let before = try bob.imap("b1", "LIST \"\" *")
                #expect(before.untagged == own, "\(before)")

                let carla = try Self.login(access, "carla")
                #expect(try carla.imap("c1", "CREATE Projects").completion.hasPrefix("c1 OK"))
                let appended = try carla.imap("c2", "APPEND Projects {12+}\r\nSubject: p\r\n\r\n")
                #expect(appended.completion.hasPrefix("c2 OK [APPENDUID "), "\(appended)")
                #expect(try carla.imap("c3", "SETACL Projects bob lr").completion.hasPrefix("c3 OK Setacl complete"))

                let after = try bob.imap("b2", "LIST \"\" *")
                #expect(
                    after.untagged == own + [
                        "* LIST (\\Noselect \\HasChildren) \"/\" shared",
                        "* LIST (\\Noselect \\HasChildren) \"/\" shared/carla",
                        "* LIST (\\HasNoChildren) \"/\" shared/carla/Projects",
                    ], "\(after)")
                let select = try bob.imap("b3", "EXAMINE shared/carla/Projects")
                #expect(select.untagged.contains("* 1 EXISTS"), "\(select)")
                #expect(select.completion.hasPrefix("b3 OK [READ-ONLY]"), "\(select)")

                #expect(try carla.imap("c4", "DELETEACL Projects bob").completion.hasPrefix("c4 OK Deleteacl complete"))
                let revoked = try bob.imap("b4", "LIST \"\" *")
                #expect(revoked.untagged == own, "\(revoked)")
            }
        }

        static func login(_ access: MailAccessInstance, _ user: String) throws -> LineTestClient {
            let client = try LineTestClient(port: access.imapPort)
            _ = try client.readLine()
            let login = try client.imap("l", "LOGIN \(user) \(MailAccessInstance.password)")
            #expect(login.completion.hasPrefix("l OK "), "\(login)")
            return client
        }

        /// Dovecot's documented shared namespace; the dict under the instance directory.
        static let config = """
            mail_plugins = $mail_plugins acl
            protocol imap {
              mail_plugins = $mail_plugins imap_acl
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
              acl_shared_dict = file:@ROOT@/dict/shared-mailboxes
            }
            """
    }
}
