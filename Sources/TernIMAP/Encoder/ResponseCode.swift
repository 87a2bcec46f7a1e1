/// Response codes in `[...]` (RFC 3501 §7.1; RFC 5530 for the newer ones; APPENDUID/COPYUID from RFC 4315; BADURL
/// from RFC 4469; UNKNOWN-CTE from RFC 3516).
public enum ResponseCode: Sendable, Hashable {
    case alert
    case parse
    case readOnly
    case readWrite
    case tryCreate
    /// RFC 7162 §3.2.11: sent when SELECT replaces a selected mailbox.
    case closed
    case nonexistent
    case alreadyExists
    case authenticationFailed
    case authorizationFailed
    case unavailable
    case serverBug
    case cannot
    case limit
    case overQuota
    case inUse
    case noPerm
    case expired
    case privacyRequired
    case contactAdmin
    case tooBig
    /// RFC 5530 (part of RFC 9051's base, §7.1): another session expunged messages the command named.
    case expungeIssued
    /// RFC 4469 §6: a CATENATE URL that could not be used, echoed as sent.
    case badURL(String)
    /// RFC 3516 §4.3: BINARY of a part whose Content-Transfer-Encoding is not known.
    case unknownCTE
    /// RFC 5530 §3: the client did something pointless (Dovecot: STATUS on the selected mailbox).
    case clientBug
    /// Dovecot sends `[BADCHARSET]` without a list.
    case badCharset([String])
    case capability([String])
    case permanentFlags([Flag])
    case uidValidity(UInt32)
    case uidNext(UInt32)
    case unseen(UInt32)
    case highestModSeq(UInt64)
    case appendUID(uidValidity: UInt32, uids: SequenceSet)
    case copyUID(uidValidity: UInt32, source: SequenceSet, destination: SequenceSet)
    /// RFC 7162 §3.1.3: the messages STORE (UNCHANGEDSINCE) left alone.
    case modified(SequenceSet)
    /// RFC 8474 §4 `MAILBOXID (id)`.
    case mailboxID(String)
    /// Any other code, written as given.
    case other(String)

    public var text: String {
        switch self {
        case .alert: return "ALERT"
        case .parse: return "PARSE"
        case .readOnly: return "READ-ONLY"
        case .readWrite: return "READ-WRITE"
        case .tryCreate: return "TRYCREATE"
        case .closed: return "CLOSED"
        case .nonexistent: return "NONEXISTENT"
        case .alreadyExists: return "ALREADYEXISTS"
        case .authenticationFailed: return "AUTHENTICATIONFAILED"
        case .authorizationFailed: return "AUTHORIZATIONFAILED"
        case .unavailable: return "UNAVAILABLE"
        case .serverBug: return "SERVERBUG"
        case .expungeIssued: return "EXPUNGEISSUED"
        case .cannot: return "CANNOT"
        case .limit: return "LIMIT"
        case .overQuota: return "OVERQUOTA"
        case .inUse: return "INUSE"
        case .noPerm: return "NOPERM"
        case .expired: return "EXPIRED"
        case .privacyRequired: return "PRIVACYREQUIRED"
        case .clientBug: return "CLIENTBUG"
        case .contactAdmin: return "CONTACTADMIN"
        case .tooBig: return "TOOBIG"
        case .badURL(let url): return "BADURL " + url
        case .unknownCTE: return "UNKNOWN-CTE"
        case .badCharset(let names):
            return names.isEmpty ? "BADCHARSET" : "BADCHARSET (\(names.joined(separator: " ")))"
        case .capability(let names): return (["CAPABILITY"] + names).joined(separator: " ")
        case .permanentFlags(let flags):
            return "PERMANENTFLAGS (\(flags.map(\.text).joined(separator: " ")))"
        case .uidValidity(let n): return "UIDVALIDITY \(n)"
        case .uidNext(let n): return "UIDNEXT \(n)"
        case .unseen(let n): return "UNSEEN \(n)"
        case .highestModSeq(let n): return "HIGHESTMODSEQ \(n)"
        case .appendUID(let validity, let uids): return "APPENDUID \(validity) \(uids)"
        case .copyUID(let validity, let source, let destination):
            return "COPYUID \(validity) \(source) \(destination)"
        case .modified(let set): return "MODIFIED \(set)"
        case .mailboxID(let id): return "MAILBOXID (\(id))"
        case .other(let text): return text
        }
    }
}
