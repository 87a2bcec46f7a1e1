import Foundation
import TernAuth
import TernConfig
import TernIMAP
import TernMailbox
import TernServer

/// doveadm's mail commands: `-u USER` (or `-A`, every passwd-file user), looked up in the userdbs, then
/// run with the user's effective ids against the user's Maildir.
enum DoveadmMailCommand {
    static let names: Set<String> = ["mailbox", "fetch", "search", "expunge", "flags", "force-resync", "acl", "quota"]

    /// One command's parsed operands, run once per user.
    typealias Body = (DoveadmMail, DoveadmOutput) -> Int32

    static func run(_ global: DoveadmGlobalOptions, _ words: [String]) async -> Int32 {
        let (name, arguments) = commandName(words)
        guard let (values, operands) = DoveadmTool.options(
            arguments, withValue: ["u", "S", "F", "t", "x"], flags: ["A", "s", "r", "e", "f", "m", "7", "8"],
            command: name)
        else { return DoveadmTool.usage }
        let flags = Set(values.map(\.0))
        let output = DoveadmOutput()
        defer { output.flush() }
        let body: Body
        do {
            body = try prepare(name, operands: operands, flags: flags, global: global)
        } catch {
            return error.status
        }
        guard let settings = global.settings() else { return DoveadmTool.configFailure }
        var users = values.filter { $0.0 == "u" }.map(\.1)
        if flags.contains("A") { users = DoveadmUser.allUsers(settings: settings) }
        guard !users.isEmpty else { return DoveadmTool.fail(DoveadmTool.usage, "Fatal: No user given (-u USER or -A)") }
        let auth: AuthService
        do {
            auth = try settings.authService(log: global.authLog())
        } catch {
            return DoveadmTool.fail(DoveadmTool.configFailure, "\(error)")
        }
        var status: Int32 = 0
        for user in users {
            let result = await runForUser(user, settings: settings, auth: auth, output: output, body)
            if result != 0 { status = result }
        }
        return status
    }

    /// `mailbox list`, `flags add` and `quota get` are two words.
    private static func commandName(_ words: [String]) -> (String, [String]) {
        let first = words.first ?? ""
        if first == "mailbox" || first == "flags" || first == "acl" || first == "quota", words.count > 1 {
            return ("\(first) \(words[1])", Array(words.dropFirst(2)))
        }
        return (first, Array(words.dropFirst()))
    }

    private static func runForUser(
        _ name: String, settings: AccessSettings, auth: AuthService, output: DoveadmOutput, _ body: Body
    ) async -> Int32 {
        let user: DoveadmUser
        do {
            user = try await DoveadmUser.lookup(name, settings: settings, auth: auth)
            let userdb = DovecotSettings.quotaSettings(userdb: user.record.fields.map { ($0.key, $0.value ?? "") })
            let quota = try? settings.settings(protocol: "doveadm").quota(
                user: user.name, home: user.record.home ?? "", userdb: userdb)
            let mail = DoveadmMail(
                store: MailStore(settings: user.store.ignoringInMaildirSize(quota ?? [])), user: user.name,
                home: user.record.home ?? "", userdbSettings: userdb)
            return try user.withUserIdentity(settings: settings) {
                // Mailboxes with `auto = create|subscribe` exist once the user's mail is opened, as in Dovecot.
                try? mail.store.applyAutoSettings()
                return body(mail, output)
            }
        } catch {
            output.flush()
            switch error {
            case .unknownUser(let user): return DoveadmTool.fail(DoveadmTool.noUser, "doveadm(\(user)): Error: User doesn't exist")
            case .failed(let user, let message):
                return DoveadmTool.fail(DoveadmTool.tempFail, "doveadm(\(user)): Error: User init failed: \(message)")
            }
        }
    }

    /// A command refused before any user was looked up; the message was printed.
    struct Refused: Error {
        let status: Int32
    }

    /// Checks the operands (usage, fields, query) and returns what to run for each user.
    private static func prepare(
        _ name: String, operands: [String], flags: Set<Character>, global: DoveadmGlobalOptions
    ) throws(Refused) -> Body {
        switch name {
        case "mailbox list": return try listBody(operands, subscribed: flags.contains("s"), global: global)
        case "mailbox create": return try createBody(operands, subscribe: flags.contains("s"))
        case "mailbox delete": return try deleteBody(operands)
        case "mailbox status": return try statusBody(operands, global: global)
        case "fetch": return try fetchBody(operands, global: global)
        case "search": return try searchBody(operands, global: global)
        case "expunge": return try expungeBody(operands, global: global)
        case "flags add", "flags remove", "flags replace": return try flagsBody(name, operands)
        case "force-resync": return try resyncBody(operands)
        case "acl get", "acl rights", "acl set", "acl add", "acl remove", "acl delete":
            return try aclBody(name, operands, global: global)
        case "quota get": return quotaGetBody(global: global)
        case "quota recalc": return quotaRecalcBody(global: global)
        default: throw refuse(DoveadmTool.usage, "doveadm: Unknown command '\(name)'")
        }
    }

    static func refuse(_ status: Int32, _ message: String) -> Refused {
        Refused(status: DoveadmTool.fail(status, message))
    }

    /// The user's error line, as Dovecot prints mail errors: `doveadm(carla): Error: ...`.
    static func userError(_ mail: DoveadmMail, _ output: DoveadmOutput, _ status: Int32, _ message: String) -> Int32 {
        output.flush()
        return DoveadmTool.fail(status, "doveadm(\(mail.user)): Error: \(message)")
    }

    /// Dovecot's exit codes for mail storage errors: not found 68, exists 65, the rest a temporary failure.
    static func status(of error: MailboxError) -> Int32 {
        switch error {
        case .nonexistent, .noSuchMessage: DoveadmTool.notFound
        case .alreadyExists, .invalidName, .cannotDeleteInbox, .cannotRenameToItself: DoveadmTool.dataError
        default: DoveadmTool.tempFail
        }
    }

    static func parseQuery(_ words: [String]) throws(Refused) -> DoveadmQuery {
        do {
            return try DoveadmQuery.parse(words)
        } catch {
            throw refuse(DoveadmTool.tempFail, "Fatal: \(error.description)")
        }
    }
}
