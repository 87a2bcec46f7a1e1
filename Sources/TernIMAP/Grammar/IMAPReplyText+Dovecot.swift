/// The texts Dovecot 2.3 (imap-login and imap) sends, verbatim, captured from a running Dovecot 2.3.19.1
/// (Tests/TernIMAPTests/DovecotTranscriptTests.swift holds the transcripts they come from).
public enum IMAPReplyText {
    // MARK: greeting and capabilities

    /// `* OK [CAPABILITY ...] <login_greeting>`; Dovecot's default login_greeting is `Dovecot ready.`.
    public static let defaultGreeting = "Dovecot ready."
    /// Before login: IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ then AUTH=... (and STARTTLS or
    /// LOGINDISABLED when they apply, after IDLE). Kept as Dovecot's: IMAP4rev2 is listed after login.
    public static let preLoginCapabilities = [
        "IMAP4rev1", "SASL-IR", "LOGIN-REFERRALS", "ID", "ENABLE", "IDLE", "LITERAL+",
    ]
    /// After login, the part of Dovecot's list Tern implements, in Dovecot's order, with IMAP4rev2 (RFC 9051)
    /// and UTF8=ACCEPT (RFC 6855), which Dovecot 2.3 lacks, and at the end OBJECTID, REPLACE and UIDONLY.
    public static let postLoginCapabilities = [
        "IMAP4rev1", "IMAP4rev2", "SASL-IR", "LOGIN-REFERRALS", "ID", "ENABLE", "IDLE",
        "SORT", "SORT=DISPLAY", "THREAD=REFERENCES", "THREAD=REFS", "THREAD=ORDEREDSUBJECT",
        "MULTIAPPEND", "URL-PARTIAL", "CATENATE",
        "UNSELECT", "CHILDREN", "NAMESPACE",
        "UIDPLUS", "LIST-EXTENDED", "I18NLEVEL=1", "CONDSTORE", "QRESYNC", "ESEARCH", "ESORT", "SEARCHRES",
        "WITHIN", "CONTEXT=SEARCH", "LIST-STATUS", "BINARY", "MOVE",
        "SNIPPET=FUZZY", "PREVIEW=FUZZY", "PREVIEW", "STATUS=SIZE", "SAVEDATE", "LITERAL+", "UTF8=ACCEPT", "NOTIFY",
        "SPECIAL-USE",
        // Not in Dovecot 2.3: at the end.
        "OBJECTID", "REPLACE", "UIDONLY",
    ]
    /// What Tern lists after login beyond Dovecot 2.3.19.
    public static let beyondDovecotCapabilities = ["IMAP4rev2", "UTF8=ACCEPT", "OBJECTID", "REPLACE", "UIDONLY"]
    /// imap_literal_minus = yes: Dovecot lists LITERAL- (RFC 7888) where LITERAL+ stands, before and after login.
    public static func withLiteralMinus(_ names: [String]) -> [String] {
        names.map { $0 == "LITERAL+" ? "LITERAL-" : $0 }
    }
    /// Everything Dovecot 2.3.19 lists after login with its default plugins (for reference and tests).
    public static let dovecotPostLoginCapabilities =
        "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY THREAD=REFERENCES THREAD=REFS "
        + "THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED "
        + "I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE "
        + "SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE LITERAL+ NOTIFY SPECIAL-USE"

    // MARK: pre-login (imap-login)

    public static let preLoginCapabilityCompleted =
        "Pre-login capabilities listed, post-login capabilities have more."
    public static let loggedIn = "Logged in"
    public static let authenticationFailed = "Authentication failed."
    public static let unsupportedMechanism = "Unsupported authentication mechanism."
    public static let authenticationAborted = "Authentication aborted by client."
    public static let invalidBase64Response = "Invalid base64 data in continued response"
    public static let tlsNotEnabled = "TLS support isn't enabled."
    public static let enableIgnoredPreLogin = "ENABLE ignored in non-authenticated state."
    /// Any command refused by imap-login's parser, tagged or (no usable tag) untagged.
    public static let preLoginCommandError = "Error in IMAP command received by server."
    public static let tooManyInvalidCommands = "Too many invalid IMAP commands."
    public static let inputBufferFull = "Input buffer full, aborting"
    public static let crWithoutLF = "CR sent without LF"

    // MARK: continuations

    /// After a synchronizing literal.
    public static let literalContinuation = "OK"
    public static let idling = "idling"
    /// AUTHENTICATE's challenges are base64 text after `+ `; PLAIN's first one is empty (`+ `).

    // MARK: tagged completions (post-login; Dovecot appends ` (0.001 + 0.000 secs).` timing, see IMAPTiming)

    public static let capabilityCompleted = "Capability completed"
    /// COMPRESS (Dovecot's imap_zlib plugin).
    public static let compressDeflate = "COMPRESS=DEFLATE"
    public static let beginCompression = "Begin compression"
    public static let unknownCompression = "Unknown compression mechanism"
    public static let compressionActive = "COMPRESSION=DEFLATE already enabled"
    /// METADATA (imap_metadata = yes).
    public static let metadata = "METADATA"
    static let unknownMetadataOption = "Unknown option"
    static let invalidMetadataDepth = "Invalid value for DEPTH"
    static let getMetadataCompleted = "Getmetadata completed"
    static let setMetadataCompleted = "Setmetadata completed"
    /// ACL (RFC 4314, Dovecot's imap_acl plugin): the capabilities it adds, then its replies.
    public static let aclCapabilities = ["ACL", "RIGHTS=texk"]
    static let setACLCompleted = "Setacl complete"
    static let deleteACLCompleted = "Deleteacl complete"
    static let getACLCompleted = "Getacl completed"
    static let listRightsCompleted = "Listrights completed"
    static let myRightsCompleted = "Myrights completed"
    static let notAdministrator = "You lack administrator privileges on this mailbox"
    static let permissionDenied = "Permission denied"
    static let closedWithoutExpunging = "Closed without expunging: Permission denied"
    /// What LISTRIGHTS lists for any identifier: no rights always granted, then each right on its own.
    static let listRightsText = "\"\" l r w s t p i e k x a c d"
    static func aclIdentifierDisallowed(_ identifier: String) -> String { "'\(identifier)' identifier is disallowed" }
    static func globalACLCannotChange(_ identifier: String) -> String { "Global ACLs can't be modified: \(identifier)" }
    static func invalidACLRight(_ letter: Character) -> String { "Invalid ACL right: \(letter)" }
    /// QUOTA (mail_plugins quota with imap_quota).
    public static let quota = "QUOTA"
    static let noQuota = "No quota."
    static let getQuotaRootCompleted = "Getquotaroot completed"
    static let getQuotaCompleted = "Getquota completed"
    static let noSuchQuotaRoot = "Quota root doesn't exist."
    static let quotaChangeByAdminOnly = "Quota can be changed only by admin."
    public static let noopCompleted = "NOOP completed"
    public static let logoutCompleted = "Logout completed"
    public static let loggingOut = "Logging out"
    public static let selectCompleted = "Select completed"
    public static let examineCompleted = "Examine completed"
    public static let createCompleted = "Create completed"
    public static let deleteCompleted = "Delete completed"
    public static let renameCompleted = "Rename completed"
    public static let subscribeCompleted = "Subscribe completed"
    public static let unsubscribeCompleted = "Unsubscribe completed"
    public static let listCompleted = "List completed"
    public static let lsubCompleted = "Lsub completed"
    public static let statusCompleted = "Status completed"
    /// RFC 3501 §6.3.10 says STATUS should not be used on the selected mailbox; Dovecot answers it anyway.
    public static let statusSelectedCompleted = "Status on selected mailbox completed"
    public static let appendCompleted = "Append completed"
    /// REPLACE (RFC 8508 §3.2's example texts; Dovecot 2.3 has no REPLACE).
    static let replacementReady = "Replacement Message ready"
    static let replaceCompleted = "Replace completed"
    static let mailboxReadOnly = "Mailbox is read-only."
    /// UIDONLY (RFC 9586; Dovecot 2.3 has none): `BAD [UIDREQUIRED]`.
    static let uidRequired = "Message sequence numbers are not allowed once UIDONLY is enabled"
    public static let checkCompleted = "Check completed"
    public static let closeCompleted = "Close completed"
    public static let unselectCompleted = "Unselect completed"
    public static let expungeCompleted = "Expunge completed"
    public static let searchCompleted = "Search completed"
    public static let fetchCompleted = "Fetch completed"
    public static let storeCompleted = "Store completed"
    public static let copyCompleted = "Copy completed"
    public static let moveCompleted = "Move completed"
    public static let namespaceCompleted = "Namespace completed"
    public static let idCompleted = "ID completed"
    public static let enabled = "Enabled"
    public static let idleCompleted = "Idle completed"
    public static let expectedDone = "Expected DONE"

    // MARK: untagged OK texts of SELECT/EXAMINE

    public static let flagsPermitted = "Flags permitted."
    public static let readOnlyMailbox = "Read-only mailbox."
    public static let firstUnseen = "First unseen."
    public static let uidsValid = "UIDs valid"
    public static let predictedNextUID = "Predicted next UID"
    public static let highest = "Highest"
    public static let previousMailboxClosed = "Previous mailbox closed."
    public static let movedUIDs = "Moved UIDs."

    // MARK: CONDSTORE (RFC 7162)

    /// STORE (UNCHANGEDSINCE) when some message changed since: `OK [MODIFIED set] Conditional store failed`.
    public static let conditionalStoreFailed = "Conditional store failed"
    public static let condstoreReadOnly = "CONDSTORE failed: Mailbox is read-only"
    /// Dovecot's wording also for SELECT parameters it does not know.
    public static let unknownFetchModifier = "Unknown FETCH modifier"
    public static let unknownStoreModifier = "Unknown STORE modifier"
    public static let invalidChangedSince = "Invalid CHANGEDSINCE modseq"
    public static let invalidModSeq = "Invalid modseq"
    public static let invalidModSeqType = "Invalid MODSEQ type"
    public static let invalidModSeqValue = "Invalid MODSEQ value"
    public static let qresyncNotEnabled = "QRESYNC not enabled"
    public static let qresyncParametersMissing = "QRESYNC parameters missing"
    public static let invalidQResyncParameters = "Invalid QRESYNC parameters"
    public static let invalidQResyncKnownUIDs = "Invalid QRESYNC known-uids"
    public static let invalidQResyncKnownSequences = "Invalid QRESYNC known-sequence-set"
    public static let invalidQResyncKnownUIDSet = "Invalid QRESYNC known-uid-set"
    public static let tooManyQResyncKnownSet = "Too many parameters to QRESYNC known set"
    public static let invalidQResyncSets = "Invalid QRESYNC sets"
    public static let vanishedWithoutChangedSince = "VANISHED used without CHANGEDSINCE"

    // MARK: NOTIFY (RFC 5465)

    public static let notifyCompleted = "NOTIFY completed."
    static let duplicateSelectedFilter = "Duplicate selected filter"
    static let newAndExpungeTogether = "MessageNew and MessageExpunge must be together"
    static let flagChangeRequiresNewAndExpunge = "FlagChange requires MessageNew and MessageExpunge"
    static func invalidFetchAttList(_ detail: String) -> String { "Invalid fetch-att list: \(detail)" }
    static let unsupportedNotifyEvents = "Unsupported NOTIFY events."
    static let tooManyMailboxNames = "Too many mailbox names"
    /// `* OK Still here`: IDLE's keepalive every imap_idle_notify_interval.
    public static let stillHere = "Still here"

    // MARK: SORT and THREAD (RFC 5256, RFC 5267)

    public static let sortCompleted = "Sort completed"
    public static let threadCompleted = "Thread completed"
    public static let invalidSortArgument = "Invalid sort argument"
    public static let emptySortProgram = "Empty sort program"
    public static let sortListEndsWithReverse = "Sort list ends with REVERSE"
    public static let invalidSortListArgument = "Invalid sort list argument"
    public static let invalidCharsetArgument = "Invalid charset argument"
    public static let unknownThreadAlgorithm = "Unknown thread algorithm"
    /// SEARCH's and SORT's answer to an unknown RETURN option.
    public static let unknownSearchReturnOptionName = "Unknown SEARCH return option"
    public static func unknownSortArgument(_ name: String) -> String { "Unknown sort argument: \(name)" }

    // MARK: NO texts

    public static func mailboxDoesNotExist(_ name: String) -> String {
        "Mailbox doesn't exist: \(name)"
    }
    public static let mailboxAlreadyExists = "Mailbox already exists"
    public static let noMailboxSelected = "No mailbox selected"
    public static let zeroByteMessage = "Can't save a zero byte message"
    public static let unknownCharset = "Unknown charset"
    public static let literalTooLarge = "Literal size too large"
    /// Tern's own (Dovecot 2.3 has no UTF8=ACCEPT): SEARCH CHARSET after ENABLE UTF8=ACCEPT (RFC 6855 §3).
    public static let charsetAfterUTF8Accept = "CHARSET not allowed after ENABLE UTF8=ACCEPT"
    public static let nonSynchronizingLiteralTooLarge = "Non-synchronizing literal size too large"

    // MARK: BAD details: `TAG BAD Error in IMAP command NAME: <detail>`

    public static let invalidTag = "Error in IMAP tag: Invalid tag"
    public static let invalidCommandName = "Error in IMAP command: Invalid command name"
    public static let unknownCommand = "Unknown command"
    public static let tooLongArgument = "Too long argument"
    public static let invalidArguments = "Invalid arguments"
    public static let missingArguments = "Missing arguments"
    public static let missingQuote = "Missing '\"'"
    public static let missingParen = "Missing ')'"
    public static let invalidMessageset = "Invalid messageset"
    public static let invalidBodySection = "Invalid BODY[..] section"
    public static let invalidBinarySection = "Invalid BINARY[..] section"
    /// PREVIEW with an empty modifier list.
    public static let fetchListNonAtoms = "FETCH list contains non-atoms"
    public static let missingSearchParameters = "Missing search parameters"
    public static let missingArgument = "Missing argument"
    public static let invalidSearchDate = "Invalid search date parameter"
    public static let invalidSearchSize = "Invalid search size parameter"
    /// RFC 5032 OLDER / YOUNGER with something other than a positive 32-bit number.
    public static let invalidSearchInterval = "Invalid search interval parameter"
    public static func missingSearchKeyParameter(_ key: String) -> String {
        "Missing parameter for search key (for search key: \(key))"
    }
    public static let partialRangeBroken = "PARTIAL range broken"
    public static let partialConflictsWithAll = "PARTIAL conflicts with ALL"
    /// RFC 5267 CONTEXT=SEARCH.
    public static let duplicateSearchUpdateTag = "Duplicate search update tag"
    public static let invalidParameters = "Invalid parameters"
    public static let updatesCancelled = "Updates cancelled"
    public static let unknownTag = "Unknown tag"
    public static let missingMessageSize = "Missing message size"
    public static let emptyCatenateList = "Empty CATENATE list"
    /// RFC 4469 §5: CATENATE made a message larger than the server takes.
    public static let composedMessageTooBig = "Composed message grows too big."
    public static let messageNotFound = "Message not found"
    public static let invalidUIDValidity = "Invalid UIDVALIDITY"
    public static let unknownCTE = "Unknown Content-Transfer-Encoding"
    public static let invalidInternalDate = "Invalid internal date"
    public static let invalidReference = "Invalid reference"
    public static let invalidPattern = "Invalid pattern"
    public static let unknownSelectOptions = "Unknown select options"
    public static let unknownReturnOptions = "Unknown return options"
    public static func unknownParameter(_ name: String) -> String { "Unknown parameter: \(name)" }
    static func unsupportedPreviewModifier(_ name: String) -> String { "'\(name)' is not a supported PREVIEW modifier" }
    public static func unknownSearchArgument(_ name: String) -> String { "Unknown argument \(name)" }
    public static func invalidSystemFlag(_ upperCased: String) -> String {
        "Invalid system flag \(upperCased)"
    }
    public static func invalidStatusItem(_ name: String) -> String { "Invalid status item \(name)" }
    public static let emptyStatusList = "Empty status list"

    /// `Error in IMAP command NAME: detail`.
    public static func commandError(_ command: String, _ detail: String) -> String {
        "Error in IMAP command \(command): \(detail)"
    }
}

/// Dovecot ends post-login tagged replies with the time spent: `(0.001 + 0.000 secs).`, or with three numbers
/// `(0.013 + 0.000 + 0.012 secs).` when the command waited for a lock or I/O. The text is for humans; clients
/// do not parse it, but scripts that compare transcripts do.
public struct IMAPTiming: Sendable, Hashable {
    public var running: Double
    public var locking: Double
    public var waitingIO: Double?

    public init(running: Double, locking: Double = 0, waitingIO: Double? = nil) {
        self.running = running
        self.locking = locking
        self.waitingIO = waitingIO
    }

    public static let fast = IMAPTiming(running: 0.001)

    /// ` (0.001 + 0.000 secs).`, appended to the reply text.
    public var suffix: String {
        var parts = [running, locking].map(Self.format)
        if let io = waitingIO { parts.append(Self.format(io)) }
        return " (\(parts.joined(separator: " + ")) secs)."
    }

    static func format(_ seconds: Double) -> String {
        let millis = Int((max(seconds, 0) * 1000).rounded())
        let fraction = String(millis % 1000)
        return "\(millis / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}
