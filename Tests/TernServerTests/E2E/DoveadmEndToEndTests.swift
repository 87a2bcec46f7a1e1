import Foundation
import Testing

extension DaemonEndToEnd {
    /// `tern doveadm pw` and `doveadm auth test` as commands: Dovecot 2.3's output lines and exit codes.
    @Suite struct Doveadm {
        @Test func pwGeneratesAndTests() throws {
            try TernInstance.with(start: false) { instance in
                let sha = try instance.tern(["doveadm", "pw", "-s", "SHA", "-p", "secret"])
                #expect(sha.status == 0)
                #expect(sha.stdout == "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=\n")
                let crypt = try instance.tern(["doveadm", "pw", "-s", "SHA512-CRYPT", "-p", "secret", "-V"])
                #expect(
                    crypt.stdout.hasPrefix("{SHA512-CRYPT}$6$") && crypt.stdout.hasSuffix(" (verified)\n"), "\(crypt)")
                let verified = try instance.tern([
                    "doveadm", "pw", "-t", "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", "-p", "secret",
                ])
                #expect(verified.stdout == "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ= (verified)\n")
                let mismatch = try instance.tern([
                    "doveadm", "pw", "-t", "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", "-p", "x",
                ])
                #expect(mismatch.status == 75)
                #expect(mismatch.stderr == "Fatal: reverse password verification check failed: Password mismatch\n")
                let unknown = try instance.tern(["doveadm", "pw", "-s", "FOO", "-p", "x"])
                #expect(unknown.status == 75)
                #expect(unknown.stderr == "Fatal: Unknown scheme: FOO\n")
                let prompted = try instance.tern(["doveadm", "pw", "-s", "SHA"], input: "secret\nsecret\n")
                #expect(prompted.stdout == "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=\n")
                #expect(try instance.tern(["doveadm", "pw", "-x"]).status == 64)
            }
        }

        @Test func authTestAgainstAPasswdFile() throws {
            try TernInstance.with(start: false) { instance in
                let users = instance.root + "/users"
                try "alice:{PLAIN}secret:1000:1000::/home/alice\n".write(
                    toFile: users, atomically: true, encoding: .utf8)
                let ok = try instance.tern(["doveadm", "auth", "test", "-P", users, "alice", "secret"])
                #expect(ok.status == 0)
                #expect(ok.stdout == "passdb: alice auth succeeded\nextra fields:\n  user=alice\n")
                let failed = try instance.tern([
                    "doveadm", "auth", "test", "-P", users, "-x", "rip=192.0.2.1", "alice", "no",
                ])
                #expect(failed.status == 77)
                #expect(failed.stdout == "passdb: alice auth failed\nextra fields:\n  user=alice\n")
                #expect(failed.stderr.contains("passwd-file(alice,192.0.2.1): Password mismatch"))
                let noSocket = try instance.tern([
                    "doveadm", "auth", "test", "-a", instance.root + "/none", "alice", "x",
                ])
                #expect(noSocket.status == 77)
            }
        }
    }
}
