import CTernPAM
import Foundation

/// The `pam` passdb: `args = [session=yes] [setcred=yes] [failure_show_msg=yes] [max_requests=N] [SERVICE]`
/// (service default `dovecot`, `%s` for the protocol). Each check runs on its own thread: PAM modules block,
/// pam_unix sleeps its own failure delay. Only pam_authenticate and pam_acct_mgmt run; session and setcred
/// are accepted and ignored.
public struct PAMPassDB: PassDB {
    public let driver = "pam"
    public let service: String

    public init(args: String) {
        var service = "dovecot"
        for word in args.split(separator: " ") where !word.contains("=") {
            service = word == "*" ? "%s" : String(word)
        }
        self.service = service
    }

    public func lookupCredentials(_ request: AuthRequest) async -> CredentialsLookup {
        .internalFailure("pam: passdb doesn't support credential lookups")
    }

    public func verifyPlain(_ request: AuthRequest, password: [UInt8]) async -> PassdbResult {
        let serviceName = request.variables().expand(service)
        let user = request.user
        let remoteIP = request.remoteIP ?? ""
        guard !password.contains(0), !user.contains("\0") else { return .passwordMismatch }
        let (status, message) = await withCheckedContinuation {
            (continuation: CheckedContinuation<(Int32, String), Never>) in
            let thread = Thread {
                var buffer = [CChar](repeating: 0, count: 512)
                let status = (password + [0]).withUnsafeBufferPointer { secret in
                    secret.withMemoryRebound(to: CChar.self) { secret in
                        tern_pam_authenticate(serviceName, user, secret.baseAddress, remoteIP, 1, &buffer, buffer.count)
                    }
                }
                let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                continuation.resume(returning: (status, text))
            }
            thread.start()
        }
        switch UInt32(status) {
        case TERN_PAM_OK.rawValue: return .ok(user: user, fields: [])
        case TERN_PAM_USER_UNKNOWN.rawValue: return .userUnknown
        case TERN_PAM_FAILED.rawValue, TERN_PAM_EXPIRED.rawValue:
            return message.isEmpty ? .passwordMismatch : .rejected(message)
        default: return .internalFailure(message)
        }
    }
}
