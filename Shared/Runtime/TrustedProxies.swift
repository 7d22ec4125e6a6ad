import Foundation

/// The proxies whose word a service takes for who the client is.
///
/// Behind a Kubernetes ingress or an office's NAT every caller reaches the gateway from the
/// proxy's address, so sign-in throttling and the access log would see one caller for a whole
/// centre. A trusted proxy says whom it forwarded for in `X-Forwarded-For`; anybody else could
/// write anything there, so the header is read only when the connection itself comes from a
/// trusted proxy, and then from the right (the hop nearest this service) to the first address
/// that is not itself a trusted proxy: entries further left were written by the client.
/// Without any trusted proxy (the default) the connection's own address is the client.
public struct TrustedProxies: Sendable, Equatable, CustomStringConvertible {
    public let ranges: [Range]

    /// Trusts no proxy: the connection's address is the client's.
    public init() {
        ranges = []
    }

    public init(_ ranges: [Range]) {
        self.ranges = ranges
    }

    /// A comma-separated list of IP addresses and CIDR ranges (`10.0.0.0/8, 192.0.2.7, fd00::/8`),
    /// as `TRUSTED_PROXIES` is written; empty trusts none.
    public init(parsing text: String) throws(TrustedProxiesError) {
        var ranges: [Range] = []
        for item in text.split(separator: ",") {
            let entry = item.trimmingCharacters(in: .whitespaces)
            if entry.isEmpty { continue }
            ranges.append(try Range(parsing: entry))
        }
        self.init(ranges)
    }

    public var isEmpty: Bool { ranges.isEmpty }

    public var description: String { ranges.map(\.description).joined(separator: ", ") }

    public func contains(_ address: Address) -> Bool {
        ranges.contains { $0.contains(address) }
    }

    /// The client's address: `peer` itself unless `peer` is a trusted proxy, and then the
    /// address in `forwardedFor` (every `X-Forwarded-For` value, in order) nearest this
    /// service that is not a trusted proxy. A malformed entry ends the walk at the last hop
    /// vouched for, since what lies beyond it cannot be told apart from a forgery.
    ///
    /// - Returns: `peer` unchanged when it is not trusted (so nothing changes without this
    ///   setting); a forwarded address in its canonical text form otherwise.
    public func client(peer: String?, forwardedFor: [String]) -> String? {
        guard !ranges.isEmpty, let peer, let connected = Address(parsing: peer), contains(connected) else { return peer }
        var client = connected
        for entry in forwardedFor.reversed().lazy.flatMap({ $0.split(separator: ",").reversed() }) {
            guard let hop = Address(forwardedEntry: entry.trimmingCharacters(in: .whitespaces)) else { break }
            client = hop
            if !contains(hop) { break }
        }
        return client.description
    }
}

extension TrustedProxies {
    /// An IPv4 or IPv6 address as its bytes. An IPv4-mapped IPv6 address (`::ffff:192.0.2.7`,
    /// as a dual-stack socket reports an IPv4 peer) is the IPv4 address it maps.
    public struct Address: Sendable, Hashable, CustomStringConvertible {
        /// 4 bytes for IPv4, 16 for IPv6.
        public let bytes: [UInt8]

        public init?(parsing text: String) {
            if let v4 = Self.ipv4(Substring(text)) {
                bytes = v4
            } else if let v6 = Self.ipv6(Substring(text)) {
                let mapped = v6.prefix(10).allSatisfy { $0 == 0 } && v6[10] == 0xff && v6[11] == 0xff
                bytes = mapped ? Array(v6.suffix(4)) : v6
            } else {
                return nil
            }
        }

        /// An `X-Forwarded-For` entry, which some proxies write with a port: `192.0.2.7`,
        /// `192.0.2.7:4711`, `2001:db8::7`, `[2001:db8::7]` or `[2001:db8::7]:4711`.
        init?(forwardedEntry entry: String) {
            var text = Substring(entry)
            if text.first == "[" {
                guard let close = text.firstIndex(of: "]") else { return nil }
                let rest = text[text.index(after: close)...]
                guard rest.isEmpty || (rest.first == ":" && rest.dropFirst().allSatisfy(\.isASCIIDigit) && rest.count > 1) else { return nil }
                text = text[text.index(after: text.startIndex)..<close]
            } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
                let port = text[text.index(after: colon)...]
                guard !port.isEmpty, port.allSatisfy(\.isASCIIDigit) else { return nil }
                text = text[..<colon]
            }
            self.init(parsing: String(text))
        }

        init(bytes: [UInt8]) {
            self.bytes = bytes
        }

        /// Dotted decimal for IPv4; RFC 5952's form for IPv6 (lowercase, the longest run of
        /// two or more zero groups written `::`), so one client is always one text.
        public var description: String {
            if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
            let groups = (0..<8).map { Int(bytes[2 * $0]) << 8 | Int(bytes[2 * $0 + 1]) }
            var best: (start: Int, count: Int) = (0, 0)
            var index = 0
            while index < 8 {
                var end = index
                while end < 8 && groups[end] == 0 { end += 1 }
                if end - index > best.count { best = (index, end - index) }
                index = end + 1
            }
            let hex = groups.map { String($0, radix: 16) }
            guard best.count >= 2 else { return hex.joined(separator: ":") }
            return hex[..<best.start].joined(separator: ":") + "::" + hex[(best.start + best.count)...].joined(separator: ":")
        }

        /// Four decimal parts of 0–255 without leading zeros (`010` could be read as octal).
        static func ipv4(_ text: Substring) -> [UInt8]? {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4 else { return nil }
            var bytes: [UInt8] = []
            for part in parts {
                guard (1...3).contains(part.count), part.allSatisfy(\.isASCIIDigit),
                      part.count == 1 || part.first != "0", let value = UInt8(part)
                else { return nil }
                bytes.append(value)
            }
            return bytes
        }

        /// Eight groups of 1–4 hex digits, one run of them possibly written `::`, the last two
        /// possibly as an IPv4 address. No zone (`%eth0`): a zone is not a client.
        static func ipv6(_ text: Substring) -> [UInt8]? {
            guard text.contains(":") else { return nil }
            let halves = text.components(separatedBy: "::")
            guard halves.count <= 2 else { return nil }
            func groups(_ half: String, last: Bool) -> [UInt16]? {
                if half.isEmpty { return [] }
                var groups: [UInt16] = []
                let parts = half.split(separator: ":", omittingEmptySubsequences: false)
                for (index, part) in parts.enumerated() {
                    if last, index == parts.count - 1, part.contains("."), let v4 = ipv4(part) {
                        groups += [UInt16(v4[0]) << 8 | UInt16(v4[1]), UInt16(v4[2]) << 8 | UInt16(v4[3])]
                    } else {
                        guard (1...4).contains(part.count), part.allSatisfy(\.isHexDigit), let value = UInt16(part, radix: 16) else { return nil }
                        groups.append(value)
                    }
                }
                return groups
            }
            let all: [UInt16]
            if halves.count == 2 {
                guard let head = groups(halves[0], last: false), let tail = groups(halves[1], last: true), head.count + tail.count <= 7 else { return nil }
                all = head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
            } else {
                guard let only = groups(halves[0], last: true), only.count == 8 else { return nil }
                all = only
            }
            return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] }
        }
    }

    /// An address with a prefix length: `10.0.0.0/8`; an address alone is its own range.
    public struct Range: Sendable, Equatable, CustomStringConvertible {
        public let address: Address
        public let prefixLength: Int

        /// Refuses bits set past the prefix (`10.0.0.1/8`): such a range is more likely a typo
        /// than what was meant, and trusting the wrong range trusts forgeries.
        public init(parsing text: String) throws(TrustedProxiesError) {
            let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            guard let address = Address(parsing: String(parts[0])) else { throw .notAnAddress(text) }
            let written = parts.count == 2 ? (address.bytes.count == 4 && !parts[0].contains(":") ? 32 : 128) : nil
            var length = address.bytes.count * 8
            if parts.count == 2 {
                guard parts[1].allSatisfy(\.isASCIIDigit), let value = Int(parts[1]), let written, (0...written).contains(value) else {
                    throw .badPrefix(text)
                }
                // An IPv4-mapped IPv6 range is the IPv4 range it maps.
                length = written == 128 && address.bytes.count == 4 ? value - 96 : value
                guard length >= 0 else { throw .badPrefix(text) }
            }
            let range = Range(address: address, prefixLength: length)
            // Only a written prefix can leave bits past it.
            guard range.masked(address) == address else { throw .hostBitsSet(text, suggestion: Range(address: range.masked(address), prefixLength: length).description) }
            self = range
        }

        init(address: Address, prefixLength: Int) {
            self.address = address
            self.prefixLength = prefixLength
        }

        public var description: String { "\(address)/\(prefixLength)" }

        public func contains(_ other: Address) -> Bool {
            other.bytes.count == address.bytes.count && masked(other) == address
        }

        private func masked(_ other: Address) -> Address {
            Address(bytes: other.bytes.enumerated().map { index, byte in
                let kept = min(8, max(0, prefixLength - index * 8))
                return kept == 0 ? 0 : byte & UInt8(truncatingIfNeeded: 0xff << (8 - kept))
            })
        }
    }
}

/// Why a `TRUSTED_PROXIES` entry was refused.
public enum TrustedProxiesError: Error, Sendable, Equatable, CustomStringConvertible {
    case notAnAddress(String)
    case badPrefix(String)
    case hostBitsSet(String, suggestion: String)

    public var description: String {
        switch self {
        case .notAnAddress(let entry): "\"\(entry)\" is not an IP address or CIDR range"
        case .badPrefix(let entry): "\"\(entry)\" has a prefix length out of range (0–32 for IPv4, 0–128 for IPv6)"
        case .hostBitsSet(let entry, let suggestion): "\"\(entry)\" has address bits set past its prefix length; did you mean \(suggestion)?"
        }
    }
}

private extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
