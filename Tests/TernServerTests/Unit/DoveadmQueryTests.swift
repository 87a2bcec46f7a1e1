import Foundation
import TernIMAP
import Testing
@testable import TernServer

@Suite struct DoveadmQueryTests {
    @Test func mailboxKeysAreTakenOutOfTheSearchKeys() throws {
        let query = try DoveadmQuery.parse(["mailbox", "INBOX", "uid", "1"])
        #expect(query.mailboxPatterns == ["INBOX"])
        #expect(query.key == (try SearchQuery.parse(words: ["uid", "1"])))
        #expect(query.namesMailbox)
    }

    @Test func aQueryOfOnlyMailboxKeysMatchesAll() throws {
        let query = try DoveadmQuery.parse(["mailbox-guid", "0123abcd"])
        #expect(query.mailboxGUIDs == ["0123abcd"])
        #expect(query.key == .all)
    }

    @Test func wordsAreSingleTokensEvenWithSpaces() throws {
        let query = try DoveadmQuery.parse(["subject", "hello mailbox world", "seen"])
        #expect(query.key == .and([.subject("hello mailbox world"), .seen]))
        #expect(query.mailboxPatterns.isEmpty && !query.namesMailbox)
    }

    @Test func keysInsideParenthesesAndOr() throws {
        let query = try DoveadmQuery.parse(["or", "seen", "flagged", "(", "larger", "100", ")"])
        #expect(query.key == .and([.or(.seen, .flagged), .larger(100)]))
    }

    @Test func unknownKeysAreRefusedInDovecotWords() {
        #expect(throws: DoveadmQuery.ParseError.self) { try DoveadmQuery.parse(["bogus"]) }
        do {
            _ = try DoveadmQuery.parse(["mailbox", "INBOX", "bogus"])
        } catch {
            #expect(error.description == "Unknown argument BOGUS")
        }
    }

    @Test func doveadmDatesBecomeIMAPDates() throws {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(try DoveadmQuery.imapDate("2024-01-31", now: now) == "31-Jan-2024")
        #expect(try DoveadmQuery.imapDate("1-Feb-2024", now: now) == "1-Feb-2024")
        #expect(DoveadmQuery.intervalSeconds("30d") == 30 * 86400)
        #expect(DoveadmQuery.intervalSeconds("2 weeks") == 2 * 604_800)
        #expect(DoveadmQuery.intervalSeconds("soon") == nil)
        let query = try DoveadmQuery.parse(["savedbefore", "2024-01-31"], now: now)
        #expect(query.key == .before(IMAPDate(year: 2024, month: 1, day: 31)))
    }

    @Test func logErrorsKeepsWarningsAndWorse() {
        let log = """
            Nov 30 19:37:05 master: Info: Dovecot v2.3.19.1 starting up for imap
            Nov 30 19:37:11 auth: Error: passwd-file /tmp/dva/users:User bad has invalid UID '0'
            Nov 30 19:37:12 imap(carla)<7><s>: Warning: Mailbox: slow
            Nov 30 19:37:13 imap-login: Info: Disconnected
            """
        let entries = DoveadmLogError.entries(log.split(separator: "\n"))
        #expect(
            entries == [
                DoveadmLogError(
                    timestamp: "Nov 30 19:37:11", prefix: "auth", type: "Error",
                    text: "passwd-file /tmp/dva/users:User bad has invalid UID '0'"),
                DoveadmLogError(timestamp: "Nov 30 19:37:12", prefix: "imap(carla)<7><s>", type: "Warning", text: "Mailbox: slow"),
            ])
    }

    @Test func fetchSplitsTheHeaderAtTheEmptyLine() {
        #expect(DoveadmFetchField.headerEnd(Array("A: b\n\nbody\n".utf8)) == 6)
        #expect(DoveadmFetchField.headerEnd(Array("A: b\r\n\r\nbody".utf8)) == 8)
        #expect(DoveadmFetchField.headerEnd(Array("A: b\n".utf8)) == 5)
    }
}
