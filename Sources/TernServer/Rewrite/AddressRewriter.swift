import Foundation
import TernConfig
import TernCore
import TernMaps
import TernPolicy
import TernSMTP

/// The address rewriting of Postfix's cleanup(8), in its order: bare names get `@$myorigin`, then
/// sender_canonical_maps or recipient_canonical_maps, canonical_maps, masquerade_domains (each for the
/// address classes its `_classes` parameter names), and for envelope recipients virtual_alias_maps
/// (canonical(5), virtual(5), ADDRESS_REWRITING_README).
struct AddressRewriter: Sendable {
    /// The address classes of canonical_classes and masquerade_classes.
    enum AddressClass: String, Sendable, CaseIterable {
        case envelopeSender = "envelope_sender"
        case envelopeRecipient = "envelope_recipient"
        case headerSender = "header_sender"
        case headerRecipient = "header_recipient"
    }

    /// One canonical parameter: its tables and the classes they apply to.
    struct CanonicalMaps: Sendable {
        let parameter: String
        let tables: [any LookupTable]
        let classes: Set<AddressClass>
    }

    let myorigin: String
    let classifier: AddressClassifier
    let delimiter: String
    /// sender_canonical_maps, recipient_canonical_maps, canonical_maps: cleanup tries the specific one first.
    let canonical: [CanonicalMaps]
    let masquerade: Masquerade
    let masqueradeClasses: Set<AddressClass>
    let virtualAliasMaps: [any LookupTable]
    let recursionLimit: Int
    let expansionLimit: Int
    /// propagate_unmatched_extensions: `canonical` and `virtual`.
    let propagateCanonical: Bool
    let propagateVirtual: Bool
    /// sender_bcc_maps and recipient_bcc_maps.
    let bcc: BccMaps

    init(config: MainConfig, classifier: AddressClassifier, open: (String) throws -> any LookupTable) throws {
        myorigin = config.value("myorigin")
        self.classifier = classifier
        delimiter = config.value("recipient_delimiter")
        // receive_override_options = no_address_mappings turns off canonical, masquerade and virtual alias.
        let mappings = !(try config.list("receive_override_options")).contains("no_address_mappings")
        func classes(_ name: String) throws -> Set<AddressClass> {
            Set(try config.list(name).compactMap { AddressClass(rawValue: $0.lowercased()) })
        }
        var canonical: [CanonicalMaps] = []
        for name in ["sender_canonical", "recipient_canonical", "canonical"] where mappings {
            let tables = try config.list("\(name)_maps").map(open)
            if !tables.isEmpty {
                canonical.append(
                    CanonicalMaps(parameter: "\(name)_maps", tables: tables, classes: try classes("\(name)_classes")))
            }
        }
        self.canonical = canonical
        masquerade = Masquerade(
            domains: mappings ? try config.list("masquerade_domains") : [],
            exceptions: try config.list("masquerade_exceptions"))
        masqueradeClasses = try classes("masquerade_classes")
        virtualAliasMaps = mappings ? try config.list("virtual_alias_maps").map(open) : []
        recursionLimit = config.int("virtual_alias_recursion_limit") ?? 1000
        expansionLimit = config.int("virtual_alias_expansion_limit") ?? 1000
        let propagate = Set(try config.list("propagate_unmatched_extensions"))
        propagateCanonical = propagate.contains("canonical")
        propagateVirtual = propagate.contains("virtual")
        bcc = BccMaps(
            sender: mappings ? try config.list("sender_bcc_maps").map(open) : [],
            recipient: mappings ? try config.list("recipient_bcc_maps").map(open) : [])
    }

    /// Whether any map or masquerading is configured: without, only bare names are qualified.
    var isConfigured: Bool {
        !canonical.isEmpty || !masquerade.isEmpty || !virtualAliasMaps.isEmpty || !bcc.isEmpty
    }

    /// Whether header addresses of mail from local_header_rewrite_clients can change.
    var rewritesHeaders: Bool {
        let header: Set<AddressClass> = [.headerSender, .headerRecipient]
        return canonical.contains { !$0.classes.isDisjoint(with: header) }
            || (!masquerade.isEmpty && !masqueradeClasses.isDisjoint(with: header))
    }

    /// A domain for which canonical(5) and virtual(5) also look up the bare `user`: $myorigin,
    /// $mydestination, $inet_interfaces, $proxy_interfaces.
    func isLocal(domain: String) async throws -> Bool {
        if domain.lowercased() == myorigin.lowercased() { return true }
        return try await classifier.classify(domain: domain) == .local
    }

    /// Whether the address's domain is local (a bare name is).
    private func isLocal(address: String) async throws -> Bool {
        guard let at = address.lastIndex(of: "@") else { return true }
        return try await isLocal(domain: String(address[address.index(after: at)...]))
    }

    /// trivial-rewrite's rewrite_tree(): `user` becomes `user@$myorigin` (append_at_myorigin), and one
    /// trailing dot goes from the domain (`user@example.com.`; not from `..` or `@.`).
    func qualify(_ address: String) -> String {
        guard !address.isEmpty else { return address }
        guard address.contains("@") else { return "\(address)@\(myorigin)" }
        guard address.hasSuffix("."), !address.hasSuffix(".."), !address.hasSuffix("@.") else { return address }
        return String(address.dropLast())
    }

    /// Qualification, canonical mapping and masquerading of one address of the given class.
    func rewrite(_ address: String, as addressClass: AddressClass) async throws(RewriteError) -> String {
        var result = qualify(address)
        for maps in canonical where maps.classes.contains(addressClass) {
            result = try await canonicalize(result, maps)
        }
        if masqueradeClasses.contains(addressClass) { result = masquerade.apply(to: result) }
        return result
    }

    /// cleanup_map11: the first result replaces the address; looked up again until it maps to itself, at
    /// most 10 times (Postfix's MAX_RECURSION).
    private func canonicalize(_ address: String, _ maps: CanonicalMaps) async throws(RewriteError) -> String {
        var current = address
        for _ in 0..<10 {
            guard
                let results = try await lookup(
                    current, in: maps.tables, parameter: maps.parameter, propagate: propagateCanonical),
                let first = results.first
            else { return current }
            let previous = current
            current = first
            if previous.lowercased() == current.lowercased() { return current }
        }
        throw RewriteError(kind: .nesting, parameter: maps.parameter, address: address)
    }

    /// Whether recipient_canonical_maps, canonical_maps or virtual_alias_maps has an entry for a recipient:
    /// smtpd then accepts it whatever its address class.
    func listsRecipient(_ address: String) async throws -> Bool {
        let tables = canonical.filter { $0.parameter != "sender_canonical_maps" }.flatMap(\.tables) + virtualAliasMaps
        guard !tables.isEmpty else { return false }
        let local = try await isLocal(address: address)
        for table in tables {
            if try await AddressSearch.virtual(address: address, table: table, delimiter: delimiter, localDomain: local)
                != nil
            {
                return true
            }
        }
        return false
    }

    /// cleanup_map1n: expands an envelope recipient through virtual_alias_maps, breadth first. An address
    /// that maps to itself (directly or as one of its results) is not looked up again.
    func expand(_ address: String) async throws(RewriteError) -> [String] {
        guard !virtualAliasMaps.isEmpty else { return [address] }
        var addresses = [address]
        var expandedToSelf = Set<String>()
        var index = 0
        while index < addresses.count {
            if addresses.count > expansionLimit {
                throw RewriteError(kind: .expansionSize, parameter: "virtual_alias_maps", address: address)
            }
            var depth = 0
            while !expandedToSelf.contains(addresses[index].lowercased()) {
                if depth >= recursionLimit {
                    throw RewriteError(kind: .nesting, parameter: "virtual_alias_maps", address: address)
                }
                depth += 1
                let current = addresses[index]
                guard
                    let results = try await lookup(
                        current, in: virtualAliasMaps, parameter: "virtual_alias_maps", propagate: propagateVirtual),
                    !results.isEmpty
                else { break }
                // Results are rewritten like any address: a bare name is in $myorigin.
                let qualified = results.map(qualify)
                addresses[index] = qualified[0]
                addresses += qualified.dropFirst()
                if qualified.contains(where: { $0.lowercased() == current.lowercased() }) {
                    expandedToSelf.insert(current.lowercased())
                }
            }
            index += 1
        }
        return addresses
    }

    /// mail_addr_map(3): the virtual(5) search order over the tables, the result split at commas, `@domain`
    /// results keep the localpart, and an extension the match did not include is carried over
    /// (propagate_unmatched_extensions).
    func lookup(
        _ address: String, in tables: [any LookupTable], parameter: String, propagate: Bool
    ) async throws(RewriteError) -> [String]? {
        do {
            let at = address.lastIndex(of: "@")
            let local = try await isLocal(address: address)
            for table in tables {
                guard
                    let match = try await AddressSearch.virtual(
                        address: address, table: table, delimiter: delimiter, localDomain: local)
                else { continue }
                let localpart = at.map { String(address[..<$0]) } ?? address
                let unmatched = propagate ? unmatchedExtension(address, key: match.key) : nil
                return match.value.split(separator: ",").compactMap { item in
                    let value = item.trimmingCharacters(in: .whitespaces)
                    if value.isEmpty { return nil }
                    if value.hasPrefix("@") { return localpart + value }
                    guard let unmatched else { return value }
                    guard let valueAt = value.lastIndex(of: "@") else { return value + unmatched }
                    return value[..<valueAt] + unmatched + value[valueAt...]
                }
            }
            return nil
        } catch {
            throw RewriteError(kind: .lookup, parameter: parameter, address: address)
        }
    }

    /// `+ext` (with the delimiter that was in the address) when the key that matched was the address without
    /// its extension (`user@domain` or `user`); a match on the full address or on `@domain` carries none.
    private func unmatchedExtension(_ address: String, key: String) -> String? {
        let at = address.lastIndex(of: "@")
        let localpart = at.map { String(address[..<$0]) } ?? address
        guard let split = AddressSearch.splitExtension(localpart, delimiters: delimiter) else { return nil }
        let domain = at.map { address[$0...] } ?? ""
        guard key == split.base || key == split.base + domain else { return nil }
        let delimiterCharacter = localpart[localpart.index(localpart.startIndex, offsetBy: split.base.count)]
        return "\(delimiterCharacter)\(split.extension)"
    }
}

/// A lookup failed or a mapping went too deep or too wide; cleanup refuses the message for now.
struct RewriteError: Error, Sendable, Equatable {
    enum Kind: Sendable { case lookup, nesting, expansionSize }
    let kind: Kind
    let parameter: String
    let address: String

    /// cleanup's warning, after `QUEUEID: `.
    var logText: String {
        let what: String
        switch kind {
        case .lookup: what = "\(parameter) map lookup problem"
        case .nesting: what = "unreasonable \(parameter) map nesting"
        case .expansionSize: what = "unreasonable \(parameter) map expansion size"
        }
        return "\(what) for \(address) -- message not accepted, try again later"
    }

    /// smtpd's reply: cleanup's `4.6.0 Alias expansion error` for virtual aliases, else a write error.
    var reply: SMTPReply {
        parameter == "virtual_alias_maps"
            ? SMTPReply(code: 451, enhancedStatus: "4.6.0", "Alias expansion error") : .queueFileWriteError
    }
}
