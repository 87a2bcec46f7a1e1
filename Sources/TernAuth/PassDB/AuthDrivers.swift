/// Builds passdb and userdb drivers from dovecot.conf's `driver` and `args` (plain strings; the
/// dovecot.conf parser supplies them).
public enum AuthDrivers {
    public struct UnknownDriver: Error, Equatable, CustomStringConvertible {
        public let name: String
        public let kind: String
        public var description: String { "Unknown \(kind) driver '\(name)'" }
    }

    public static func passdb(driver: String, args: String) throws(UnknownDriver) -> any PassDB {
        switch driver {
        case "passwd-file": PasswdFileDB(args: args)
        case "passwd": PasswdDB()
        case "shadow": ShadowDB()
        case "static": StaticDB(args: args)
        case "pam": PAMPassDB(args: args)
        case "checkpassword": CheckpasswordDB(args: args)
        default: throw UnknownDriver(name: driver, kind: "passdb")
        }
    }

    public static func userdb(driver: String, args: String) throws(UnknownDriver) -> any UserDB {
        switch driver {
        case "passwd-file": PasswdFileDB(args: args)
        case "passwd": PasswdDB()
        case "static": StaticDB(args: args)
        default: throw UnknownDriver(name: driver, kind: "userdb")
        }
    }
}
