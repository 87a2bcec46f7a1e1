import NIOCore
import NIOSSL

/// What a server handshake negotiated, in the words Postfix uses in its log and Received: header
/// (`TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519`).
struct TLSConnectionDetails: Sendable, Equatable {
    var version: String
    var cipher: String
    var bits: Int
    /// The key exchange group (`X25519`, `ECDHE (prime256v1)`), when the handshake showed it.
    var keyExchange: String?

    /// After `Anonymous TLS connection established from host[addr]: `.
    var summary: String {
        "\(version) with cipher \(cipher) (\(bits)/\(bits) bits)" + (keyExchange.map { " key-exchange \($0)" } ?? "")
    }

    /// smtpd_tls_received_header: the comments under the Received: `from` line (lines after the first
    /// start with a tab, as Postfix folds them).
    var receivedComments: [String] {
        let using = "using \(version) with cipher \(cipher) (\(bits)/\(bits) bits)"
        return [using + (keyExchange.map { "\n\t key-exchange \($0)" } ?? ""), "No client certificate requested"]
    }
}

/// Puts TLS in front of an SMTP session (STARTTLS or wrapper mode): the NIOSSLServerHandler goes first in
/// the pipeline, on the socket side, with a `ServerHelloReader` below it that learns the cipher suite and
/// key exchange group from the server's first flight (swift-nio-ssl does not expose them).
enum SMTPTLSUpgrade {
    static func install(_ context: NIOSSLContext, on pipeline: ChannelPipeline.SynchronousOperations) throws {
        let reader = ServerHelloReader()
        try pipeline.addHandler(reader, position: .first)
        try pipeline.addHandler(NIOSSLServerHandler(context: context), position: .after(reader))
    }

    /// Called on handshake completion.
    static func details(_ pipeline: ChannelPipeline.SynchronousOperations) -> TLSConnectionDetails {
        let version = (try? pipeline.handler(type: NIOSSLServerHandler.self))?.tlsVersion
        let hello = (try? pipeline.handler(type: ServerHelloReader.self))?.hello ?? ServerHello()
        let suite = hello.cipherSuite.flatMap { TLSCipherNames.suites[$0] }
        return TLSConnectionDetails(
            version: version.map(Self.name) ?? hello.versionName,
            cipher: suite?.name ?? hello.cipherSuite.map { "0x" + String($0, radix: 16, uppercase: true) } ?? "unknown",
            bits: suite?.bits ?? 0, keyExchange: hello.group.map(TLSCipherNames.group))
    }

    static func name(_ version: TLSVersion) -> String {
        switch version {
        case .tlsv1: "TLSv1"
        case .tlsv11: "TLSv1.1"
        case .tlsv12: "TLSv1.2"
        case .tlsv13: "TLSv1.3"
        }
    }
}

/// The parts of the server's first flight smtpd reports: ServerHello (version, cipher suite, and for
/// TLS 1.3 the key_share group) and, for TLS 1.2, the ServerKeyExchange curve. Only plaintext handshake
/// records are read, at most `limit` bytes; everything passes through unchanged.
struct ServerHello: Sendable, Equatable {
    var legacyVersion: UInt16?
    var selectedVersion: UInt16?
    var cipherSuite: UInt16?
    var group: UInt16?

    var versionName: String {
        switch selectedVersion ?? legacyVersion ?? 0 {
        case 0x0304: "TLSv1.3"
        case 0x0303: "TLSv1.2"
        case 0x0302: "TLSv1.1"
        case 0x0301: "TLSv1"
        default: "unknown"
        }
    }
}

final class ServerHelloReader: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The first flight of TLS 1.2 carries the certificate chain; a larger one is not looked at further.
    static let limit = 64 * 1024

    private(set) var hello = ServerHello()
    private var records: [UInt8] = []
    private var done = false

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if !done {
            let bytes = unwrapOutboundIn(data).readableBytesView
            records += bytes.prefix(Self.limit - records.count)
            done = Self.parse(records, into: &hello) || records.count >= Self.limit
            if done { records = [] }
        }
        context.write(data, promise: promise)
    }

    /// Reads the records so far; true once there is nothing more to learn.
    static func parse(_ records: [UInt8], into hello: inout ServerHello) -> Bool {
        var handshake: [UInt8] = []
        var index = 0
        var pastHandshake = false
        while index + 5 <= records.count {
            let length = Int(records[index + 3]) << 8 | Int(records[index + 4])
            // Past the plaintext handshake (ChangeCipherSpec, encrypted records): nothing more to learn.
            guard records[index] == 0x16 else {
                pastHandshake = true
                break
            }
            guard index + 5 + length <= records.count else { break }
            handshake += records[(index + 5)..<(index + 5 + length)]
            index += 5 + length
        }
        return parseHandshake(handshake, into: &hello) || pastHandshake
    }

    private static func parseHandshake(_ bytes: [UInt8], into hello: inout ServerHello) -> Bool {
        var index = 0
        while index + 4 <= bytes.count {
            let type = bytes[index]
            let length = Int(bytes[index + 1]) << 16 | Int(bytes[index + 2]) << 8 | Int(bytes[index + 3])
            guard index + 4 + length <= bytes.count else { return false }
            let body = Array(bytes[(index + 4)..<(index + 4 + length)])
            switch type {
            case 2:
                parseServerHello(body, into: &hello)
                if hello.selectedVersion == 0x0304 { return true }
            case 12:
                // ServerKeyExchange, ECDHE: curve_type named_curve (3), then the group.
                if body.count >= 3, body[0] == 3 { hello.group = UInt16(body[1]) << 8 | UInt16(body[2]) }
                return true
            case 14:
                return true  // ServerHelloDone: no key exchange message (RSA key transport)
            default:
                break
            }
            index += 4 + length
        }
        return false
    }

    private static func parseServerHello(_ body: [UInt8], into hello: inout ServerHello) {
        func u16(_ at: Int) -> UInt16? { at + 2 <= body.count ? UInt16(body[at]) << 8 | UInt16(body[at + 1]) : nil }
        hello.legacyVersion = u16(0)
        guard body.count > 34 else { return }
        var index = 35 + Int(body[34])  // version, random, session id
        hello.cipherSuite = u16(index)
        index += 3  // cipher suite, compression method
        guard let total = u16(index) else { return }
        index += 2
        let end = min(body.count, index + Int(total))
        while index + 4 <= end, let type = u16(index), let length = u16(index + 2) {
            let data = index + 4
            if type == 0x002B { hello.selectedVersion = u16(data) }  // supported_versions
            if type == 0x0033 { hello.group = u16(data) }  // key_share
            index = data + Int(length)
        }
    }
}

/// OpenSSL's names for the suites and groups, as Postfix logs them.
enum TLSCipherNames {
    static let suites: [UInt16: (name: String, bits: Int)] = [
        0x1301: ("TLS_AES_128_GCM_SHA256", 128), 0x1302: ("TLS_AES_256_GCM_SHA384", 256),
        0x1303: ("TLS_CHACHA20_POLY1305_SHA256", 256),
        0xC02B: ("ECDHE-ECDSA-AES128-GCM-SHA256", 128), 0xC02C: ("ECDHE-ECDSA-AES256-GCM-SHA384", 256),
        0xC02F: ("ECDHE-RSA-AES128-GCM-SHA256", 128), 0xC030: ("ECDHE-RSA-AES256-GCM-SHA384", 256),
        0xCCA8: ("ECDHE-RSA-CHACHA20-POLY1305", 256), 0xCCA9: ("ECDHE-ECDSA-CHACHA20-POLY1305", 256),
        0xC009: ("ECDHE-ECDSA-AES128-SHA", 128), 0xC00A: ("ECDHE-ECDSA-AES256-SHA", 256),
        0xC013: ("ECDHE-RSA-AES128-SHA", 128), 0xC014: ("ECDHE-RSA-AES256-SHA", 256),
        0x009C: ("AES128-GCM-SHA256", 128), 0x009D: ("AES256-GCM-SHA384", 256),
        0x002F: ("AES128-SHA", 128), 0x0035: ("AES256-SHA", 256),
    ]

    static func group(_ id: UInt16) -> String {
        switch id {
        case 0x001D: "X25519"
        case 0x001E: "X448"
        case 0x0017: "ECDHE (prime256v1)"
        case 0x0018: "ECDHE (secp384r1)"
        case 0x0019: "ECDHE (secp521r1)"
        case 0x11EC: "X25519MLKEM768"
        default: "group 0x" + String(id, radix: 16, uppercase: true)
        }
    }
}
