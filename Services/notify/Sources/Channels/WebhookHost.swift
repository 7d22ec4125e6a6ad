import Foundation
import PinganConnect

/// The host part of a webhook URL or of an entry of `WEBHOOK_ALLOWED_HOSTS`: a DNS name or a
/// literal address, parsed strictly the one way both the egress check and curl read it.
///
/// A name that only looks like an address (`127.1`, `0x7f.1`, `2130706433`, `0177.0.0.1`) is
/// refused: resolvers and URL parsers disagree on what such text means, and a check that reads
/// a host differently from the connection it guards is no check.
enum WebhookHost: Hashable, Sendable, CustomStringConvertible {
    /// A DNS name, lower-case, without a trailing dot.
    case name(String)
    /// A literal IPv4 address, or an IPv6 address written in brackets.
    case address(ResolvedAddress)

    /// Parses `text` as RFC 3986's host: a reg-name of LDH labels (underscores allowed, as
    /// internal DNS often has them), a dotted-quad IPv4 address, or `[IPv6]` without a zone.
    init(parsing text: Substring) throws(WebhookHostError) {
        guard !text.isEmpty else { throw .empty }
        if text.hasPrefix("[") {
            guard text.hasSuffix("]"), text.count > 2 else { throw .malformed(String(text)) }
            let inner = String(text.dropFirst().dropLast())
            // inet_pton also reads a dotted quad; only a 16-byte answer is an IPv6 literal.
            guard inner.contains(":"), let address = ResolvedAddress(literal: inner), address.bytes.count == 16 else {
                throw .malformed(String(text))
            }
            self = .address(address)
            return
        }
        let lower = text.lowercased()
        guard lower.utf8.count <= 253 else { throw .tooLong }
        let labels = lower.split(separator: ".", omittingEmptySubsequences: false)
        for label in labels {
            guard !label.isEmpty, label.utf8.count <= 63,
                  label.utf8.allSatisfy({ Self.labelBytes.contains($0) }),
                  label.first != "-", label.last != "-"
            else { throw .malformed(String(text)) }
        }
        // WHATWG URL parsers read a host whose last label is numeric as an IPv4 number.
        if let last = labels.last, last.allSatisfy(\.isNumber) || last.hasPrefix("0x") {
            guard let address = ResolvedAddress(literal: lower), address.bytes.count == 4, address.description == lower else {
                throw .ambiguousAddress(String(text))
            }
            self = .address(address)
            return
        }
        self = .name(lower)
    }

    /// As it is written in a URL: IPv6 in brackets.
    var description: String {
        switch self {
        case .name(let name): name
        case .address(let address): address.bytes.count == 16 ? "[\(address)]" : address.description
        }
    }

    /// a-z, 0-9, `-` and `_`.
    private static let labelBytes: Set<UInt8> = Set(Array("abcdefghijklmnopqrstuvwxyz0123456789-_".utf8))
}

/// Why a host was not read.
enum WebhookHostError: Error, Equatable, CustomStringConvertible {
    case empty
    case tooLong
    case malformed(String)
    case ambiguousAddress(String)

    var description: String {
        switch self {
        case .empty: "must name a host"
        case .tooLong: "has a host name longer than 253 characters"
        case .malformed(let host):
            "has a malformed host \"\(host)\": a DNS name of letters, digits, - and _, a dotted-quad IPv4 address, or an IPv6 address in brackets"
        case .ambiguousAddress(let host):
            "has a host \"\(host)\" that looks like an IPv4 address but is not written as four decimal numbers such as 192.0.2.1"
        }
    }
}

/// A host and a port, as an authority ends (`host:port`, `[v6]:port`) and as an entry of
/// `WEBHOOK_ALLOWED_HOSTS` is written.
struct HostAndPort: Hashable, Sendable, CustomStringConvertible {
    let host: WebhookHost
    /// nil when the text named none.
    let port: Int?

    init(host: WebhookHost, port: Int?) {
        self.host = host
        self.port = port
    }

    /// Splits at the colon after the host (after the `]` of an IPv6 literal). A bare IPv6
    /// address (`::1`) is refused: where its address ends and a port begins is a guess.
    init(parsing text: Substring) throws(HostAndPortError) {
        var hostText = text
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw .host(.malformed(String(text))) }
            hostText = text[...close]
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.first == ":" else { throw .host(.malformed(String(text))) }
                portText = rest.dropFirst()
            }
        } else if let colon = text.firstIndex(of: ":") {
            hostText = text[..<colon]
            portText = text[text.index(after: colon)...]
            guard portText?.contains(":") != true else { throw .bareIPv6(String(text)) }
        }
        do {
            host = try WebhookHost(parsing: hostText)
        } catch {
            throw .host(error)
        }
        guard let portText else {
            port = nil
            return
        }
        // Decimal digits only, no sign, no leading zero: one spelling per port.
        guard (1...5).contains(portText.count), portText.allSatisfy({ $0.isASCII && $0.isNumber }), portText.first != "0",
              let value = Int(portText), (1...65535).contains(value)
        else { throw .port(String(portText)) }
        port = value
    }

    var description: String { port.map { "\(host):\($0)" } ?? host.description }
}

/// Why a `host:port` was not read.
enum HostAndPortError: Error, Equatable, CustomStringConvertible {
    case host(WebhookHostError)
    case port(String)
    case bareIPv6(String)

    var description: String {
        switch self {
        case .host(let error): error.description
        case .port(let text): "has the port \"\(text)\"; a port is a number from 1 to 65535"
        case .bareIPv6(let text): "has \"\(text)\", an IPv6 address without brackets; write it as [address]:port"
        }
    }
}
