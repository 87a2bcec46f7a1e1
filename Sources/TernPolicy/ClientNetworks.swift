public import TernCore

/// `mynetworks`: explicit CIDR patterns, or networks derived from the machine's interfaces by
/// `mynetworks_style` (host, subnet, class) when mynetworks is not set (postconf(5)).
public struct ClientNetworks: Sendable {
    public enum Style: String, Sendable { case host, subnet, `class` }

    public let networks: [IPNetwork]
    /// type:table elements of the list, consulted by client address after the networks.
    public let tables: [any LookupTable]

    public init(networks: [IPNetwork], tables: [any LookupTable] = []) {
        self.networks = networks
        self.tables = tables
    }

    /// Networks of the local interfaces according to `style`.
    public static func derived(style: Style) -> ClientNetworks {
        var result: [IPNetwork] = []
        for interface in LocalInterfaces.all() {
            let bits: Int
            switch style {
            case .host: bits = interface.address.isIPv4 ? 32 : 128
            case .subnet: bits = interface.prefixLength
            case .class:
                let first = interface.address.bytes[12]
                bits = interface.address.isIPv4 ? (first < 128 ? 8 : first < 192 ? 16 : 24) : interface.prefixLength
            }
            let text = interface.address.isIPv4 ? "\(interface.address)/\(bits)" : "[\(interface.address)]/\(bits)"
            if let network = IPNetwork(text) { result.append(network) }
        }
        return ClientNetworks(networks: result)
    }

    /// `mynetworks` postconf -d shows for this host (what `derived(style:)` matches), canonical text.
    public var text: String { networks.map(\.description).joined(separator: " ") }

    public func contains(_ address: IPAddress) async throws -> Bool {
        if networks.contains(where: { $0.contains(address) }) { return true }
        for table in tables where try await table.lookup(address.description) != nil {
            return true
        }
        return false
    }
}
