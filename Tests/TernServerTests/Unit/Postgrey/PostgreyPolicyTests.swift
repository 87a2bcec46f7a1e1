import Foundation
import Synchronization
import TernCore
import TernPolicy
import Testing

@testable import TernServer

/// The policy actor over a real SQLite database in a temporary --dbdir, with a clock the test sets.
@Suite struct PostgreyPolicyTests {
    final class Clock: Sendable {
        let now = Mutex<Int64>(1_700_000_000)
        func advance(_ seconds: Int64) { now.withLock { $0 += seconds } }
    }

    struct Fixture {
        let directory: String
        let clock = Clock()
        let log: MailLog
        let settings: PostgreySettings

        init(clients: String = "", recipients: String = "", configure: (inout PostgreySettings) -> Void = { _ in })
            throws
        {
            directory = NSTemporaryDirectory() + "tern-postgrey-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try clients.write(toFile: directory + "/clients", atomically: true, encoding: .utf8)
            try recipients.write(toFile: directory + "/recipients", atomically: true, encoding: .utf8)
            log = MailLog(syslogName: "postgrey", hostname: "test", destination: .file(directory + "/log"))
            var settings = PostgreySettings(endpoint: .inet(host: "127.0.0.1", port: 0))
            settings.databaseDirectory = directory + "/db"
            settings.clientWhitelistFiles = [directory + "/clients", directory + "/clients.local"]
            settings.recipientWhitelistFiles = [directory + "/recipients"]
            settings.parameters.delay = 60
            settings.parameters.hostname = "grey.test"
            configure(&settings)
            self.settings = settings
        }

        func policy() throws -> PostgreyPolicy {
            let clock = self.clock
            return try PostgreyPolicy(settings: settings, log: log) { clock.now.withLock { $0 } }
        }

        var logText: String { (try? String(contentsOfFile: directory + "/log", encoding: .utf8)) ?? "" }

        func remove() { try? FileManager.default.removeItem(atPath: directory) }
    }

    static func request(
        _ recipient: String = "alice@example.com", client: String = "192.0.2.10", name: String = "mx.sender.test"
    ) -> [String: String] {
        [
            "request": "smtpd_access_policy", "client_address": client, "client_name": name,
            "sender": "bob@sender.test", "recipient": recipient, "etrn_domain": "", "instance": UUID().uuidString,
        ]
    }

    @Test func greylistsPassesAndKeepsStateAcrossRestarts() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        var policy: PostgreyPolicy? = try fixture.policy()
        #expect(
            await policy?.answer(Self.request())
                == "DEFER_IF_PERMIT 4.2.0 Greylisted, see http://postgrey.schweikert.ch/help/example.com.html")
        fixture.clock.advance(61)
        policy = nil  // closes the database and its lock
        let restarted = try fixture.policy()
        let passed = await restarted.answer(Self.request())
        #expect(passed?.hasPrefix("PREPEND X-Greylist: delayed 61 seconds by postgrey-1.37 at grey.test; ") == true)
        #expect(await restarted.answer(Self.request()) == "DUNNO")
        #expect(
            fixture.logText.contains("postgrey[\(getpid())]: action=greylist, reason=new, client_name=mx.sender.test"))
        #expect(fixture.logText.contains("action=pass, reason=triplet found, delay=61, "))
        // A missing whitelist file is worth a warning, a missing .local one is not.
        #expect(!fixture.logText.contains("clients.local"))
    }

    @Test func secondServerOnTheSameDirectoryIsRefused() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let first = try fixture.policy()
        #expect(throws: GreylistDatabase.Failure.self) { try fixture.policy() }
        _ = first
    }

    @Test func whitelistFilesAndReload() async throws {
        let fixture = try Fixture(clients: "sender.test\n", recipients: "postmaster@\n")
        defer { fixture.remove() }
        let policy = try fixture.policy()
        #expect(await policy.answer(Self.request()) == "DUNNO")
        #expect(await policy.answer(Self.request("postmaster@example.com", name: "unknown")) == "DUNNO")
        #expect(await policy.answer(Self.request(name: "unknown"))?.hasPrefix("DEFER_IF_PERMIT") == true)
        try "".write(toFile: fixture.directory + "/clients", atomically: true, encoding: .utf8)
        await policy.reloadWhitelists()
        #expect(await policy.answer(Self.request("x@example.org"))?.hasPrefix("DEFER_IF_PERMIT") == true)
        #expect(fixture.logText.contains("action=pass, reason=client whitelist, client_name=mx.sender.test"))
        #expect(fixture.logText.contains("action=pass, reason=recipient whitelist"))
        #expect(fixture.logText.contains("HUP received: reloading whitelists..."))
    }

    @Test func otherRequestTypesGetNoAnswer() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let policy = try fixture.policy()
        var request = Self.request()
        request["request"] = "junk"
        #expect(await policy.answer(request) == nil)
        #expect(fixture.logText.contains("warning: unrecognized request type: 'junk'"))
        request["request"] = "smtpd_access_policy"
        request["client_address"] = "not-an-address"
        #expect(await policy.answer(request) == "DUNNO")
    }

    @Test func maintenanceRemovesOldEntries() async throws {
        let fixture = try Fixture { $0.parameters.retryWindow = 3600 }
        defer { fixture.remove() }
        let database = try GreylistDatabase(directory: fixture.directory)
        let parameters = fixture.settings.parameters
        let now: Int64 = 1_800_000_000
        func keys(_ recipient: String) -> GreylistKeys {
            GreylistKeys(clientAddress: "192.0.2.1", sender: "s@x.test", recipient: recipient, parameters: parameters)!
        }
        // Passed long ago, passed recently, never passed and abandoned, never passed but still in the window.
        try database.store(keys("old@x"), triplet: TripletRecord(firstSeen: 0, lastSeen: 100), client: nil)
        try database.store(
            keys("fresh@x"), triplet: TripletRecord(firstSeen: now - 5000, lastSeen: now - 10), client: nil)
        try database.store(
            keys("gone@x"), triplet: TripletRecord(firstSeen: now - 7210, lastSeen: now - 7200), client: nil)
        try database.store(keys("wait@x"), triplet: TripletRecord(firstSeen: now - 20, lastSeen: now - 20), client: nil)
        try database.store(keys("a@x"), triplet: nil, client: ClientRecord(count: 7, lastSeen: 5))
        let result = try database.clean(now: now, parameters: parameters)
        #expect(result.triplets == (4, 2) && result.clients == (1, 0))
        #expect(try database.triplet(keys("fresh@x")) == TripletRecord(firstSeen: now - 5000, lastSeen: now - 10))
        #expect(try database.triplet(keys("wait@x")) != nil)
        #expect(try database.triplet(keys("old@x")) == nil)
        #expect(try database.client(keys("a@x")) == nil)
    }
}
