import TernMIME

extension AddressRewriter {
    /// Rewrites the addresses of one logical header (folded lines joined by LF, no final line end) for its
    /// class; other headers, and headers that are not UTF-8, come back unchanged.
    func rewriteHeader(_ header: [UInt8]) async throws(RewriteError) -> [UInt8] {
        guard let name = AddressHeader.addressHeaderName(header) else { return header }
        let addressClass: AddressClass = AddressHeader.senderHeaders.contains(name) ? .headerSender : .headerRecipient
        var rewritten: [String: String] = [:]
        for address in AddressHeader.addresses(in: header) where rewritten[address] == nil {
            rewritten[address] = try await rewrite(address, as: addressClass)
        }
        return AddressHeader.mapAddresses(header) { rewritten[$0] ?? $0 } ?? header
    }

    /// A held header section (Cleanup's `heldHeaders`) rewritten and joined into the bytes for the queue file.
    func rewriteHeaderSection(_ headers: [[UInt8]]) async throws(RewriteError) -> [UInt8] {
        var bytes: [UInt8] = []
        for header in headers {
            bytes += try await rewriteHeader(header)
            bytes.append(UInt8(ascii: "\n"))
        }
        return bytes
    }
}
