import Foundation

/// What the login side hands the mail session worker once a user has logged in (`tern libexec
/// mail-session REQUEST-JSON`, with the client's socket as stdin/stdout). No credentials: the login is done.
public struct MailSessionRequest: Codable, Sendable, Equatable {
    public var protocolName: String
    /// The user name the auth service returned.
    public var user: String
    /// The tag of IMAP's LOGIN/AUTHENTICATE, answered by the session (`a1 OK [CAPABILITY ...] Logged in`).
    public var tag: String?
    public var sessionID: String
    public var remoteIP: String
    public var localIP: String
    /// dovecot.conf, read again by the worker for the mail settings.
    public var configPath: String
    /// From the userdb lookup (filled in by whoever starts the worker).
    public var home = ""
    public var uid: UInt32 = 0
    public var gid: UInt32 = 0
    public var mailLocation: String?
    /// The userdb's `acl_groups` (comma-separated there), for the acl plugin's `group=` entries.
    public var aclGroups: [String]?
    /// The userdb's quota plugin settings (`quota_rule=*:storage=1G`), over dovecot.conf's for this user.
    public var quotaSettings: [String: String]?
    /// The users acl_shared_dict says this user may see mailboxes of, with their homes (shared namespace).
    public var sharedHomes: [String: String]?
    /// LMTP: header lines (CRLF-terminated) the delivery puts before the message (Return-Path, Delivered-To,
    /// Received).
    public var deliveryHeaders: String?
    /// What the client sent after its login command (base64), for the session (it has the client's socket now).
    public var pipelined: String?
    /// mail_max_userip_connections of the protocol when the login happened (0: no limit); the master counts
    /// every user's sessions per client address and refuses the one over the limit.
    public var maxUserIPConnections = 0

    public init(
        protocolName: String, user: String, tag: String?, sessionID: String, remoteIP: String, localIP: String,
        configPath: String
    ) {
        self.protocolName = protocolName
        self.user = user
        self.tag = tag
        self.sessionID = sessionID
        self.remoteIP = remoteIP
        self.localIP = localIP
        self.configPath = configPath
    }

    /// `imap(carla)<4711><Session>`: Dovecot's mail_log_prefix.
    var logPrefix: String { "\(protocolName)(\(user))<\(getpid())><\(sessionID)>" }

    public func encoded() -> String {
        (try? String(decoding: JSONEncoder().encode(self), as: UTF8.self)) ?? "{}"
    }

    public static func decode(_ text: String) -> MailSessionRequest? {
        try? JSONDecoder().decode(MailSessionRequest.self, from: Data(text.utf8))
    }
}
