/// The values Dovecot's `%` variables expand to in passdb/userdb args and paths (%u %n %d %s %h %l %r %p %w
/// and their `%{name}` forms), https://doc.dovecot.org/2.3/configuration_manual/config_file/config_variables/.
public struct AuthVariables: Sendable, Equatable {
    public var user: String
    public var service: String
    public var home: String?
    public var localIP: String?
    public var remoteIP: String?
    public var password: String?
    public var session: String?
    public var pid: String?

    public init(
        user: String, service: String = "", home: String? = nil, localIP: String? = nil, remoteIP: String? = nil,
        password: String? = nil, session: String? = nil, pid: String? = nil
    ) {
        self.user = user
        self.service = service
        self.home = home
        self.localIP = localIP
        self.remoteIP = remoteIP
        self.password = password
        self.session = session
        self.pid = pid
    }

    /// The part of the user name before the last `@` (all of it when there is none).
    public var username: String {
        guard let at = user.lastIndex(of: "@") else { return user }
        return String(user[..<at])
    }

    /// The part after the last `@` (empty when there is none).
    public var domain: String {
        guard let at = user.lastIndex(of: "@") else { return "" }
        return String(user[user.index(after: at)...])
    }

    func value(short: Character) -> String? {
        switch short {
        case "u": user
        case "n": username
        case "d": domain
        case "s": service
        case "h": home ?? ""
        case "l": localIP ?? ""
        case "r": remoteIP ?? ""
        case "w": password ?? ""
        case "p": pid ?? ""
        default: nil
        }
    }

    func value(long name: String) -> String? {
        switch name {
        case "user": user
        case "username": username
        case "domain": domain
        case "service", "protocol": service
        case "home": home ?? ""
        case "lip", "local_ip": localIP ?? ""
        case "rip", "remote_ip": remoteIP ?? ""
        case "password": password ?? ""
        case "session": session ?? ""
        case "pid": pid ?? ""
        default: nil
        }
    }

    /// Expands `%u`, `%{user}`, `%Lu` (lower case), `%Ud` (upper case), `%1n`/`%2.1n` (offset.length) and `%%`.
    /// Unknown variables stay as written, as Dovecot leaves them.
    public func expand(_ template: String) -> String {
        var output = ""
        var rest = Substring(template)
        while let percent = rest.firstIndex(of: "%") {
            output += rest[..<percent]
            var cursor = rest.index(after: percent)
            guard cursor < rest.endIndex else {
                output += "%"
                rest = rest[cursor...]
                break
            }
            if rest[cursor] == "%" {
                output += "%"
                rest = rest[rest.index(after: cursor)...]
                continue
            }
            var numbers: [Int] = []
            var digits = ""
            var lower = false
            var upper = false
            while cursor < rest.endIndex,
                rest[cursor].isNumber || rest[cursor] == "." || rest[cursor] == "L"
                    || rest[cursor] == "U"
            {
                switch rest[cursor] {
                case "L": lower = true
                case "U": upper = true
                case ".":
                    numbers.append(Int(digits) ?? 0)
                    digits = ""
                default: digits.append(rest[cursor])
                }
                cursor = rest.index(after: cursor)
            }
            if !digits.isEmpty { numbers.append(Int(digits) ?? 0) }
            var value: String?
            var end = cursor
            if cursor < rest.endIndex, rest[cursor] == "{", let close = rest[cursor...].firstIndex(of: "}") {
                value = self.value(long: String(rest[rest.index(after: cursor)..<close]))
                end = rest.index(after: close)
            } else if cursor < rest.endIndex {
                value = self.value(short: rest[cursor])
                end = rest.index(after: cursor)
            }
            guard var value else {
                output += rest[percent..<end]
                rest = rest[end...]
                continue
            }
            let offset = numbers.count == 2 ? numbers[0] : 0
            if let length = numbers.last {
                value = String(value.dropFirst(offset).prefix(length))
            }
            if lower { value = value.lowercased() }
            if upper { value = value.uppercased() }
            output += value
            rest = rest[end...]
        }
        return output + rest
    }
}
