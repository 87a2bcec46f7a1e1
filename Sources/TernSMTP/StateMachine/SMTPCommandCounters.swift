/// Per-session command statistics for Postfix's disconnect line:
/// `disconnect from host[addr] ehlo=1 mail=1 rcpt=1/2 data=1 quit=1 commands=5/6`
/// (a command shows `n` when all n succeeded, else `ok/total`; unknown commands come last).
public struct SMTPCommandCounters: Sendable, Hashable {
    private var success: [SMTPVerb: Int] = [:]
    private var total: [SMTPVerb: Int] = [:]
    public private(set) var unknownTotal = 0
    public private(set) var unknownSuccess = 0

    public init() {}

    public mutating func record(_ verb: SMTPVerb?, succeeded: Bool) {
        guard let verb else {
            unknownTotal += 1
            if succeeded { unknownSuccess += 1 }
            return
        }
        total[verb, default: 0] += 1
        if succeeded { success[verb, default: 0] += 1 }
    }

    /// A command recorded as a success failed after all (STARTTLS refused once the handshake was done).
    public mutating func revokeSuccess(_ verb: SMTPVerb) {
        if let ok = success[verb], ok > 0 { success[verb] = ok - 1 }
    }

    public func count(_ verb: SMTPVerb) -> (succeeded: Int, total: Int) {
        (success[verb] ?? 0, total[verb] ?? 0)
    }

    /// `ehlo=1 mail=1 rcpt=1/2 data=1 quit=1 commands=5/6`, or `commands=0/0` for a silent client.
    public var logText: String {
        var parts: [String] = []
        var allSuccess = 0
        var allTotal = 0
        func add(_ name: String, _ ok: Int, _ all: Int) {
            guard all > 0 else { return }
            parts.append(ok == all ? "\(name)=\(all)" : "\(name)=\(ok)/\(all)")
            allSuccess += ok
            allTotal += all
        }
        for verb in SMTPVerb.allCases { add(verb.rawValue, success[verb] ?? 0, total[verb] ?? 0) }
        add("unknown", unknownSuccess, unknownTotal)
        parts.append(
            allSuccess == allTotal && allTotal > 0 ? "commands=\(allTotal)" : "commands=\(allSuccess)/\(allTotal)")
        return parts.joined(separator: " ")
    }
}
