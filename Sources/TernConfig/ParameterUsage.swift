/// Which parameter names a configuration uses, and the warnings postconf(1) prints about the rest
/// (postconf_user.c, postconf_unused.c, postconf_service.c):
/// - built-in names are known; so are service-defined names derived from master.cf services that run
///   a delivery agent (`relay_destination_concurrency_limit` for a `relay ... smtp` service);
/// - a user-defined name is valid when it is listed in smtpd_restriction_classes or referenced as
///   `$name` from another value, and has a `name = value` of its own;
/// - anything else in main.cf or in a master.cf `-o` is an "unused parameter".
public struct ParameterUsage: Sendable {
    /// Service-defined parameter names with their defaults.
    public let serviceParameters: [String: String]
    /// Valid user-defined names in main.cf's (global) name space.
    public let userParameters: Set<String>
    /// The warnings, in the order postconf would print them (file order here; Postfix's is hash order).
    public let warnings: [String]

    public init(main: MainConfig, master: MasterConfig?) {
        let directory = main.configDirectory
        let mainFile = directory + "/main.cf"
        let masterFile = directory + "/master.cf"
        let services = master?.services ?? []

        var serviceParameters: [String: String] = [:]
        for service in services {
            serviceParameters.merge(
                ParameterRegistry.serviceParameters(service: service.name, command: service.command)) { a, _ in a }
        }
        func isKnown(_ name: String) -> Bool {
            ParameterRegistry.isBuiltin(name) || serviceParameters[name] != nil
        }

        var warnings: [String] = []
        var global: Set<String> = []
        var local: [Set<String>] = Array(repeating: [], count: services.count)
        let overrides = services.map { $0.overrideTable }

        // A $name (or class name) validates a name=value in its own scope, else in main.cf, and a
        // reference from main.cf also validates any master.cf -o of that name.
        func flag(_ name: String, scope: Int?, warnUndefined: Bool) {
            var supplied = false
            if let scope, overrides[scope][name] != nil {
                supplied = true
                local[scope].insert(name)
            } else if main.explicitValue(name) != nil || (name == "config_directory") {
                supplied = true
                global.insert(name)
            }
            if scope == nil {
                for (index, table) in overrides.enumerated() where table[name] != nil {
                    supplied = true
                    local[index].insert(name)
                }
            }
            if warnUndefined, !supplied, !isKnown(name) {
                warnings.append("\(scope == nil ? mainFile : masterFile): undefined parameter: \(name)")
            }
        }
        func scanValue(_ value: String, scope: Int?, warnUndefined: Bool = true) {
            for name in MacroExpander.references(in: value) {
                flag(name, scope: scope, warnUndefined: warnUndefined)
            }
        }

        let globalClasses = MainConfig.splitList(main.value("smtpd_restriction_classes"))
        for (index, service) in services.enumerated() {
            if let classes = overrides[index]["smtpd_restriction_classes"] {
                for name in MainConfig.splitList((try? main.expand(classes)) ?? classes) {
                    flag(name, scope: index, warnUndefined: false)
                }
            }
            for (name, value) in service.overrides {
                if globalClasses.contains(name) { local[index].insert(name) }
                if ParameterRegistry.rawParameters.contains(name) { continue }
                scanValue(value, scope: index)
            }
        }
        for name in ParameterRegistry.builtinNames where main.explicitValue(name) == nil {
            if ParameterRegistry.rawParameters.contains(name) { continue }
            // Defaults name legacy parameters (`${lmtp_per_record_deadline?...}`); Postfix does not warn.
            if let value = main.defaultValue(name) { scanValue(value, scope: nil, warnUndefined: false) }
        }
        for name in globalClasses { flag(name, scope: nil, warnUndefined: false) }
        for entry in main.entries {
            if ParameterRegistry.readOnlyParameters.contains(entry.name) {
                warnings.append("\(mainFile): read-only parameter assignment: \(entry.name)=\(entry.value)")
                continue
            }
            if ParameterRegistry.rawParameters.contains(entry.name) { continue }
            scanValue(entry.value, scope: nil)
        }

        var lastIndex: [String: Int] = [:]
        for (index, entry) in main.entries.enumerated() { lastIndex[entry.name] = index }
        for (index, entry) in main.entries.enumerated() where lastIndex[entry.name] == index {
            if ParameterRegistry.readOnlyParameters.contains(entry.name) { continue }
            if !isKnown(entry.name) && !global.contains(entry.name) {
                warnings.append("\(mainFile): unused parameter: \(entry.name)=\(entry.value)")
            }
        }
        for index in services.indices {
            for (name, value) in overrides[index].sorted(by: { $0.key < $1.key })
            where !isKnown(name) && !global.contains(name) && !local[index].contains(name) {
                warnings.append("\(masterFile): unused parameter: \(name)=\(value)")
            }
        }
        self.serviceParameters = serviceParameters
        self.userParameters = global
        self.warnings = warnings
    }
}
