import Testing
@testable import TernServer

/// `doveadm who` against Dovecot 2.3.19.1: the anvil dump it reads (captured from its anvil socket) and the
/// output it prints (captured from its doveadm, pids as they were).
@Suite struct DoveadmWhoTests {
    static let dump =
        "pop3/127.0.0.1/u2\t14418\t1\nimap/127.0.0.1/u1\t14414\t1\nimap/127.0.0.1/u2\t14420\t1\n"
        + "imap/127.0.0.1/u1\t14416\t1\n\n"

    static var lines: [DoveadmWho.Line] { dump.split(separator: "\n").compactMap { DoveadmWho.Line(String($0)) } }

    static func render(
        _ lines: [DoveadmWho.Line], oneLine: Bool, _ formatter: DoveadmPrinter.Formatter = .table,
        operands: [String] = []
    ) -> String {
        var bytes: [UInt8] = []
        DoveadmWho.print(
            lines, filter: try! DoveadmWho.Filter(operands), oneLine: oneLine,
            printer: DoveadmPrinter(formatter) { bytes += $0 })
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func parsesAnvilLines() {
        #expect(Self.lines.count == 4)
        #expect(Self.lines[0] == DoveadmWho.Line("pop3/127.0.0.1/u2\t14418\t1"))
        #expect(Self.lines[0].service == "pop3" && Self.lines[0].ip == "127.0.0.1" && Self.lines[0].user == "u2")
        let lmtp = DoveadmWho.Line("lmtp/carla@example.test\t7\t2")
        #expect(lmtp?.ip == nil && lmtp?.user == "carla@example.test" && lmtp?.count == 2)
        #expect(DoveadmWho.Line("garbage") == nil)
        #expect(DoveadmWho.Line("imap/1.2.3.4/a\u{1}tb\t1\t1")?.user == "a\tb")
    }

    /// Dovecot's table: one row per user and protocol, the columns as wide as the first row (the rest may
    /// overflow), the spare width half given to `(ips)`.
    @Test func tableAsDovecot() {
        let ordered = [Self.lines[1], Self.lines[3], Self.lines[0], Self.lines[2]]
        #expect(
            Self.render(ordered, oneLine: false)
                == "username # proto (pids)        (ips)                         \n"
                + "u1       2 imap  (14414 14416) (127.0.0.1)                   \n"
                + "u2       1 pop3  (14418)       (127.0.0.1)                   \n"
                + "u2       1 imap  (14420)       (127.0.0.1)                   \n")
        #expect(
            Self.render([Self.lines[2], Self.lines[1], Self.lines[3]], oneLine: false)
                == "username # proto (pids)  (ips)                            \n"
                + "u2       1 imap  (14420) (127.0.0.1)                      \n"
                + "u1       2 imap  (14414 14416) (127.0.0.1)                      \n")
        #expect(Self.render([], oneLine: false) == "username # proto (pids) (ips)                         \n")
        // `#` is right-justified (DOVEADM_PRINT_HEADER_FLAG_RIGHT_JUSTIFY).
        let many = [DoveadmWho.Line("imap/127.0.0.1/u1\t7\t12")!, DoveadmWho.Line("pop3/127.0.0.1/u2\t8\t3")!]
        #expect(
            Self.render(many, oneLine: false)
                == "username  # proto (pids) (ips)                            \n"
                + "u1       12 imap  (7)    (127.0.0.1)                      \n"
                + "u2        3 pop3  (8)    (127.0.0.1)                      \n")
    }

    /// `-1`: a line per session (a process with two sessions is listed twice, as Dovecot lists refcount
    /// lines).
    @Test func oneLinePerSession() {
        #expect(
            Self.render(Self.lines, oneLine: true)
                == "username                          proto pid   ip       \n"
                + "u2                                pop3  14418 127.0.0.1\n"
                + "u1                                imap  14414 127.0.0.1\n"
                + "u2                                imap  14420 127.0.0.1\n"
                + "u1                                imap  14416 127.0.0.1\n")
        #expect(
            Self.render(Array(Self.lines.prefix(1)), oneLine: true, .tab) == "username\tproto\tpid\tip\nu2\tpop3\t14418\t127.0.0.1\n")
        #expect(
            Self.render([DoveadmWho.Line("imap/10.0.0.1/u3\t9\t2")!], oneLine: true, .tab)
                == "username\tproto\tpid\tip\nu3\timap\t9\t10.0.0.1\nu3\timap\t9\t10.0.0.1\n")
        #expect(
            Self.render(Array(Self.lines.prefix(2)), oneLine: false, .flow)
                == "username=u2 #=1 proto=pop3 (pids)=(14418) (ips)=(127.0.0.1)\n"
                + "username=u1 #=1 proto=imap (pids)=(14414) (ips)=(127.0.0.1)\n")
    }

    @Test func filtersByUserMaskAndRange() throws {
        #expect(try Self.lines.filter(DoveadmWho.Filter(["u1"]).matches).count == 2)
        #expect(try Self.lines.filter(DoveadmWho.Filter(["u?", "127.0.0.0/8"]).matches).count == 4)
        #expect(try Self.lines.filter(DoveadmWho.Filter(["127.0.0.1", "u2"]).matches).count == 2)
        #expect(try Self.lines.filter(DoveadmWho.Filter(["10.0.0.0/8"]).matches).isEmpty)
        #expect(try Self.lines.filter(DoveadmWho.Filter(["::1/128"]).matches).isEmpty)
        // Not a range: a user mask, as Dovecot reads `1.2.3.4/40`.
        #expect(try DoveadmWho.Filter(["1.2.3.4/40"]).userMask == "1.2.3.4/40")
        #expect(throws: DoveadmWho.Filter.ParseError.multipleUserMasks) { try DoveadmWho.Filter(["a", "b"]) }
        #expect(throws: DoveadmWho.Filter.ParseError.multipleNetworkMasks) {
            try DoveadmWho.Filter(["10.0.0.0/8", "::1"])
        }
        #expect(try Self.lines.filter(DoveadmWho.Filter(["U*"]).matches).count == 4, "masks ignore case")
        // The table filters users: one of a user's addresses in the range shows the whole row.
        let mixed = [DoveadmWho.Line("imap/10.0.0.1/u3\t9\t1")!, DoveadmWho.Line("imap/192.0.2.1/u3\t9\t1")!]
        #expect(Self.render(mixed, oneLine: false, .tab, operands: ["10.0.0.0/8"]).hasSuffix("\t(10.0.0.1 192.0.2.1)\n"))
        #expect(Self.render(mixed, oneLine: true, .tab, operands: ["10.0.0.0/8"]).split(separator: "\n").count == 2)
    }

    /// anvil's CONNECT-DUMP from the worker pool's sessions: one line per ident and pid with its session
    /// count, in the order they come; the handshake first.
    @Test func connectDump() {
        let sessions: [(ident: String, pid: Int32)] = [
            ("imap/127.0.0.1/u1", 10), ("pop3/127.0.0.1/u2", 11), ("imap/127.0.0.1/u1", 10), ("imap/10.0.0.1/u3", 12),
        ]
        let dump = "imap/127.0.0.1/u1\t10\t2\npop3/127.0.0.1/u2\t11\t1\nimap/10.0.0.1/u3\t12\t1\n\n"
        #expect(AnvilServer.connectDump(sessions) == dump)
        #expect(AnvilServer.connectDump([]) == "\n")
        #expect(AnvilServer.ident(service: "lmtp", remoteIP: "", user: "x") == "lmtp/x")
        var greeted = false
        #expect(AnvilServer.answer("CONNECT-DUMP", greeted: &greeted) { sessions } == nil)
        #expect(AnvilServer.answer("VERSION\tanvil\t1\t0", greeted: &greeted) { sessions } == "")
        #expect(AnvilServer.answer("CONNECT-DUMP", greeted: &greeted) { sessions } == dump)
        #expect(AnvilServer.answer("PENALTY-DUMP", greeted: &greeted) { sessions } == nil)
        // What doveadm who reads back.
        #expect(dump.split(separator: "\n").compactMap { DoveadmWho.Line(String($0)) }.map(\.count) == [2, 1, 1])
    }
}
