import CTernSys
import Foundation
import Synchronization
import TernConfig

/// The smtpd TLS certificate and key files by path. Like Postfix, where smtpd reads its keys before it
/// drops root privileges, the root master reads them and hands them to the unprivileged mtad, which could
/// not open a root-only key file; files it was not given are read from disk (the daemon running as one user).
struct TLSFiles: Sendable, Codable {
    var contents: [String: Data] = [:]

    static let disk = TLSFiles()

    /// A certificate or key file is small; a larger one is refused rather than read whole.
    static let fileLimit = 256 * 1024

    /// The parameters naming files smtpd loads (smtpd_tls_CAfile is public and read where it is needed).
    static let parameters = [
        "smtpd_tls_cert_file", "smtpd_tls_key_file", "smtpd_tls_eccert_file", "smtpd_tls_eckey_file",
        "smtpd_tls_dcert_file", "smtpd_tls_dkey_file",
    ]

    func read(_ path: String) throws -> [UInt8] {
        if let data = contents[path] { return Array(data) }
        return try Self.readFile(path)
    }

    static func readFile(_ path: String) throws -> [UInt8] {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        let data = try handle.read(upToCount: fileLimit + 1) ?? Data()
        guard data.count <= fileLimit else { throw CocoaError(.fileReadTooLarge) }
        return Array(data)
    }

    /// Reads every file the smtpd services need: main.cf's and each service's `-o` overrides.
    static func collect(config: MainConfig, services: [MasterService]) -> TLSFiles {
        var files = TLSFiles()
        let configs = [config] + services.map { config.overriding($0.overrideTable) }
        for scoped in configs {
            var paths = parameters.map { scoped.value($0) }
            paths += (try? scoped.list("smtpd_tls_chain_files")) ?? []
            for path in paths where !path.isEmpty && files.contents[path] == nil {
                if let bytes = try? readFile(path) { files.contents[path] = Data(bytes) }
            }
        }
        return files
    }
}

/// The master → mtad channel for `TLSFiles`: a SOCK_SEQPACKET pair. The master sends a fresh snapshot
/// before it starts the mtad and before each SIGHUP it passes on; the mtad takes the newest one when it
/// (re)builds its settings, so a renewed certificate is picked up by `postfix reload`.
struct TLSFileChannel: Sendable {
    let fd: Int32

    /// The largest snapshot (several chains and keys fit easily).
    static let messageLimit = 2 * 1024 * 1024

    static func makePair() throws -> (master: TLSFileChannel, daemon: Int32) {
        var pair: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw DaemonError.system("socketpair", errno)
        }
        // As root the send buffer may exceed wmem_max, so one snapshot always fits without blocking.
        var size = Int32(messageLimit * 2)
        _ = setsockopt(pair[0], SOL_SOCKET, SO_SNDBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size))
        return (TLSFileChannel(fd: pair[0]), pair[1])
    }

    /// Master side: queues a snapshot (dropping it if the mtad has not taken the previous ones).
    @discardableResult
    func send(_ files: TLSFiles) -> Bool {
        guard let data = try? JSONEncoder().encode(files), data.count <= Self.messageLimit else { return false }
        let sent = data.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) }
        return sent == data.count
    }

    /// mtad side: the newest snapshot waiting, if any.
    func receiveLatest() -> TLSFiles? {
        var latest: TLSFiles?
        var buffer = [UInt8](repeating: 0, count: Self.messageLimit)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            if let files = try? JSONDecoder().decode(TLSFiles.self, from: Data(buffer[0..<count])) { latest = files }
        }
        return latest
    }
}

/// The mtad's current `TLSFiles`: refreshed from the master's channel each time settings are built.
final class TLSFileStore: Sendable {
    private let channel: TLSFileChannel?
    private let current = Mutex(TLSFiles.disk)

    init(channel: TLSFileChannel?) {
        self.channel = channel
    }

    var files: TLSFiles {
        if let fresh = channel?.receiveLatest() { current.withLock { $0 = fresh } }
        return current.withLock { $0 }
    }
}
