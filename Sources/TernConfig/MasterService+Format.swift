/// `postconf -M` rendering of a master.cf entry (postconf_master.c): fixed fields at columns
/// 0, 11, 17, 25, 33, 41, 49, 57 with at least one space between, then the command and its
/// arguments; `-o` values containing blanks in braces. With `fold`, each `-o name=value` goes on its
/// own line indented by four spaces and other words wrap before column 80.
extension MasterService {
    static let columnGoals = [0, 11, 17, 25, 33, 41, 49, 57]
    static let lineLimit = 80
    static let indent = "    "

    /// `expand` maps each `-o` value to what `postconf -Mx` shows (identity when not expanding).
    public func formatted(fold: Bool = false, expand: (String) -> String = { $0 }) -> String {
        var out = ""
        var length = 0
        func add(_ text: String) {
            out += text
            length += text.count
        }
        for (field, text) in (fixedFields + [command]).enumerated() {
            if length > 0 {
                repeat { add(" ") } while length < Self.columnGoals[field]
            }
            add(text)
        }
        var inOptions = true
        var i = 0
        while i < arguments.count {
            let arg = arguments[i]
            var argLength = arg.count
            var value: String?
            var braces = false
            if inOptions {
                if !arg.hasPrefix("-") || arg == "--" {
                    inOptions = false
                } else if arg.dropFirst().first == "o", i + 1 < arguments.count {
                    length = Self.lineLimit
                    let v = arg == "-o" ? expand(arguments[i + 1]) : arguments[i + 1]
                    value = v
                    argLength += v.count + 3
                    braces = v.contains(where: Self.isBlank)
                    if braces { argLength += 2 }
                }
            } else {
                braces = arg.contains(where: Self.isBlank)
            }
            if length > Self.indent.count {
                if !fold || length + 1 + argLength < Self.lineLimit {
                    add(" ")
                } else {
                    out += "\n" + Self.indent
                    length = Self.indent.count
                }
            }
            let wrap = !inOptions && braces
            add(wrap ? "{" + arg + "}" : arg)
            if let value {
                add(" ")
                add(braces ? "{" + value + "}" : value)
                i += 1
                length = Self.lineLimit
            }
            i += 1
        }
        return out + "\n"
    }

    static func isBlank(_ c: Character) -> Bool { c == " " || c == "\t" || c == "\r" || c == "\n" }
}
