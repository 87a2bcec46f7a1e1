/// Dovecot's built-in services (imap-login with its imap/imaps listeners, auth, ...) merged with the
/// `service` sections of the file: a file's `service imap-login { inet_listener imaps { port = 994 } }`
/// changes one setting of the built-in service, as in Dovecot.
extension DovecotConfig {
    /// The global block with the built-in services merged in.
    public func effectiveGlobal() -> DovecotBlock {
        var merged = global
        let builtin = Self.builtinBlock
        var services = builtin.sections("service")
        for section in global.sections("service") {
            if let index = services.firstIndex(where: { $0.name == section.name }) {
                services[index].block.merge(section.block)
            } else {
                services.append(section)
            }
        }
        merged.sections = global.sections.filter { $0.kind != "service" } + services
        return merged
    }

    static let builtinBlock: DovecotBlock = {
        let location = DovecotLocation(file: "<built-in>", line: 0)
        func convert(_ block: DovecotDefaultsText.Block) -> DovecotBlock {
            var out = DovecotBlock()
            for (key, value) in block.settings {
                out.settings[key] = DovecotValue(value: value, filePath: nil, location: location)
            }
            for child in block.children {
                out.sections.append(
                    DovecotSection(kind: child.kind, name: child.name ?? "", block: convert(child.block), location: location))
            }
            return out
        }
        var top = DovecotDefaultsText.parse(DovecotDefaults.all)
        top.settings = []
        return convert(top)
    }()
}

extension DovecotBlock {
    /// Settings of `other` replace these; its named sections merge into the same-named ones.
    mutating func merge(_ other: DovecotBlock) {
        for (key, value) in other.settings { settings[key] = value }
        for section in other.sections {
            if section.name != nil, let index = sections.firstIndex(where: { $0.kind == section.kind && $0.name == section.name }) {
                sections[index].block.merge(section.block)
            } else {
                sections.append(section)
            }
        }
    }
}
