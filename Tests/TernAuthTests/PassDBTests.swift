import Foundation
import Testing

@testable import TernAuth

@Suite struct PassDBTests {
    func temporaryFile(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "tern-auth-\(UUID().uuidString)"
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        return path
    }

    static let users = """
        # comment
        alice:{PLAIN}secret:1000:1000::/home/alice::userdb_quota_rule=*:storage=1G
        bob:{SHA512-CRYPT}$6$DntR.vz/BL2vtIE9$TRiR7Wc4sFlqLGWR0H5N4utrJSJwcXFHRzHiFFYIfqrrqNWEIdVcFZgtBAjdV1stHMT7UV0GEdHR0w2S7OA0I0:1001:1001::/home/bob
        carol:{CRAM-MD5}cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b56
        dave:secret:::::: allow_nets=10.0.0.0/8,::1 proxy
        alice:{PLAIN}second-line-ignored
        """

    @Test func parsesDovecotLines() throws {
        let entry = try #require(
            PasswdFileEntry(line: "alice:{PLAIN}secret:1000:1000::/home/alice::userdb_mail=maildir:~/M nodelay"))
        #expect(entry.user == "alice")
        #expect(entry.password == "{PLAIN}secret")
        #expect(entry.uid == "1000")
        #expect(entry.home == "/home/alice")
        #expect(entry.extraFields == [AuthField("userdb_mail", "maildir:~/M"), AuthField("nodelay")])
        #expect(PasswdFileEntry(line: "# x:y") == nil)
        #expect(PasswdFileEntry(line: "   ") == nil)
        #expect(PasswdFileEntry(line: ":nouser") == nil)
        #expect(try #require(PasswdFileEntry(line: "erin")).password == "")
    }

    @Test func verifiesAndRereadsWhenTheFileChanges() async throws {
        let path = try temporaryFile(Self.users)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let db = PasswdFileDB(args: "scheme=PLAIN \(path)")
        let alice = AuthRequest(user: "alice", service: "smtp")
        #expect(await db.verifyPlain(alice, password: Array("secret".utf8)) == .ok(user: "alice", fields: []))
        #expect(await db.verifyPlain(alice, password: Array("nope".utf8)) == .passwordMismatch)
        #expect(
            await db.verifyPlain(AuthRequest(user: "bob", service: "smtp"), password: Array("secret".utf8))
                == .ok(user: "bob", fields: []))
        #expect(await db.verifyPlain(AuthRequest(user: "zed", service: "smtp"), password: []) == .userUnknown)
        // dave's password has no prefix: scheme=PLAIN applies.
        let dave = await db.verifyPlain(AuthRequest(user: "dave", service: "smtp"), password: Array("secret".utf8))
        #expect(dave == .ok(user: "dave", fields: [AuthField("allow_nets", "10.0.0.0/8,::1"), AuthField("proxy")]))

        try (Self.users + "\nzed:{PLAIN}new\n").write(toFile: path, atomically: true, encoding: .utf8)
        #expect(
            await db.verifyPlain(AuthRequest(user: "zed", service: "smtp"), password: Array("new".utf8))
                == .ok(user: "zed", fields: []))
    }

    @Test func userdbLookups() async throws {
        let path = try temporaryFile(Self.users)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let db = PasswdFileDB(args: path)
        let record = try #require(
            await {
                if case .found(let record) = await db.lookupUser(AuthRequest(user: "alice", service: "imap")) {
                    return record
                }
                return nil
            }())
        #expect(record.uid == "1000")
        #expect(record.home == "/home/alice")
        #expect(record["quota_rule"] == "*:storage=1G")
        #expect(await db.lookupUser(AuthRequest(user: "carol", service: "imap")) != .userUnknown)
        #expect(await db.lookupUser(AuthRequest(user: "nobody", service: "imap")) == .userUnknown)
        #expect(
            await PasswdFileDB(args: "/nonexistent/file").lookupUser(AuthRequest(user: "a", service: "imap"))
                != .userUnknown)
    }

    @Test func staticDrivers() async throws {
        let userdb = StaticDB(args: "uid=vmail gid=vmail home=/var/vmail/%d/%n")
        let result = await userdb.lookupUser(AuthRequest(user: "carla@example.org", service: "imap"))
        #expect(
            result
                == .found(
                    UserRecord(
                        user: "carla@example.org",
                        fields: [
                            AuthField("uid", "vmail"), AuthField("gid", "vmail"),
                            AuthField("home", "/var/vmail/example.org/carla"),
                        ])))
        let passdb = StaticDB(args: "password=%n-pw")
        #expect(
            await passdb.verifyPlain(AuthRequest(user: "x@y", service: "smtp"), password: Array("x-pw".utf8))
                == .ok(user: "x@y", fields: []))
        #expect(
            await passdb.verifyPlain(AuthRequest(user: "x@y", service: "smtp"), password: Array("y".utf8))
                == .passwordMismatch)
        let open = StaticDB(args: "nopassword")
        if case .ok = await open.verifyPlain(AuthRequest(user: "any", service: "smtp"), password: []) {
        } else {
            Issue.record("nopassword")
        }
    }

    @Test func systemAccounts() async throws {
        let root = await PasswdDB().lookupUser(AuthRequest(user: "root", service: "imap"))
        guard case .found(let record) = root else {
            Issue.record("root: \(root)")
            return
        }
        #expect(record.uid == "0")
        #expect(await PasswdDB().lookupUser(AuthRequest(user: "no-such-user-here", service: "imap")) == .userUnknown)
        if getuid() == 0 {
            #expect(
                await ShadowDB().lookupCredentials(AuthRequest(user: "no-such-user-here", service: "imap"))
                    == .userUnknown)
            if case .found = await ShadowDB().lookupCredentials(AuthRequest(user: "root", service: "imap")) {
            } else {
                Issue.record("shadow root")
            }
        }
    }

    @Test func pamRefusesUnknownUsers() async {
        let result = await PAMPassDB(args: "login").verifyPlain(
            AuthRequest(user: "no-such-user-tern", service: "imap"), password: Array("x".utf8))
        if case .ok = result { Issue.record("PAM accepted an unknown user") }
        #expect(PAMPassDB(args: "session=yes %s").service == "%s")
        #expect(PAMPassDB(args: "").service == "dovecot")
    }

    @Test func checkpasswordProtocol() async throws {
        // Reads user NUL password NUL from fd 3, accepts alice/secret by running its argument.
        let script = try temporaryFile(
            """
            #!/bin/sh
            input=$(tr '\\0' '\\n' <&3)
            user=$(printf '%s\\n' "$input" | sed -n 1p)
            pass=$(printf '%s\\n' "$input" | sed -n 2p)
            [ "$SERVICE" = smtp ] || exit 2
            [ "$user" = alice ] && [ "$pass" = secret ] && exec "$1"
            exit 1
            """)
        defer { try? FileManager.default.removeItem(atPath: script) }
        chmod(script, 0o755)
        let db = CheckpasswordDB(args: script)
        let alice = AuthRequest(user: "alice", service: "smtp", remoteIP: "192.0.2.1")
        #expect(await db.verifyPlain(alice, password: Array("secret".utf8)) == .ok(user: "alice", fields: []))
        #expect(await db.verifyPlain(alice, password: Array("wrong".utf8)) == .passwordMismatch)
        let imap = AuthRequest(user: "alice", service: "imap")
        #expect(
            await db.verifyPlain(imap, password: Array("secret".utf8))
                == .internalFailure("Child \(script) exited with status 2"))
        let missing = await CheckpasswordDB(args: "/nonexistent/checkpassword").verifyPlain(alice, password: [])
        if case .internalFailure = missing {} else { Issue.record("\(missing)") }
    }

    @Test func allowNets() {
        #expect(AllowNets("10.0.0.0/8,::1").check(remoteIP: "10.1.2.3") == nil)
        #expect(AllowNets("10.0.0.0/8,::1").check(remoteIP: "::1") == nil)
        #expect(AllowNets("10.0.0.0/8").check(remoteIP: "::ffff:10.0.0.1") == nil)
        #expect(AllowNets("10.0.0.0/8").check(remoteIP: "11.0.0.1") != nil)
        #expect(
            AllowNets("127.0.0.1").check(remoteIP: nil)
                == "allow_nets check failed: Remote IP not known and 'local' missing")
        #expect(AllowNets("local").check(remoteIP: nil) == nil)
        #expect(AllowNets("1.2.3.4/99,garbage").check(remoteIP: "1.2.3.4") != nil)
    }
}
