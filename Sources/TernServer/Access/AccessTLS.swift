import NIOSSL
import TernConfig

/// The server TLS context of ssl_cert / ssl_key (PEM text, `<file` already read) and ssl_min_protocol.
enum AccessTLS {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func context(certificate: String, key: String, minimumProtocol: String) throws(Failure) -> NIOSSLContext {
        do {
            let chain = try NIOSSLCertificate.fromPEMBytes(Array(certificate.utf8)).map { NIOSSLCertificateSource.certificate($0) }
            let privateKey = try NIOSSLPrivateKey(bytes: Array(key.utf8), format: .pem)
            var configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain, privateKey: .privateKey(privateKey))
            configuration.minimumTLSVersion = version(minimumProtocol)
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw Failure(description: "Couldn't initialize SSL context: \(error)")
        }
    }

    /// ssl_min_protocol names (TLSv1, TLSv1.1, TLSv1.2, TLSv1.3; SSLv3 means the lowest).
    static func version(_ name: String) -> TLSVersion {
        switch name {
        case "TLSv1.1": .tlsv11
        case "TLSv1.2": .tlsv12
        case "TLSv1.3": .tlsv13
        default: .tlsv1
        }
    }
}
