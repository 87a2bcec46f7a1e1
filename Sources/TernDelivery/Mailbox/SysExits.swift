/// The sendmail `<sysexits.h>` exit codes of delivery commands and what Postfix makes of them
/// (`sys_exits.c`): an enhanced status code and a short text. EX_TEMPFAIL (75) and EX_OSERR (71) defer;
/// the others bounce. Codes outside 64...78 get `5.3.0` and `unknown mail system error N`.
enum SysExits {
    struct Detail: Equatable {
        let dsn: String
        let text: String
    }

    private static let table: [Int32: Detail] = [
        64: Detail(dsn: "5.3.0", text: "command line usage error"),  // EX_USAGE
        65: Detail(dsn: "5.6.0", text: "data format error"),  // EX_DATAERR
        66: Detail(dsn: "5.3.0", text: "cannot open input"),  // EX_NOINPUT
        67: Detail(dsn: "5.1.1", text: "user unknown"),  // EX_NOUSER
        68: Detail(dsn: "5.1.2", text: "host name unknown"),  // EX_NOHOST
        69: Detail(dsn: "5.3.0", text: "service unavailable"),  // EX_UNAVAILABLE
        70: Detail(dsn: "5.3.0", text: "internal software error"),  // EX_SOFTWARE
        71: Detail(dsn: "4.3.0", text: "system resource problem"),  // EX_OSERR
        72: Detail(dsn: "5.3.0", text: "critical OS file missing"),  // EX_OSFILE
        73: Detail(dsn: "5.2.0", text: "can't create user output file"),  // EX_CANTCREAT
        74: Detail(dsn: "5.3.0", text: "input/output error"),  // EX_IOERR
        75: Detail(dsn: "4.3.0", text: "temporary failure"),  // EX_TEMPFAIL
        76: Detail(dsn: "5.5.0", text: "remote error in protocol"),  // EX_PROTOCOL
        77: Detail(dsn: "5.7.0", text: "permission denied"),  // EX_NOPERM
        78: Detail(dsn: "5.3.5", text: "local configuration error"),  // EX_CONFIG
    ]

    static let temporaryFailure: Int32 = 75

    /// True for the codes in the sysexits range (EX__BASE 64 ... EX__MAX 78).
    static func isSysExitsCode(_ code: Int32) -> Bool { table[code] != nil }

    /// Postfix `sys_exits_detail()`.
    static func detail(_ code: Int32) -> Detail {
        table[code] ?? Detail(dsn: "5.3.0", text: "unknown mail system error \(code)")
    }
}
