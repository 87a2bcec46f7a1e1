import Glibc
import TernCore

/// Applies dovecot.conf lines to a `DovecotConfig`, checking names and values against Dovecot's settings
/// the way config-parser.c does, with the same error texts.
struct DovecotConfigBuilder {
    /// Deepest section nesting accepted (Dovecot's own deepest is service { inet_listener { } } inside
    /// local { protocol { } }): a limit against runaway input, far above any real configuration.
    static let maximumNesting = 16
    /// Deepest `!include` chain; deeper is a loop or an attack.
    static let maximumIncludeDepth = 16
    /// Total input accepted over all included files.
    static let maximumTotalSize = 64 << 20

    private struct Frame {
        let kind: String
        let schema: DovecotSchema
        /// Index path of the section inside the current block (empty for a filter).
        let sectionPath: [Int]
        let isFilter: Bool
        let location: DovecotLocation
        var name: String? = nil
    }

    private var config: DovecotConfig
    private var frames: [Frame] = []
    /// Index into `config.filters` of the filter the current lines belong to, nil for global.
    private var filterIndex: Int?
    private var currentFilter = DovecotFilter()
    private var includeStack: [String] = []
    private var totalSize = 0

    init(path: String) {
        config = DovecotConfig(path: path)
    }

    mutating func finish() throws(DovecotConfigError) -> DovecotConfig {
        if let open = frames.last {
            throw DovecotConfigError(
                file: config.path, line: nil, message: "Missing '}' (section started at \(open.location))")
        }
        return config
    }

    mutating func parse(text: String, file: String, depth: Int) throws(DovecotConfigError) {
        totalSize += text.utf8.count
        guard totalSize <= Self.maximumTotalSize else {
            throw DovecotConfigError(file: file, line: nil, message: "Configuration too large")
        }
        includeStack.append(file)
        defer { includeStack.removeLast() }
        config.sourceFiles.append(file)
        for (number, text) in DovecotPhysicalLines.split(text) {
            let location = DovecotLocation(file: file, line: number)
            let parsed: DovecotLineParser.Parsed
            switch DovecotLineParser.parse(text) {
            case .success(let p): parsed = p
            case .failure(let error): throw fail(location, error.message)
            }
            if let warning = parsed.warning {
                config.warnings.append("Configuration file \(file) line \(number): \(warning)")
            }
            guard let line = parsed.line else { continue }
            try apply(line, at: location, depth: depth)
        }
    }

    private func fail(_ location: DovecotLocation, _ message: String) -> DovecotConfigError {
        DovecotConfigError(file: location.file, line: location.line, message: message)
    }

    private var schema: DovecotSchema { frames.last?.schema ?? .root }

    private mutating func apply(_ line: DovecotLine, at location: DovecotLocation, depth: Int) throws(DovecotConfigError) {
        switch line {
        case .setting(let key, let value, let quoted):
            var value = value
            if !quoted, value.contains("$" + key) { value = expandSelf(key, in: value) }
            try set(key, DovecotValue(value: value, filePath: nil, location: location), normalize: true)
        case .fileSetting(let key, let path):
            try set(key, DovecotValue(value: "<" + path, filePath: path, location: location), normalize: false)
        case .sectionStart(let kind, let name):
            try open(kind, name: name, at: location)
        case .sectionEnd:
            guard let frame = frames.popLast() else { throw fail(location, "Unexpected '}'") }
            if frame.isFilter { popFilter() }
        case .include(let pattern, let optional):
            try include(pattern, optional: optional, at: location, depth: depth)
        }
    }

    // MARK: settings

    private mutating func set(_ key: String, _ raw: DovecotValue, normalize: Bool) throws(DovecotConfigError) {
        let schema = self.schema
        var value = raw
        if schema.listKind != .freeForm {
            guard schema.settings[key] != nil else {
                let path = frames.filter { !$0.isFilter }.map(\.kind) + [key]
                throw fail(raw.location, "Unknown setting: " + path.joined(separator: " { "))
            }
            if normalize {
                switch schema.normalize(key, raw.value) {
                case .success(let normalized):
                    value = DovecotValue(value: normalized, filePath: nil, location: raw.location)
                case .failure(let error): throw fail(raw.location, error.message)
                }
            }
        }
        modifyCurrentBlock { $0.settings[key] = value }
    }

    /// `key = $key more`: Dovecot 2.3 replaces a reference to the setting itself with its current value
    /// (other `$name`s stay as written).
    private func expandSelf(_ key: String, in value: String) -> String {
        let current = currentValue(key) ?? ""
        var out = ""
        var rest = Substring(value)
        while let range = rest.firstRange(of: "$" + key) {
            let after = rest[range.upperBound...]
            out += rest[..<range.lowerBound]
            if let next = after.first, next.isLetter || next.isNumber || next == "_" {
                out += rest[range]
            } else {
                out += current
            }
            rest = after
        }
        return out + rest
    }

    private func currentValue(_ key: String) -> String? {
        var found: String?
        withCurrentBlock { found = $0.settings[key]?.value }
        if let found { return found }
        if frames.allSatisfy(\.isFilter) {
            return config.global.settings[key]?.value ?? DovecotSchema.root.settings[key]?.defaultValue
        }
        return schema.settings[key]?.defaultValue
    }

    // MARK: sections and filters

    private static let filterKinds: Set<String> = ["protocol", "local", "remote", "local_name"]

    private mutating func open(_ kind: String, name: String?, at location: DovecotLocation) throws(DovecotConfigError) {
        guard frames.count < Self.maximumNesting else { throw fail(location, "Sections nested too deeply") }
        if Self.filterKinds.contains(kind), frames.allSatisfy(\.isFilter) {
            guard let name, !name.isEmpty else { throw fail(location, "\(kind) must have a name") }
            var filter = currentFilter
            filter.set(kind, name)
            pushFilter(filter)
            frames.append(Frame(kind: kind, schema: .root, sectionPath: [], isFilter: true, location: location, name: name))
            return
        }
        guard let child = schema.sections[kind], schema.listKind != .freeForm else {
            let path = frames.filter { !$0.isFilter }.map(\.kind) + [kind, kind]
            throw fail(location, "Unknown setting: " + path.joined(separator: " { "))
        }
        let parentPath = frames.last.map { $0.isFilter ? [] : $0.sectionPath } ?? []
        var index = 0
        modifyCurrentBlock { block in
            let existing = block.sections.firstIndex { section in
                section.kind == kind && (child.listKind == .freeForm || (child.listKind == .unique && section.name == name))
            }
            if let existing {
                index = existing
            } else {
                let elementName = child.listKind == .unique ? (name ?? "") : nil
                var section = DovecotSection(kind: kind, name: elementName, block: DovecotBlock(), location: location)
                if child.listKind == .ordered, let name {
                    section.block.settings["name"] = DovecotValue(value: name, filePath: nil, location: location)
                }
                block.sections.append(section)
                index = block.sections.count - 1
            }
        }
        frames.append(Frame(kind: kind, schema: child, sectionPath: parentPath + [index], isFilter: false, location: location))
    }

    private mutating func pushFilter(_ filter: DovecotFilter) {
        currentFilter = filter
        if let existing = config.filters.firstIndex(where: { $0.filter == filter }) {
            filterIndex = existing
        } else {
            config.filters.append((filter, DovecotBlock()))
            filterIndex = config.filters.count - 1
        }
    }

    /// After a filter's `}`: back to the filter the still open filter sections make up (global if none).
    private mutating func popFilter() {
        let open = frames.filter(\.isFilter)
        guard !open.isEmpty else {
            currentFilter = DovecotFilter()
            filterIndex = nil
            return
        }
        var filter = DovecotFilter()
        for frame in open { filter.set(frame.kind, frame.name) }
        pushFilter(filter)
    }

    private func withCurrentBlock(_ body: (DovecotBlock) -> Void) {
        let path = frames.last.map { $0.isFilter ? [] : $0.sectionPath } ?? []
        var block = filterIndex.map { config.filters[$0].block } ?? config.global
        for index in path { block = block.sections[index].block }
        body(block)
    }

    private mutating func modifyCurrentBlock(_ body: (inout DovecotBlock) -> Void) {
        let path = frames.last.map { $0.isFilter ? [] : $0.sectionPath } ?? []
        func descend(_ block: inout DovecotBlock, _ path: ArraySlice<Int>) {
            guard let first = path.first else { return body(&block) }
            descend(&block.sections[first].block, path.dropFirst())
        }
        if let filterIndex {
            descend(&config.filters[filterIndex].block, path[...])
        } else {
            descend(&config.global, path[...])
        }
    }

    // MARK: includes

    private mutating func include(
        _ pattern: String, optional: Bool, at location: DovecotLocation, depth: Int
    ) throws(DovecotConfigError) {
        guard depth < Self.maximumIncludeDepth else { throw fail(location, "Too deeply nested !include") }
        let resolved = DovecotIncludes.resolve(pattern, relativeTo: location.file)
        let files = DovecotIncludes.glob(resolved)
        if files.isEmpty {
            if optional { return }
            throw fail(location, "No matches")
        }
        for file in files {
            if includeStack.contains(file) { throw fail(location, "Recursive include file: \(file)") }
            let text: String
            do throws(FileError) {
                text = try ConfigFile.read(file)
            } catch {
                if optional, errno == ENOENT || errno == EACCES { continue }
                throw fail(location, DovecotIncludes.openMessage(error))
            }
            try parse(text: text, file: file, depth: depth + 1)
        }
    }
}

/// `!include` paths: relative to the including file's directory, globbed and sorted like glob(3).
enum DovecotIncludes {
    static func resolve(_ pattern: String, relativeTo file: String) -> String {
        if pattern.hasPrefix("/") { return pattern }
        guard let slash = file.lastIndex(of: "/") else { return pattern }
        return String(file[...slash]) + pattern
    }

    static func glob(_ pattern: String) -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        guard Glibc.glob(pattern, 0, nil, &result) == 0 else { return [] }
        var files: [String] = []
        for i in 0..<Int(result.gl_pathc) {
            if let path = result.gl_pathv[i] { files.append(String(cString: path)) }
        }
        return files
    }

    /// `open(/x) failed: No such file or directory` from ConfigFile's `open /x: No such file or directory`.
    static func openMessage(_ error: FileError) -> String {
        let prefix = "open \(error.file): "
        if error.message.hasPrefix(prefix) {
            return "open(\(error.file)) failed: " + error.message.dropFirst(prefix.count)
        }
        return error.message
    }
}

extension DovecotFilter {
    fileprivate mutating func set(_ kind: String, _ name: String?) {
        switch kind {
        case "protocol": protocolName = name
        case "local": local = name
        case "remote": remote = name
        default: localName = name
        }
    }
}
