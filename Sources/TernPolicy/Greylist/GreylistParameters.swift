/// postgrey's settings (postgrey(8) OPTIONS), with postgrey 1.37's defaults.
public struct GreylistParameters: Sendable, Equatable {
    /// --delay: seconds a new triplet waits (300).
    public var delay: Int64 = 300
    /// --max-age: entries not seen for this many seconds are removed (35 days).
    public var maxAge: Int64 = 35 * 86400
    /// --retry-window: a first retry later than this counts as new (2 days).
    public var retryWindow: Int64 = 2 * 86400
    /// --auto-whitelist-clients: successful retries after which a client passes (5; 0 = off).
    public var autoWhitelistClients = 5
    /// --lookup-by-host (false: --lookup-by-subnet, the default).
    public var lookupByHost = false
    /// --ipv4cidr / --ipv6cidr: the client network of a triplet.
    public var ipv4Prefix = 24
    public var ipv6Prefix = 64
    /// --greylist-action and --greylist-text (`%s`: seconds left, `%r`: recipient domain).
    public var greylistAction = "DEFER_IF_PERMIT"
    public var greylistText = "Greylisted, see http://postgrey.schweikert.ch/help/%r.html"
    /// --x-greylist-header (`%t` delay, `%v` version, `%d` date, `%h` host name).
    public var headerTemplate = "X-Greylist: delayed %t seconds by postgrey-%v at %h; %d"
    /// --hostname (gethostname(2) by default).
    public var hostname = ""

    /// The version postgrey's header names (`postgrey-1.37`): Tern answers as that postgrey does.
    public static let version = "1.37"
    /// A client's auto-whitelist entry is counted (and refreshed) at most once an hour.
    public static let clientRecordInterval: Int64 = 3600

    public init() {}
}

/// What the database keeps per triplet: first and last time seen (seconds since the epoch).
public struct TripletRecord: Sendable, Equatable {
    public var firstSeen: Int64
    public var lastSeen: Int64

    public init(firstSeen: Int64, lastSeen: Int64) {
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
    }
}

/// What the database keeps per client address for the auto-whitelist: successful retries and when the
/// count last changed.
public struct ClientRecord: Sendable, Equatable {
    public var count: Int
    public var lastSeen: Int64

    public init(count: Int, lastSeen: Int64) {
        self.count = count
        self.lastSeen = lastSeen
    }
}
