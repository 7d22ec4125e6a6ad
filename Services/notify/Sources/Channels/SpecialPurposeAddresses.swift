import PinganConnect

/// One block of addresses: a prefix, and why a webhook may not go there.
struct AddressBlock: Sendable, CustomStringConvertible {
    /// What a delivery to an address of the block means.
    enum Treatment: Sendable, Equatable {
        /// Refused: the block is not the public internet.
        case refused(String)
        /// The last 32 bits are an IPv4 address that the connection reaches (IPv4-mapped, or
        /// translated by NAT64): judged as that address.
        case embedsIPv4
    }

    /// The block's first address: 4 bytes for IPv4, 16 for IPv6.
    let network: [UInt8]
    let prefixLength: Int
    let treatment: Treatment

    /// `v4: [198, 18], 15`: the bytes given, the rest zero.
    init(v4 bytes: [UInt8], _ prefixLength: Int, _ treatment: Treatment) {
        network = bytes + Array(repeating: 0, count: 4 - bytes.count)
        self.prefixLength = prefixLength
        self.treatment = treatment
    }

    /// `v6: [0x2001, 0xdb8], 32`: the 16-bit groups given, the rest zero.
    init(v6 groups: [UInt16], _ prefixLength: Int, _ treatment: Treatment) {
        let padded = groups + Array(repeating: 0, count: 8 - groups.count)
        network = padded.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        self.prefixLength = prefixLength
        self.treatment = treatment
    }

    func contains(_ address: ResolvedAddress) -> Bool {
        guard address.bytes.count == network.count else { return false }
        for bit in stride(from: 0, to: prefixLength, by: 8) {
            let index = bit / 8
            let mask: UInt8 = prefixLength - bit >= 8 ? 0xFF : ~(0xFF >> UInt8(prefixLength - bit))
            if address.bytes[index] & mask != network[index] & mask { return false }
        }
        return true
    }

    /// The block's first and last address.
    var first: ResolvedAddress { ResolvedAddress(bytes: network) }
    var last: ResolvedAddress {
        ResolvedAddress(bytes: network.enumerated().map { index, byte in
            let hostBits = max(0, min(8, (index + 1) * 8 - prefixLength))
            return byte | UInt8(truncatingIfNeeded: (1 << hostBits) - 1)
        })
    }

    var description: String { "\(first)/\(prefixLength)" }
}

/// The addresses no webhook may reach unless the deployment allows the `host:port`: every
/// block of IANA's IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890 and its
/// updates), whatever the registry says of global reachability, since a receiver of a
/// centre's pushes has no business in any of them; IPv4 multicast, and IPv6 multicast and
/// everything outside `2000::/3`, the only block IANA allocates for global unicast.
///
/// A table, not a chain of conditions, so that each row can be read against the registry and
/// each boundary tested. The most specific block containing an address decides.
enum SpecialPurposeAddresses {
    static let ipv4: [AddressBlock] = [
        AddressBlock(v4: [0], 8, .refused("an unspecified (this-network) address")),
        AddressBlock(v4: [10], 8, .refused("a private address")),
        AddressBlock(v4: [100, 64], 10, .refused("a shared (carrier-grade NAT) address")),
        AddressBlock(v4: [127], 8, .refused("a loopback address")),
        AddressBlock(v4: [169, 254], 16, .refused("a link-local or metadata address")),
        AddressBlock(v4: [172, 16], 12, .refused("a private address")),
        AddressBlock(v4: [192, 0, 0], 24, .refused("an IETF protocol assignment")),
        AddressBlock(v4: [192, 0, 2], 24, .refused("a documentation address (TEST-NET-1)")),
        AddressBlock(v4: [192, 31, 196], 24, .refused("an AS112 address")),
        AddressBlock(v4: [192, 52, 193], 24, .refused("an AMT address")),
        AddressBlock(v4: [192, 88, 99], 24, .refused("a 6to4 relay anycast address")),
        AddressBlock(v4: [192, 168], 16, .refused("a private address")),
        AddressBlock(v4: [192, 175, 48], 24, .refused("an AS112 direct delegation address")),
        AddressBlock(v4: [198, 18], 15, .refused("a benchmarking address")),
        AddressBlock(v4: [198, 51, 100], 24, .refused("a documentation address (TEST-NET-2)")),
        AddressBlock(v4: [203, 0, 113], 24, .refused("a documentation address (TEST-NET-3)")),
        AddressBlock(v4: [224], 4, .refused("a multicast address")),
        AddressBlock(v4: [240], 4, .refused("a reserved address")),
        AddressBlock(v4: [255, 255, 255, 255], 32, .refused("the limited broadcast address")),
    ]

    static let ipv6: [AddressBlock] = [
        AddressBlock(v6: [], 128, .refused("the unspecified address")),
        AddressBlock(v6: [0, 0, 0, 0, 0, 0, 0, 1], 128, .refused("a loopback address")),
        AddressBlock(v6: [0, 0, 0, 0, 0, 0xFFFF], 96, .embedsIPv4),
        // The well-known NAT64 prefix: DNS64 answers with it for every IPv4-only host on an
        // IPv6-only network, so it is judged by the IPv4 address it translates to.
        AddressBlock(v6: [0x64, 0xFF9B], 96, .embedsIPv4),
        AddressBlock(v6: [0x64, 0xFF9B, 1], 48, .refused("a local-use IPv4/IPv6 translation address")),
        AddressBlock(v6: [0x100], 64, .refused("a discard-only address")),
        AddressBlock(v6: [0x2001], 23, .refused("an IETF protocol assignment")),
        AddressBlock(v6: [0x2001, 0xDB8], 32, .refused("a documentation address")),
        AddressBlock(v6: [0x2002], 16, .refused("a 6to4 address")),
        AddressBlock(v6: [0x2620, 0x4F, 0x8000], 48, .refused("an AS112 direct delegation address")),
        AddressBlock(v6: [0x3FFF], 20, .refused("a documentation address")),
        AddressBlock(v6: [0x5F00], 16, .refused("a segment routing (SRv6) address")),
        AddressBlock(v6: [0xFC00], 7, .refused("a private (unique local) address")),
        AddressBlock(v6: [0xFE80], 10, .refused("a link-local address")),
        AddressBlock(v6: [0xFF00], 8, .refused("a multicast address")),
        // Outside 2000::/3 nothing is allocated for global unicast (IANA's IPv6 Address Space).
        AddressBlock(v6: [], 3, .refused("an address outside global unicast (2000::/3)")),
        AddressBlock(v6: [0x4000], 2, .refused("an address outside global unicast (2000::/3)")),
        AddressBlock(v6: [0x8000], 1, .refused("an address outside global unicast (2000::/3)")),
    ]

    /// The most specific block that contains `address`, or nil for a public address.
    static func block(containing address: ResolvedAddress) -> AddressBlock? {
        (address.bytes.count == 4 ? ipv4 : ipv6).filter { $0.contains(address) }.max { $0.prefixLength < $1.prefixLength }
    }

    /// Why no webhook may go to `address`, or nil for a public one.
    static func restriction(of address: ResolvedAddress) -> String? {
        guard address.bytes.count == 4 || address.bytes.count == 16 else { return "an unknown kind of address" }
        guard let block = block(containing: address) else { return nil }
        switch block.treatment {
        case .refused(let why):
            return why
        case .embedsIPv4:
            let embedded = ResolvedAddress(bytes: Array(address.bytes[12..<16]))
            return restriction(of: embedded).map { "\($0) (\(embedded)) inside an IPv6 address" }
        }
    }
}
