/// The text postconf prints for parameters, master.cf entries and master.cf parameters.
enum PostconfReport {
    static let lineLimit = 80

    /// `name = value` (or `name =`), only the value with `-h`, only the name with `-H`; folded at
    /// 80 columns with a four-space indent for `-f`.
    static func line(_ name: String, _ value: String, _ options: PostconfOptions) -> String {
        if options.hideValues { return name + "\n" }
        let text = options.hideNames ? value : (value.isEmpty ? "\(name) =" : "\(name) = \(value)")
        return (options.fold ? fold(text) : text) + "\n"
    }

    static func fold(_ text: String) -> String {
        var out = ""
        var length = 0
        for word in text.split(separator: " ", omittingEmptySubsequences: false) {
            if length > 0, length + 1 + word.count > lineLimit, length > 4 {
                out += "\n    "
                length = 4
            } else if length > 0 {
                out += " "
                length += 1
            }
            out += word
            length += word.count
        }
        return out
    }

    static func parameters(_ options: PostconfOptions, main: MainConfig, usage: ParameterUsage,
                           into output: inout PostconfOutput)
    {
        var known = Set(ParameterRegistry.builtinNames).union(usage.serviceParameters.keys)
        if !options.defaults { known.formUnion(usage.userParameters) }
        func rawValue(_ name: String) -> String {
            if options.defaults { return main.defaultValue(name) ?? usage.serviceParameters[name] ?? "" }
            return main.raw(name) ?? usage.serviceParameters[name] ?? ""
        }
        let lookup: (String) -> String? = { name in
            if options.defaults { return main.defaultValue(name) ?? usage.serviceParameters[name] }
            return main.raw(name) ?? usage.serviceParameters[name]
        }
        let names: [String]
        if options.operands.isEmpty {
            names = known.sorted().filter { !options.nonDefault || main.isExplicit($0) }
        } else {
            names = options.operands
        }
        for name in names {
            guard known.contains(name) else {
                output.stderr.append("postconf: warning: \(name): unknown parameter")
                continue
            }
            if options.nonDefault, !options.defaults, !main.isExplicit(name) { continue }
            var value = rawValue(name)
            if options.expand, !ParameterRegistry.rawParameters.contains(name) {
                do {
                    value = try MacroExpander(lookup: lookup).expand(value)
                } catch {
                    output.stderr += ["postconf: warning: \(error.postfixWarning)", "postconf: fatal: macro processing error"]
                    output.exitCode = 1
                    return
                }
            }
            output.stdout += line(name, value, options)
        }
    }

    /// `-M [service[/type]...]`, with `-f` folding and `-x` expansion of `-o` values.
    static func masterEntries(_ options: PostconfOptions, main: MainConfig, master: MasterConfig?,
                              into output: inout PostconfOutput)
    {
        let services = master?.services ?? []
        func render(_ service: MasterService) -> String {
            guard options.expand else { return service.formatted(fold: options.fold) }
            let scoped = main.overriding(service.overrideTable.merging(["service_name": service.name]) { a, _ in a })
            return service.formatted(fold: options.fold) { (try? scoped.expand($0)) ?? $0 }
        }
        guard !options.operands.isEmpty else {
            for service in services { output.stdout += render(service) }
            return
        }
        var patterns: [(text: String, name: String, type: String?)] = []
        for operand in options.operands {
            let parts = operand.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard parts.count <= 2, !parts[0].isEmpty else {
                output.stderr.append("postconf: fatal: -M option requires service_name[/type]")
                output.exitCode = 1
                return
            }
            patterns.append((operand, parts[0], parts.count == 2 && !parts[1].isEmpty ? parts[1] : nil))
        }
        var matched = Set<String>()
        for service in services {
            for pattern in patterns where pattern.name == service.name
                && (pattern.type == nil || pattern.type == service.type.rawValue)
            {
                matched.insert(pattern.text)
                output.stdout += render(service)
            }
        }
        for pattern in patterns where !matched.contains(pattern.text) {
            output.stderr.append("postconf: warning: unmatched request: \"\(pattern.text)\"")
        }
    }

    /// `-P [service[/type[/name]]...]`: each `-o` setting as `service/type/name = value`, sorted by name.
    static func masterParameters(_ options: PostconfOptions, main: MainConfig, master: MasterConfig?,
                                 into output: inout PostconfOutput)
    {
        let patterns = options.operands.map { $0.split(separator: "/", omittingEmptySubsequences: false).map(String.init) }
        for service in master?.services ?? [] {
            let table = service.overrideTable
            let scoped = main.overriding(table.merging(["service_name": service.name]) { a, _ in a })
            for name in table.keys.sorted() {
                if !patterns.isEmpty, !patterns.contains(where: { p in
                    (p.count < 1 || p[0].isEmpty || p[0] == service.name)
                        && (p.count < 2 || p[1].isEmpty || p[1] == service.type.rawValue)
                        && (p.count < 3 || p[2].isEmpty || p[2] == name)
                }) { continue }
                var value = table[name] ?? ""
                if options.expand { value = (try? scoped.expand(value)) ?? value }
                output.stdout += line("\(service.serviceKey)/\(name)", value, options)
            }
        }
    }
}
