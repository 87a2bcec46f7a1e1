import Foundation
import Glibc
import TernAuth

/// `doveadm who`: the sessions anvil counts (CONNECT-DUMP on `base_dir/anvil`), filtered by a user mask and
/// an address range, printed per user and protocol (`username # proto (pids) (ips)`) or with `-1` one line
/// per session process, as Dovecot 2.3's doveadm-who.c does.
public enum DoveadmWho {
    /// One line of the dump: `service/ip/user` (or `service/user`), the pid, how many sessions it has.
    public struct Line: Sendable, Equatable {
        public var service: String
        public var ip: String?
        public var user: String
        public var pid: Int32
        public var count: Int

        /// `ident<TAB>pid<TAB>refcount`; nil for a line that is not one.
        public init?(_ text: String) {
            let fields = text.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count >= 3, let pid = Int32(fields[1]), let count = Int(fields[2]) else { return nil }
            let ident = AuthProtocolText.unescape(fields[0])
            guard let slash = ident.firstIndex(of: "/") else { return nil }
            service = String(ident[..<slash])
            let rest = ident[ident.index(after: slash)...]
            if let second = rest.firstIndex(of: "/") {
                ip = String(rest[..<second])
                user = String(rest[rest.index(after: second)...])
            } else {
                ip = nil
                user = String(rest)
            }
            self.pid = pid
            self.count = count
        }
    }

    /// The operands: a user mask (`*` and `?`, any case) and an address range (`ip` or `ip/bits`).
    public struct Filter: Sendable {
        public var userMask: String?
        var network: AllowNets?

        public enum ParseError: Error, Equatable, CustomStringConvertible {
            case multipleUserMasks, multipleNetworkMasks

            public var description: String {
                switch self {
                case .multipleUserMasks: "Multiple username masks not supported"
                case .multipleNetworkMasks: "Multiple network masks not supported"
                }
            }
        }

        public init(_ operands: [String]) throws(ParseError) {
            for operand in operands {
                if AllowNets.network(operand) != nil {
                    guard network == nil else { throw .multipleNetworkMasks }
                    network = AllowNets(operand)
                } else {
                    guard userMask == nil else { throw .multipleUserMasks }
                    userMask = operand
                }
            }
        }

        /// For `-1`: the line's user and address.
        public func matches(_ line: Line) -> Bool {
            matches(user: line.user) && (network == nil || line.ip.map { network?.contains($0) == true } == true)
        }

        /// For the table: the user, and any of its addresses.
        public func matches(_ user: User) -> Bool {
            matches(user: user.user) && (network == nil || user.ips.contains { network?.contains($0) == true })
        }

        private func matches(user: String) -> Bool {
            userMask.map { fnmatch($0.lowercased(), user.lowercased(), 0) == 0 } ?? true
        }
    }

    public enum QueryError: Error, CustomStringConvertible {
        case connect(String, Int32)

        public var description: String {
            switch self {
            case .connect(let path, let code): "net_connect_unix(\(path)) failed: \(String(cString: strerror(code)))"
            }
        }
    }

    /// Asks the anvil socket for its connections.
    public static func query(anvilPath: String) throws(QueryError) -> [Line] {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw .connect(anvilPath, errno) }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = Array(anvilPath.utf8)
        guard path.count < MemoryLayout.size(ofValue: address.sun_path) else { throw .connect(anvilPath, ENAMETOOLONG) }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else { throw .connect(anvilPath, errno) }
        let request = Array("VERSION\tanvil\t1\t0\nCONNECT-DUMP\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            // The dump ends with an empty line.
            if received.count >= 1 && (received == [10] || received.suffix(2) == [10, 10]) { break }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            received += buffer[..<n]
        }
        let text = String(decoding: received, as: UTF8.self)
        return text.split(separator: "\n", omittingEmptySubsequences: true).compactMap { Line(String($0)) }
    }

    /// The lines per user and protocol, in the order they first appear: pids and addresses without repeats.
    public struct User: Sendable, Equatable {
        public var user: String
        public var service: String
        public var connections: Int
        public var pids: [Int32]
        public var ips: [String]
    }

    public static func aggregate(_ lines: [Line]) -> [User] {
        var users: [User] = []
        for line in lines {
            let index =
                users.firstIndex { $0.user == line.user && $0.service == line.service }
                ?? {
                    users.append(User(user: line.user, service: line.service, connections: 0, pids: [], ips: []))
                    return users.count - 1
                }()
            users[index].connections += line.count
            if !users[index].pids.contains(line.pid) { users[index].pids.append(line.pid) }
            if let ip = line.ip, !users[index].ips.contains(ip) { users[index].ips.append(ip) }
        }
        return users
    }

    /// Prints as Dovecot: per user and protocol (the table's column widths come from the first row, as
    /// doveadm who flushes the printer after each), or with `-1` a line per session.
    public static func print(_ lines: [Line], filter: Filter, oneLine: Bool, printer: DoveadmPrinter) {
        if oneLine {
            printer.header([.init("username", expand: true), .init("proto"), .init("pid"), .init("ip")])
            for line in lines where filter.matches(line) {
                for _ in 0..<line.count {
                    for value in [line.user, line.service, String(line.pid), line.ip ?? ""] { printer.print(value) }
                }
            }
        } else {
            printer.header([
                .init("username"), .init("#", rightJustify: true), .init("proto"), .init("(pids)"), .init("(ips)"),
            ])
            for user in aggregate(lines) where filter.matches(user) {
                printer.print(user.user)
                printer.print(String(user.connections))
                printer.print(user.service)
                printer.print("(" + user.pids.map(String.init).joined(separator: " ") + ")")
                printer.print("(" + user.ips.joined(separator: " ") + ")")
                printer.flush()
            }
        }
        printer.flush()
    }
}
