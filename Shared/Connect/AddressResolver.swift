import Foundation
import NIOPosix

/// An IP address a host name resolved to, classified for egress checks.
public struct ResolvedAddress: Sendable, Hashable, CustomStringConvertible {
    /// 4 bytes for IPv4, 16 for IPv6.
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }

    /// Parses a literal IPv4 or IPv6 address; `nil` for a name.
    public init?(literal text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self.init(bytes: withUnsafeBytes(of: v4) { Array($0) })
            return
        }
        var v6 = in6_addr()
        let trimmed = text.hasPrefix("[") && text.hasSuffix("]") ? String(text.dropFirst().dropLast()) : text
        guard inet_pton(AF_INET6, trimmed, &v6) == 1 else { return nil }
        self.init(bytes: withUnsafeBytes(of: v6) { Array($0) })
    }

    /// Why an outside caller must not make a service connect here, or `nil` for a public
    /// address: loopback, private networks, link-local (cloud metadata at 169.254.169.254
    /// among them), shared address space, unspecified and multicast.
    public var restriction: String? {
        if bytes.count == 16 {
            if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
                return ResolvedAddress(bytes: Array(bytes[12..<16])).restriction  // IPv4-mapped
            }
            if bytes[0..<15].allSatisfy({ $0 == 0 }) { return bytes[15] == 1 ? "a loopback address" : "the unspecified address" }
            if bytes[0] & 0xFE == 0xFC { return "a private address" }
            if bytes[0] == 0xFE, bytes[1] & 0xC0 == 0x80 { return "a link-local address" }
            if bytes[0] == 0xFF { return "a multicast address" }
            return nil
        }
        guard bytes.count == 4 else { return "an unknown kind of address" }
        switch (bytes[0], bytes[1]) {
        case (127, _): return "a loopback address"
        case (10, _), (192, 168): return "a private address"
        case (172, 16...31): return "a private address"
        case (169, 254): return "a link-local or metadata address"
        case (100, 64...127): return "a shared (carrier-grade NAT) address"
        case (0, _): return "the unspecified address"
        case (224...255, _): return "a multicast or reserved address"
        default: return nil
        }
    }

    public var description: String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        return stride(from: 0, to: bytes.count, by: 2).map { String(format: "%x", Int(bytes[$0]) << 8 | Int(bytes[$0 + 1])) }.joined(separator: ":")
    }
}

/// Resolves host names with the system resolver, off the event loops: `getaddrinfo` blocks.
public enum AddressResolver {
    /// Every address `host` resolves to; an empty list when it does not resolve.
    public static func addresses(of host: String) async throws -> [ResolvedAddress] {
        if let literal = ResolvedAddress(literal: host) { return [literal] }
        return try await NIOThreadPool.singleton.runIfActive { resolve(host) }
    }

    private static func resolve(_ host: String) -> [ResolvedAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return [] }
        defer { freeaddrinfo(first) }
        var found: [ResolvedAddress] = []
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            if let address = current.pointee.ai_addr {
                switch Int32(address.pointee.sa_family) {
                case AF_INET:
                    address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { v4 in
                        found.append(ResolvedAddress(bytes: withUnsafeBytes(of: v4.pointee.sin_addr) { Array($0) }))
                    }
                case AF_INET6:
                    address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { v6 in
                        found.append(ResolvedAddress(bytes: withUnsafeBytes(of: v6.pointee.sin6_addr) { Array($0) }))
                    }
                default:
                    break
                }
            }
            entry = current.pointee.ai_next
        }
        return Array(Set(found))
    }
}
