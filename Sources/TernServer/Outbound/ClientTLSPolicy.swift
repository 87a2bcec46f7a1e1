import Foundation
import NIOCore
import NIOSSL
import SwiftASN1
import Synchronization
import TernPolicy
import TernSMTP
import X509

/// The smtp client's TLS settings (smtp_tls_security_level and friends, postconf(5), TLS_README "Client-side
/// TLS security levels"): whether STARTTLS is used or required, which CAs are trusted and which certificate
/// names must match.
struct ClientTLSPolicy: Sendable {
    enum Level: String, Sendable {
        case none, may, encrypt, verify, secure
    }

    var level: Level
    /// smtp_tls_CAfile and smtp_tls_CApath, read once.
    var trustAnchors: [Certificate]
    /// smtp_tls_mandatory_protocols (encrypt and up) / smtp_tls_protocols (may).
    var mandatoryMinimum: TLSVersion
    var opportunisticMinimum: TLSVersion
    /// smtp_tls_verify_cert_match / smtp_tls_secure_cert_match.
    var verifyMatch: [String]
    var secureMatch: [String]
    /// smtp_tls_cert_file / smtp_tls_key_file (a client certificate, rarely used).
    var clientCertificate: (chain: [NIOSSLCertificate], key: NIOSSLPrivateKey)?

    var stateMachineTLS: SMTPClientStateMachine.Security.TLS {
        switch level {
        case .none: return .off
        case .may: return .opportunistic
        case .encrypt, .verify, .secure: return .required
        }
    }

    /// Postfix's level names; `dane` acts as `may` (Tern's resolver does not validate DNSSEC, and Postfix
    /// falls back to `may` without usable TLSA records); `dane-only` and `fingerprint` are not supported.
    static func level(_ text: String, useTLS: Bool, enforceTLS: Bool) -> Level? {
        switch text.lowercased() {
        case "": return enforceTLS ? .encrypt : useTLS ? .may : Level.none
        case "dane": return .may
        default: return Level(rawValue: text.lowercased())
        }
    }

    /// `!SSLv2, !SSLv3, !TLSv1, !TLSv1.1` or `>=TLSv1.2`: the lowest version the list leaves enabled.
    static func minimumVersion(_ protocols: String) -> TLSVersion {
        let words = protocols.split(whereSeparator: { $0 == "," || $0 == " " || $0 == ":" }).map(String.init)
        let ordered: [(String, TLSVersion)] = [
            ("TLSv1", .tlsv1), ("TLSv1.1", .tlsv11), ("TLSv1.2", .tlsv12), ("TLSv1.3", .tlsv13),
        ]
        if let bound = words.first(where: { $0.hasPrefix(">=") }) {
            return ordered.first { $0.0 == bound.dropFirst(2) }?.1 ?? .tlsv1
        }
        let excluded = Set(words.filter { $0.hasPrefix("!") }.map { String($0.dropFirst()) })
        return ordered.first { !excluded.contains($0.0) }?.1 ?? .tlsv13
    }

    /// Every certificate in a PEM bundle, and in each PEM file of a directory (like /etc/ssl/certs).
    static func loadTrustAnchors(file: String, directory: String) -> [Certificate] {
        var paths: [String] = file.isEmpty ? [] : [file]
        if !directory.isEmpty, let names = try? FileManager.default.contentsOfDirectory(atPath: directory) {
            paths += names.sorted().filter { $0.hasSuffix(".pem") || $0.hasSuffix(".crt") }.map { "\(directory)/\($0)" }
        }
        var anchors: [Certificate] = []
        var seen = Set<[UInt8]>()
        for path in paths {
            guard let certificates = try? NIOSSLCertificate.fromPEMFile(path) else { continue }
            for certificate in certificates {
                guard let der = try? certificate.toDERBytes(), seen.insert(der).inserted,
                    let parsed = try? Certificate(derEncoded: der)
                else { continue }
                anchors.append(parsed)
            }
        }
        return anchors
    }

    /// A TLS handler for one connection: SNI with the server's name, and certificate checks whose result
    /// lands in `trust` (at `may`/`encrypt` an untrusted certificate is accepted and logged as such).
    func makeHandler(serverName: String, expectedNames: [String], trust: PeerTrust) throws -> NIOSSLClientHandler {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = level == .may ? opportunisticMinimum : mandatoryMinimum
        // The callback below replaces BoringSSL's checks; it only runs when verification is not `.none`.
        configuration.certificateVerification = .noHostnameVerification
        if let clientCertificate {
            configuration.certificateChain = clientCertificate.chain.map { .certificate($0) }
            configuration.privateKey = .privateKey(clientCertificate.key)
        }
        let context = try NIOSSLContext(configuration: configuration)
        let anchors = trustAnchors
        let mustVerify = level == .verify || level == .secure
        let sni = serverName.isEmpty || IPAddress(serverName) != nil ? nil : serverName
        return try NIOSSLClientHandler(context: context, serverHostname: sni) { chain, promise in
            promise.completeWithTask {
                let result = await Self.evaluate(chain: chain, anchors: anchors, expectedNames: expectedNames)
                trust.record(result)
                return !mustVerify || result == .verified ? .certificateVerified : .failed
            }
        }
    }

    /// The names the server certificate must carry at `verify`/`secure` (`hostname`, `nexthop`,
    /// `dot-nexthop` or literal names; a leading dot means any subdomain).
    func expectedNames(hostname: String, nexthop: String) -> [String] {
        let strategy = level == .secure ? secureMatch : verifyMatch
        return strategy.flatMap { word -> [String] in
            switch word.lowercased() {
            case "hostname": return [hostname]
            case "nexthop": return [nexthop]
            case "dot-nexthop": return [".\(nexthop)"]
            default: return [word]
            }
        }.map { $0.lowercased() }
    }

    static func evaluate(chain: [NIOSSLCertificate], anchors: [Certificate], expectedNames: [String]) async
        -> PeerTrust.Result
    {
        let parsed = chain.compactMap { try? $0.toDERBytes() }.compactMap { try? Certificate(derEncoded: $0) }
        guard let leaf = parsed.first else { return .untrusted }
        var verifier = Verifier(rootCertificates: CertificateStore(anchors)) { RFC5280Policy() }
        let validation = await verifier.validate(leaf: leaf, intermediates: CertificateStore(parsed.dropFirst()))
        guard case .validCertificate = validation else { return .untrusted }
        return certificateNames(leaf).contains { name in expectedNames.contains { matches(name, $0) } }
            ? .verified : .trusted
    }

    /// DNS names from subjectAltName, else the subject's common name.
    static func certificateNames(_ certificate: Certificate) -> [String] {
        let alternatives = (try? certificate.extensions.subjectAlternativeNames).flatMap { $0 } ?? SubjectAlternativeNames()
        let dnsNames = alternatives.compactMap { name -> String? in
            if case .dnsName(let value) = name { return value.lowercased() }
            return nil
        }
        if !dnsNames.isEmpty { return dnsNames }
        return certificate.subject.flatMap { $0 }.filter { $0.type == .RDNAttributeType.commonName }
            .compactMap { String($0.value) }.map { $0.lowercased() }
    }

    /// `name` from the certificate against an expected name: equal, a `*.` wildcard for one label, or for an
    /// expected `.domain` any name below it.
    static func matches(_ name: String, _ expected: String) -> Bool {
        if expected.hasPrefix(".") { return name.hasSuffix(expected) && name.count > expected.count }
        if name == expected { return true }
        guard name.hasPrefix("*."), let dot = expected.firstIndex(of: ".") else { return false }
        return expected[dot...] == name.dropFirst()
    }
}

/// What the certificate check found, read after the handshake for the `... TLS connection established` log
/// line and for the `Server certificate not verified` failure.
final class PeerTrust: Sendable {
    enum Result: Sendable, Equatable {
        case untrusted, trusted, verified
    }
    private let state = Mutex<Result?>(nil)

    func record(_ result: Result) { state.withLock { $0 = result } }
    var result: Result? { state.withLock { $0 } }

    /// Postfix's adjective: Verified (chain and name, at the levels that check names), Trusted (chain),
    /// Untrusted.
    func logWord(level: ClientTLSPolicy.Level) -> String {
        switch result {
        case .verified: return level == .verify || level == .secure ? "Verified" : "Trusted"
        case .trusted: return "Trusted"
        default: return "Untrusted"
        }
    }
}
