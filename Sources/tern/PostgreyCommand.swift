import ArgumentParser
import Foundation
import TernCore
import TernPolicy
import TernServer

/// postgrey(8), the greylisting policy server, built in: `tern postgrey --inet=10023 --delay=300` or, through
/// the links of `tern link`, `postgrey --unix=/var/spool/postfix/private/postgrey`. Options and defaults are
/// postgrey 1.37's.
struct PostgreyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "postgrey", abstract: "Postfix greylisting policy server (postgrey 1.37 compatible).",
        version: "postgrey \(GreylistParameters.version)")

    @Option(name: [.customShort("u"), .long], help: "Listen on the unix socket PATH.") var unix: String?
    @Option(name: [.customShort("i"), .long], help: "Listen on [HOST:]PORT (a bare PORT: localhost).") var inet: String?
    @Option(help: "Unix socket permissions (octal).") var socketmode = "0666"
    @Option(help: "Run as USER when started as root.") var user = "postgrey"
    @Option(help: "Run as GROUP when started as root.") var group = "postgrey"
    @Option(help: "Database directory.") var dbdir = "/var/lib/postgrey"
    @Option(help: "With --daemonize: write the daemon's pid here.") var pidfile: String?
    @Flag(name: [.customShort("d"), .long], help: "Run in the background, logging to syslog.") var daemonize = false
    @Option(help: "Greylist for N seconds.") var delay = 300
    @Option(name: .customLong("max-age"), help: "Delete entries older than N days since the last time seen.")
    var maxAge = 35
    @Option(name: .customLong("retry-window"), help: "Allow N days (or Nh hours) for the first retry.")
    var retryWindow: String?
    @Option(name: .customLong("greylist-action"), help: "Response when a mail is greylisted.")
    var greylistAction = "DEFER_IF_PERMIT"
    @Option(name: .customLong("greylist-text"), help: "Response text (%s: seconds left, %r: recipient domain).")
    var greylistText = "Greylisted, see http://postgrey.schweikert.ch/help/%r.html"
    @Option(name: .customLong("x-greylist-header"), help: "Header added to delayed mail (%t %v %d %h).")
    var xGreylistHeader = "X-Greylist: delayed %t seconds by postgrey-%v at %h; %d"
    @Flag(name: .customLong("lookup-by-subnet"), help: "Strip the last byte of IPv4 addresses (default).")
    var lookupBySubnet = false
    @Flag(name: .customLong("lookup-by-host"), help: "Do not strip the host part of client addresses.")
    var lookupByHost = false
    @Option(help: "Network bits of IPv4 addresses in a triplet.") var ipv4cidr = 24
    @Option(help: "Network bits of IPv6 addresses in a triplet.") var ipv6cidr = 64
    @Option(
        name: .customLong("auto-whitelist-clients"),
        help: "Whitelist a client after N successful retries (5; 0 disables).")
    var autoWhitelistClients: Int?
    @Option(name: .customLong("whitelist-clients"), help: "Client whitelist file (repeatable).")
    var whitelistClients: [String] = []
    @Option(name: .customLong("whitelist-recipients"), help: "Recipient whitelist file (repeatable).")
    var whitelistRecipients: [String] = []
    @Option(help: "Host name for the X-Greylist header.") var hostname: String?
    @Flag(help: "Close the connection after each answer (Exim).") var exim = false
    @Option(name: .customLong("listen-queue-size"), help: "Listen backlog.") var listenQueueSize: Int?
    @Flag(name: [.customShort("v"), .long], help: "Log each request.") var verbose = false
    @Flag(name: [.customShort("q"), .long], help: "Log less.") var quiet = false
    @Option(
        name: [.customLong("syslog-facility"), .customLong("syslogfacility"), .customLong("facility")],
        help: "Syslog facility (mail; Tern always logs to mail).")
    var syslogFacility: String?
    @Flag(help: "Store SHA-1 hashes instead of addresses (not supported by Tern).") var privacy = false

    // Set by the MTA daemon when it runs a master.cf `postgrey` service, and by --daemonize.
    @Flag(name: .customLong("exit-with-stdin"), help: .hidden) var exitWithStandardInput = false
    @Option(name: .customLong("log-fd"), help: .hidden) var logDescriptor: Int32?
    @Option(name: .customLong("log-path"), help: .hidden) var logPath: String?
    @Flag(name: .customLong("syslog"), help: .hidden) var syslog = false
    @Flag(name: .customLong("daemon-child"), help: .hidden) var daemonChild = false
    @Option(name: .customLong("listen-fd"), help: .hidden) var listenDescriptor: Int32?

    /// `--auto-whitelist-clients` may come without a value (Getopt::Long's `:s`): then it means 5.
    static func normalize(_ arguments: [String]) -> [String] {
        var result: [String] = []
        for (index, argument) in arguments.enumerated() {
            let next = index + 1 < arguments.count ? arguments[index + 1] : nil
            if argument == "--auto-whitelist-clients", next == nil || next!.hasPrefix("-") {
                result.append("--auto-whitelist-clients=5")
            } else if argument == "--auto-whitelist-clients=" {
                result.append("--auto-whitelist-clients=5")
            } else {
                result.append(argument)
            }
        }
        return result
    }

    /// Entry point for the `postgrey` link and `tern postgrey`.
    static func run(_ arguments: [String]) async -> Int32 {
        do {
            // Anything else (--help, --version) is thrown as a clean exit.
            guard let command = try parseAsRoot(normalize(arguments)) as? PostgreyCommand else { return 0 }
            return await command.start(arguments)
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if !message.isEmpty {
                let stream = code == .success ? FileHandle.standardOutput : FileHandle.standardError
                stream.write(Data((message + "\n").utf8))
            }
            return code.rawValue
        }
    }

    func run() async throws {
        let status = await start([])
        if status != 0 { throw TernExit(status: status) }
    }

    func start(_ original: [String]) async -> Int32 {
        let settings: PostgreySettings
        do {
            settings = try makeSettings()
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            return 1
        }
        if daemonize && !daemonChild {
            do {
                let pid = try DaemonStarter.start(
                    arguments: ["postgrey"] + Self.normalize(original) + ["--daemon-child"],
                    environment: ProcessInfo.processInfo.environment)
                if let pidfile { try "\(pid)\n".write(toFile: pidfile, atomically: true, encoding: .utf8) }
                return 0
            } catch {
                FileHandle.standardError.write(Data("postgrey: \(error)\n".utf8))
                return 1
            }
        }
        var options = PostgreyDaemon.Options()
        options.user = user
        options.group = group
        options.exitWithStandardInput = exitWithStandardInput
        options.signalReady = daemonChild
        options.arguments = Self.normalize(original)
        options.listenDescriptor = listenDescriptor
        if let logDescriptor {
            options.log = .descriptor(logDescriptor, path: logPath ?? "")
        } else if syslog || daemonChild {
            options.log = .syslog
        }
        return await PostgreyDaemon.run(settings, options: options)
    }

    struct UsageError: Error, CustomStringConvertible {
        let description: String
    }

    func makeSettings() throws -> PostgreySettings {
        if privacy { throw UsageError(description: "ERROR: --privacy is not supported by Tern's postgrey") }
        let endpoint: PostgreySettings.Endpoint
        if let inet {
            guard let parsed = PostgreySettings.inetEndpoint(inet) else {
                throw UsageError(description: "ERROR: --inet: bad address \"\(inet)\" (want [HOST:]PORT)")
            }
            endpoint = parsed
        } else if let unix {
            guard let mode = mode_t(socketmode, radix: 8) else {
                throw UsageError(description: "ERROR: --socketmode: not an octal mode: \(socketmode)")
            }
            endpoint = .unix(path: unix, mode: mode)
        } else {
            throw UsageError(description: "ERROR: --unix or --inet must be specified")
        }
        var settings = PostgreySettings(endpoint: endpoint)
        settings.databaseDirectory = dbdir
        if !whitelistClients.isEmpty { settings.clientWhitelistFiles = whitelistClients }
        if !whitelistRecipients.isEmpty { settings.recipientWhitelistFiles = whitelistRecipients }
        settings.closeAfterAnswer = exim
        if let listenQueueSize { settings.backlog = min(max(listenQueueSize, 1), 999) }
        settings.logLevel = quiet ? 1 : (verbose ? 3 : 2)
        var parameters = GreylistParameters()
        // postgrey reads these with `||`: 0 means the default.
        parameters.delay = Int64(delay == 0 ? 300 : delay)
        parameters.maxAge = Int64(maxAge == 0 ? 35 : maxAge) * 86400
        if let retryWindow {
            let lower = retryWindow.lowercased()
            if lower.hasSuffix("h"), let hours = Int64(lower.dropLast()), hours >= 0 {
                parameters.retryWindow = hours * 3600
            } else if let days = Int64(retryWindow), days >= 0 {
                parameters.retryWindow = days * 86400
            } else {
                throw UsageError(
                    description: "ERROR: --retry-window must be either a number of days or a number\n"
                        + "       followed by 'h' for hours ('6h' for example).")
            }
        }
        parameters.autoWhitelistClients = autoWhitelistClients ?? 5
        parameters.lookupByHost = lookupByHost
        parameters.ipv4Prefix = ipv4cidr == 0 ? 24 : min(max(ipv4cidr, 0), 32)
        parameters.ipv6Prefix = ipv6cidr == 0 ? 64 : min(max(ipv6cidr, 0), 128)
        parameters.greylistAction = greylistAction.isEmpty ? "DEFER_IF_PERMIT" : greylistAction
        if !greylistText.isEmpty { parameters.greylistText = greylistText }
        if !xGreylistHeader.isEmpty { parameters.headerTemplate = xGreylistHeader }
        parameters.hostname = hostname ?? ""
        settings.parameters = parameters
        return settings
    }
}
