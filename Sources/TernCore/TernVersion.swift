/// Tern's version, shown by `tern --version` and as `mail_version`.
public enum TernVersion {
    public static let string = "0.1.0"
}
