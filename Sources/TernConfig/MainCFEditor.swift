/// Text edits of main.cf as `postconf -e`, `postconf -#` and `postconf -X` make them (postconf(1)):
/// comments, blank lines and other entries stay byte for byte; a replaced entry keeps its position and
/// loses its continuation lines; new entries are appended at the end.
public enum MainCFEditor {
    public enum Edit: Sendable, Equatable {
        /// `-e`: set each name to its value.
        case set([(name: String, value: String)])
        /// `-#`: comment out every line of each named entry.
        case commentOut([String])
        /// `-X`: remove each named entry.
        case remove([String])

        public static func == (a: Edit, b: Edit) -> Bool {
            switch (a, b) {
            case (.set(let x), .set(let y)): return x.map { "\($0.name)=\($0.value)" } == y.map { "\($0.name)=\($0.value)" }
            case (.commentOut(let x), .commentOut(let y)), (.remove(let x), .remove(let y)): return x == y
            default: return false
            }
        }
    }

    /// Returns the edited text and warnings (`multiple entries for "name"`); `file` names main.cf in them.
    public static func apply(_ edit: Edit, to text: String, file: String) -> (text: String, warnings: [String]) {
        let names: [String]
        var values: [String: String] = [:]
        switch edit {
        case .set(let pairs):
            names = pairs.map(\.name)
            for pair in pairs { values[pair.name] = pair.value }
        case .commentOut(let list), .remove(let list):
            names = list
        }
        let wanted = Set(names)
        var seen: [String: Int] = [:]
        var output: [String] = []
        var interesting = false
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        for line in lines {
            let body = line.drop(while: { $0 == " " || $0 == "\t" })
            if body.isEmpty || body.first == "#" {
                output.append(line)
                continue
            }
            if body.startIndex != line.startIndex {
                if !interesting {
                    output.append(line)
                } else if case .commentOut = edit {
                    output.append("#" + line)
                }
                continue
            }
            let name = String(body.prefix(while: { $0 != "=" && $0 != " " && $0 != "\t" }))
            interesting = wanted.contains(name)
            guard interesting else {
                output.append(line)
                continue
            }
            seen[name, default: 0] += 1
            switch edit {
            case .set: output.append("\(name) = \(values[name] ?? "")")
            case .commentOut: output.append("#" + line)
            case .remove: break
            }
        }
        var warnings: [String] = []
        for name in names where (seen[name] ?? 0) > 1 && !warnings.contains("\(file): multiple entries for \"\(name)\"") {
            warnings.append("\(file): multiple entries for \"\(name)\"")
        }
        if case .set = edit {
            var appended: Set<String> = []
            for name in names where seen[name] == nil && !appended.contains(name) {
                appended.insert(name)
                output.append("\(name) = \(values[name] ?? "")")
            }
        }
        return (output.isEmpty ? "" : output.joined(separator: "\n") + "\n", warnings)
    }
}
