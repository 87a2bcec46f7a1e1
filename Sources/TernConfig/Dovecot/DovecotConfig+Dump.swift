/// `doveconf -n` / `-a` output: every printed setting becomes a path (`namespace/inbox/mailbox/Sent/auto`),
/// the paths are sorted as doveconf sorts them (section names escaped as `settings_section_escape()` does,
/// which puts `Sent` before `Sent Messages`), and the sections are opened and closed around them with
/// two-space indents. Filter blocks (`protocol imap { }`, `local ... { }`) follow, least specific first.
extension DovecotConfig {
    public enum DumpScope: Sendable {
        /// `-n`: what the file changes.
        case changed
        /// `-a`: every setting with its value.
        case all
    }

    /// The body of `doveconf -n` or `-a` (without the `#` header lines). Values of settings that hold
    /// secrets are replaced unless `showPasswords` (`-P`).
    public func dump(_ scope: DumpScope, showPasswords: Bool = false) -> String {
        var out = ""
        var entries: [DumpEntry] = []
        let global = scope == .all ? effectiveGlobal() : global
        collect(global, schema: .root, scope: scope == .all ? .all : .changedGlobal, into: &entries)
        render(entries, indent: 0, showPasswords: showPasswords, into: &out)
        for (filter, block) in sortedFilters() {
            var filterEntries: [DumpEntry] = []
            collect(block, schema: .root, scope: .explicit, into: &filterEntries)
            if filterEntries.isEmpty { continue }
            var headers: [String] = []
            if let local = filter.local { headers.append("local \(local)") }
            if let name = filter.localName { headers.append("local_name \(name)") }
            if let remote = filter.remote { headers.append("remote \(remote)") }
            if let name = filter.protocolName { headers.append("protocol \(name)") }
            for (depth, header) in headers.enumerated() { out += indentation(depth) + header + " {\n" }
            render(filterEntries, indent: headers.count, showPasswords: showPasswords, into: &out)
            for depth in (0..<headers.count).reversed() { out += indentation(depth) + "}\n" }
        }
        return out
    }

    /// Filters in doveconf's order: by local_name, local and remote network size, then protocol.
    func sortedFilters() -> [(filter: DovecotFilter, block: DovecotBlock)] {
        func bits(_ net: String?) -> Int {
            guard let net else { return 0 }
            if let slash = net.firstIndex(of: "/"), let n = Int(net[net.index(after: slash)...]) { return n }
            return net.contains(":") ? 128 : 32
        }
        func key(_ f: DovecotFilter) -> [Int] {
            [f.localName == nil ? 0 : 1, bits(f.local), bits(f.remote), f.protocolName == nil ? 0 : 1]
        }
        return filters.enumerated().sorted { a, b in
            let ka = key(a.element.filter)
            let kb = key(b.element.filter)
            return ka == kb ? a.offset < b.offset : ka.lexicographicallyPrecedes(kb)
        }.map(\.element)
    }

    private enum CollectScope {
        /// Top level of `-n`: set and different from the default.
        case changedGlobal
        /// Inside filters and named sections of `-n`: everything set.
        case explicit
        case all
    }

    private struct DumpEntry {
        var sortKey: [UInt8]
        /// (identity, header) of each enclosing section.
        var sections: [(id: String, header: String)]
        var key: String
        var value: String
    }

    private func collect(
        _ block: DovecotBlock, schema: DovecotSchema, scope: CollectScope, into entries: inout [DumpEntry],
        prefix: String = "", sections: [(id: String, header: String)] = []
    ) {
        var printed: [String: String] = [:]
        for (key, value) in block.settings {
            let defaultValue = schema.settings[key]?.defaultValue
            switch scope {
            case .changedGlobal where value.value == defaultValue: continue
            default: printed[key] = value.value
            }
        }
        if scope == .all {
            for (key, setting) in schema.settings where printed[key] == nil { printed[key] = setting.defaultValue }
        } else if schema.path == "namespace" {
            // doveconf -n always shows these two for a namespace.
            for key in ["location", "prefix"] where printed[key] == nil {
                printed[key] = schema.settings[key]?.defaultValue ?? ""
            }
        }
        for (key, value) in printed {
            entries.append(
                DumpEntry(sortKey: Array((prefix + key).utf8), sections: sections, key: key, value: value))
        }
        for (index, section) in block.sections.enumerated() {
            guard let child = schema.sections[section.kind] else { continue }
            let elementName = section.name ?? (child.listKind == .ordered ? String(index) : "")
            let id = section.kind + "/" + Self.escape(elementName) + "/"
            var header = section.kind
            if let name = section.name, !name.isEmpty, child.listKind == .unique {
                header += " " + (name.contains(" ") ? "\"\(name)\"" : name)
            }
            let childScope: CollectScope
            switch scope {
            case .all: childScope = .all
            case .changedGlobal where child.listKind == .ordered: childScope = .changedGlobal
            default: childScope = .explicit
            }
            collect(
                section.block, schema: child, scope: childScope, into: &entries, prefix: prefix + id,
                sections: sections + [(prefix + id, header)])
        }
    }

    /// Dovecot's `settings_section_escape()`.
    static func escape(_ name: String) -> String {
        var out = ""
        for c in name {
            switch c {
            case "=": out += "\\e"
            case "/": out += "\\s"
            case "\\": out += "\\\\"
            case " ": out += "\\_"
            case ",": out += "\\+"
            default: out.append(c)
            }
        }
        return out
    }

    private func render(_ entries: [DumpEntry], indent: Int, showPasswords: Bool, into out: inout String) {
        let sorted = entries.sorted { $0.sortKey.lexicographicallyPrecedes($1.sortKey) }
        var open: [String] = []
        for entry in sorted {
            var common = 0
            while common < open.count, common < entry.sections.count, open[common] == entry.sections[common].id {
                common += 1
            }
            while open.count > common {
                open.removeLast()
                out += indentation(indent + open.count) + "}\n"
            }
            for section in entry.sections[common...] {
                out += indentation(indent + open.count) + section.header + " {\n"
                open.append(section.id)
            }
            out += indentation(indent + open.count) + entry.key + " = "
            out += Self.display(entry.key, entry.value, showPasswords: showPasswords) + "\n"
        }
        while !open.isEmpty {
            open.removeLast()
            out += indentation(indent + open.count) + "}\n"
        }
    }

    /// How doveconf prints a value: secrets hidden, quoted when it has a `#` or blanks at either end.
    static func display(_ key: String, _ value: String, showPasswords: Bool) -> String {
        if !showPasswords, !value.isEmpty, isSecret(key) { return "# hidden, use -P to show it" }
        guard let first = value.first, let last = value.last else { return value }
        if value.contains("#") || first == " " || first == "\t" || last == " " || last == "\t" {
            return "\"" + value + "\""
        }
        return value
    }

    static func isSecret(_ key: String) -> Bool {
        key.hasSuffix("_key") || key.hasSuffix("password") || key == "ssl_dh"
    }

    private func indentation(_ depth: Int) -> String {
        String(repeating: "  ", count: depth)
    }
}
