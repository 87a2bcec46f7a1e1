public import TernCore

/// How trivial-rewrite(8) classifies a recipient domain (ADDRESS_CLASS_README): the local domains
/// (mydestination and the machine's own address literals), virtual alias and virtual mailbox domains,
/// relay domains, and everything else (the default class, delivered by default_transport).
public enum AddressClass: Sendable, Equatable {
    case local, virtualAlias, virtualMailbox, relay, remote
}

/// The domain lists that decide an address's class.
public struct AddressClassifier: Sendable {
    public let mydestination: DomainList
    public let virtualAliasDomains: DomainList
    public let virtualMailboxDomains: DomainList
    public let relayDomains: DomainList
    /// Address literals that are this machine (inet_interfaces / proxy_interfaces), e.g. `127.0.0.1`.
    public let localAddresses: [IPAddress]

    public init(
        mydestination: DomainList, virtualAliasDomains: DomainList, virtualMailboxDomains: DomainList,
        relayDomains: DomainList, localAddresses: [IPAddress]
    ) {
        self.mydestination = mydestination
        self.virtualAliasDomains = virtualAliasDomains
        self.virtualMailboxDomains = virtualMailboxDomains
        self.relayDomains = relayDomains
        self.localAddresses = localAddresses
    }

    public func classify(domain: String?) async throws -> AddressClass {
        guard let domain, !domain.isEmpty else { return .local }
        if domain.hasPrefix("[") {
            if let literal = IPAddress(domain), localAddresses.contains(literal) { return .local }
            return .remote
        }
        if try await mydestination.contains(domain) { return .local }
        if try await virtualAliasDomains.contains(domain) { return .virtualAlias }
        if try await virtualMailboxDomains.contains(domain) { return .virtualMailbox }
        if try await relayDomains.contains(domain) { return .relay }
        return .remote
    }

    /// Whether mail for `domain` is for a destination this machine is authorised for:
    /// what permit_auth_destination / reject_unauth_destination test.
    public func isAuthorizedDestination(domain: String?) async throws -> Bool {
        try await classify(domain: domain) != .remote
    }
}
