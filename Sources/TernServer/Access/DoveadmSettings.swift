import Foundation
import TernConfig

extension AccessSettings {
    /// dovecot.conf as doveadm reads it: `-o key=value` settings win over the file's (they are read as
    /// if written at its end). TLS files are not read: doveadm has no listener.
    public static func loadForDoveadm(path: String, overrides: [String]) throws(SettingsError) -> AccessSettings {
        guard !overrides.isEmpty else { return try load(path: path, readingTLSFiles: false) }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .invalid("open(\(path)) failed: \(error.localizedDescription)")
        }
        let extra = overrides.map { override -> String in
            let parts = override.split(separator: "=", maxSplits: 1).map(String.init)
            let key = (parts.first ?? "").trimmingCharacters(in: .whitespaces)
            return "\n\(key) = \(parts.count > 1 ? parts[1] : "")"
        }
        do {
            let config = try DovecotConfig.parse(text + extra.joined() + "\n", path: path)
            return try AccessSettings(path: path, config: config, readingTLSFiles: false)
        } catch {
            throw .config(error)
        }
    }
}
