import TernConfig
import TernCore
import TernMaps
import TernQueue

extension ContentChecks {
    /// header_checks, mime_header_checks, nested_header_checks, body_checks (each a list of tables, searched
    /// in order) and body_checks_size_limit from main.cf. The tables must answer at once (regexp:, pcre:,
    /// hash:, cidr:, ...), since cleanup consults them for every line as it arrives.
    /// `receive_override_options = no_header_body_checks` (e.g. `-o` on a content filter's reinjection
    /// service) turns them all off.
    /// - Throws: `FileError` naming the parameter when a table cannot be opened or is of an unusable type.
    static func make(config: MainConfig, open: (String) throws -> any LookupTable) throws -> ContentChecks {
        if try config.list("receive_override_options").contains("no_header_body_checks") { return ContentChecks() }
        // mime_header_checks and nested_header_checks default to $header_checks: one table serves all three.
        var opened: [String: any LookupTable] = [:]
        func table(_ parameter: String) throws -> ContentCheckTable? {
            var tables: [any SynchronousLookupTable] = []
            for spec in try config.list(parameter) {
                let table: any LookupTable
                do {
                    if let known = opened[spec] {
                        table = known
                    } else {
                        table = try open(spec)
                        opened[spec] = table
                    }
                } catch {
                    throw FileError(file: config.file, message: "\(parameter): \(error)")
                }
                guard let synchronous = table as? any SynchronousLookupTable else {
                    throw FileError(file: config.file, message: "\(parameter): table \(spec) cannot be used for content checks")
                }
                tables.append(synchronous)
            }
            guard !tables.isEmpty else { return nil }
            let searched = tables
            return ContentCheckTable(parameter: parameter) { key in
                for table in searched {
                    if let value = try table.lookupNow(key) { return value }
                }
                return nil
            }
        }
        return ContentChecks(
            header: try table("header_checks"), mimeHeader: try table("mime_header_checks"),
            nestedHeader: try table("nested_header_checks"), body: try table("body_checks"),
            bodySizeLimit: config.size("body_checks_size_limit") ?? 51_200)
    }
}
