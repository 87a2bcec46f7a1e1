import TernIMAP
import Testing

/// RFC 7162 §3.2 (QRESYNC), RFC 5182 (SEARCHRES), RFC 5032 (WITHIN) and RFC 5267 PARTIAL syntax, with the
/// error texts of Dovecot 2.3.19.
@Suite struct IMAPQResyncGrammarTests {
    func set(_ text: String) -> SequenceSet { SequenceSet(Array(text.utf8))! }

    /// §3.2.5 example: `SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))`.
    @Test func selectQResync() {
        #expect(
            command("A03 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))")
                == .select(
                    .inbox,
                    qresync: QResyncParameters(
                        uidValidity: 67_890_007, modSeq: 20_050_715_194_045_000, knownUIDs: set("41,43:211,214:541"))))
        // §3.2.5.2 example: seq-match-data after the known UIDs.
        #expect(
            command(
                "B04 SELECT INBOX (QRESYNC (67890007 90060115194045000 1:29997 (5000,7500,9000,9990:9999 15000,22500,27000,29970,29973,29976,29979,29982,29985,29988,29991,29994,29997)))"
            )
                == .select(
                    .inbox,
                    qresync: QResyncParameters(
                        uidValidity: 67_890_007, modSeq: 90_060_115_194_045_000, knownUIDs: set("1:29997"),
                        sequenceMatch: .init(
                            sequences: [5000, 7500, 9000] + Array(9990...9999),
                            uids: [
                                15000, 22500, 27000, 29970, 29973, 29976, 29979, 29982, 29985, 29988, 29991,
                                29994, 29997,
                            ]))))
        // Dovecot also takes seq-match-data without known-uids.
        #expect(
            command("a SELECT INBOX (QRESYNC (1 2 (1 1)))")
                == .select(
                    .inbox,
                    qresync: QResyncParameters(
                        uidValidity: 1, modSeq: 2, sequenceMatch: .init(sequences: [1], uids: [1]))))
        #expect(
            command("a EXAMINE INBOX (CONDSTORE QRESYNC (0 0))")
                == .examine(.inbox, condstore: true, qresync: QResyncParameters(uidValidity: 0, modSeq: 0)))
    }

    @Test func selectQResyncErrors() {
        let cases: [(String, String)] = [
            ("a SELECT INBOX (QRESYNC 1 2)", "QRESYNC parameters missing"),
            ("a SELECT INBOX (QRESYNC)", "QRESYNC parameters missing"),
            ("a SELECT INBOX (QRESYNC (1))", "Invalid QRESYNC parameters"),
            ("a SELECT INBOX (QRESYNC (UIDVALIDITY 2))", "Invalid QRESYNC parameters"),
            ("a SELECT INBOX (QRESYNC (1 2 1:3 (1:2 1:2) 5))", "Invalid QRESYNC parameters"),
            ("a SELECT INBOX (QRESYNC (1 2 1:3 (1:2)))", "Invalid QRESYNC known-uid-set"),
            ("a SELECT INBOX (QRESYNC (1 2 1:3 (1:2 1:2 3)))", "Too many parameters to QRESYNC known set"),
            ("a SELECT INBOX (QRESYNC (1 2 1:3 (1:2 1:3)))", "Invalid QRESYNC sets"),
            ("a SELECT INBOX (QRESYNC (1 2 x))", "Invalid QRESYNC known-uids"),
            ("a SELECT INBOX (QRESYNC (1 2 1:*))", "Invalid QRESYNC known-uids"),
            ("a SELECT INBOX (QRESYNC (1 2 1 (x 1)))", "Invalid QRESYNC known-sequence-set"),
            ("a EXAMINE INBOX (QRESYNC (1 2 1 ()))", "Invalid QRESYNC known-sequence-set"),
            ("a SELECT INBOX (QRESYNC (1 99999999999999999999))", "Invalid QRESYNC parameters"),
        ]
        for (line, text) in cases {
            #expect(parseError(line)?.reason == .syntax(text), "\(line)")
        }
    }

    /// §3.2.6 example: `UID FETCH 300:500 (FLAGS) (CHANGEDSINCE 12345 VANISHED)`; FETCH without UID knows no
    /// VANISHED. Whether QRESYNC is on and CHANGEDSINCE given, the session checks (Dovecot's order of errors).
    @Test func fetchVanished() {
        #expect(
            command("s100 UID FETCH 300:500 (FLAGS) (CHANGEDSINCE 12345 VANISHED)")
                == .fetch(set("300:500"), [.flags], uid: true, changedSince: 12345, vanished: true))
        #expect(
            command("a UID FETCH 1:* FLAGS (VANISHED)") == .fetch(set("1:*"), [.flags], uid: true, vanished: true))
        #expect(parseError("a FETCH 1:* FLAGS (CHANGEDSINCE 1 VANISHED)")?.reason == .syntax("Unknown FETCH modifier"))
    }

    /// RFC 5182 §2.1, §2.4: RETURN (SAVE), and `$` wherever a sequence set may stand.
    @Test func searchResults() {
        #expect(
            command("A282 SEARCH RETURN (SAVE) FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"")
                == .search(
                    SearchCommand(
                        returnOptions: [.save],
                        key: .and([.flagged, .since(IMAPDate(year: 1994, month: 2, day: 1)), .not(.from("Smith"))])),
                    uid: false))
        #expect(
            command("A283 FETCH $ (UID INTERNALDATE FLAGS RFC822.HEADER)")
                == .fetch(.lastSearchResult, [.uid, .internalDate, .flags, .rfc822Header], uid: false))
        #expect(
            command("A284 UID SEARCH OR $ 1,3000:3021")
                == .search(
                    SearchCommand(key: .or(.sequenceSet(.lastSearchResult), .sequenceSet(set("1,3000:3021")))),
                    uid: true))
        #expect(command("a UID SEARCH UID $") == .search(SearchCommand(key: .uid(.lastSearchResult)), uid: true))
        #expect(
            command("a STORE $ +FLAGS (\\Seen)")
                == .store(
                    .lastSearchResult, StoreFlags(operation: .add, silent: false, flags: [.seen]), uid: false))
        #expect(command("a UID COPY $ Trash") == .copy(.lastSearchResult, MailboxName("Trash"), uid: true))
    }

    /// RFC 5032 §3 example: `SEARCH UNSEEN YOUNGER 259200`.
    @Test func within() {
        #expect(
            command("a SEARCH UNSEEN YOUNGER 259200")
                == .search(SearchCommand(key: .and([.unseen, .younger(259_200)])), uid: false))
        #expect(command("a SEARCH older 1") == .search(SearchCommand(key: .older(1)), uid: false))
        for bad in ["0", "x", "-1", "4294967296"] {
            #expect(
                parseError("a SEARCH YOUNGER \(bad)")?.reason == .syntax("Invalid search interval parameter"), "\(bad)")
        }
        #expect(
            parseError("a SEARCH OLDER")?.reason
                == .syntax("Missing parameter for search key (for search key: OLDER)"))
    }

    /// RFC 5267 §4.4: `PARTIAL low:high`, either order; Dovecot 2.3 refuses 0, negative ranges and ALL.
    @Test func partial() {
        #expect(
            command("a SEARCH RETURN (PARTIAL 1:100) UNDELETED")
                == .search(SearchCommand(returnOptions: [], partial: 1...100, key: .undeleted), uid: false))
        #expect(
            command("a UID SEARCH RETURN (COUNT PARTIAL 4294967295:1) ALL")
                == .search(SearchCommand(returnOptions: [.count], partial: 1...4_294_967_295, key: .all), uid: true))
        for bad in ["0:3", "3", "-1:-3", "1:x"] {
            #expect(
                parseError("a SEARCH RETURN (PARTIAL \(bad)) ALL")?.reason == .syntax("PARTIAL range broken"), "\(bad)")
        }
        #expect(parseError("a SEARCH RETURN (PARTIAL 1:3 ALL) ALL")?.reason == .syntax("PARTIAL conflicts with ALL"))
    }

    /// RFC 5267 §4: RETURN (UPDATE) and (CONTEXT), and CANCELUPDATE with quoted tags only.
    @Test func contextSearch() {
        #expect(
            command("a SEARCH RETURN (UPDATE CONTEXT COUNT) UNSEEN")
                == .search(SearchCommand(returnOptions: [.update, .context, .count], key: .unseen), uid: false))
        #expect(command("a CANCELUPDATE \"b\" {1+}\r\nc") == .cancelUpdate(["b", "c"]))
        // Trailing spaces are Dovecot's parser's to skip.
        #expect(command("a CANCELUPDATE \"x\" ") == .cancelUpdate(["x"]))
        for bad in ["a CANCELUPDATE", "a CANCELUPDATE x", "a CANCELUPDATE \"x\" y"] {
            #expect(parseError(bad)?.reason == .syntax("Invalid parameters"), "\(bad)")
        }
    }
}
