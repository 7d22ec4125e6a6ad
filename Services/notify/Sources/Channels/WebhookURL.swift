import Foundation

/// A webhook URL read strictly by RFC 3986: `http` or `https`, printable ASCII only, every
/// `%` followed by two hex digits that encode no control character, one `@` at most, and a
/// host and port as ``HostAndPort`` reads them.
///
/// Foundation's `URL(string:)` quietly percent-encodes what it does not like and libcurl
/// reads some text differently again; a URL that parsers could disagree on is refused at
/// `Subscribe`, so what the egress check looked at is what curl connects to, and a `%00`
/// never waits in the table to fail at every delivery.
struct WebhookURL: Sendable, Equatable {
    /// `http` or `https`, lower-case.
    let scheme: String
    let host: WebhookHost
    /// The port named, or the scheme's (80, 443).
    let port: Int

    init(_ text: String) throws(WebhookURLError) {
        let bytes = Array(text.utf8)
        if let bad = bytes.first(where: { !Self.allowed.contains($0) }) { throw Self.refusal(for: bad) }
        try Self.checkPercentEncoding(bytes)
        guard let colon = text.firstIndex(of: ":") else { throw .notHTTP }
        let scheme = text[..<colon].lowercased()
        guard ["http", "https"].contains(scheme) else { throw .notHTTP }
        self.scheme = scheme
        let rest = text[text.index(after: colon)...]
        guard rest.hasPrefix("//") else { throw .malformed("must be written http://host/… or https://host/…") }
        let afterSlashes = rest.dropFirst(2)
        let authority = afterSlashes.prefix { !"/?#".contains($0) }
        let tail = afterSlashes[authority.endIndex...]
        guard !tail.contains("[") && !tail.contains("]") else { throw .malformed("has [ or ] outside its host; percent-encode them") }
        guard tail.filter({ $0 == "#" }).count <= 1 else { throw .malformed("has more than one #") }
        let at = authority.filter { $0 == "@" }.count
        guard at <= 1 else { throw .malformed("has more than one @ before its host; percent-encode an @ in a user name or password") }
        let userinfo = at == 1 ? authority.prefix { $0 != "@" } : ""
        guard !userinfo.contains("[") && !userinfo.contains("]") else { throw .malformed("has [ or ] in its user name or password") }
        let hostAndPort = at == 1 ? authority.drop { $0 != "@" }.dropFirst() : authority
        guard !hostAndPort.isEmpty else { throw .noHost }
        let parsed: HostAndPort
        do {
            parsed = try HostAndPort(parsing: hostAndPort)
        } catch {
            throw .malformed(error.description)
        }
        host = parsed.host
        port = parsed.port ?? (scheme == "https" ? 443 : 80)
    }

    /// RFC 3986's unreserved, reserved and `%`: every byte a URL may hold unencoded.
    private static let allowed: Set<UInt8> = Set(Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#[]@!$&'()*+,;=%".utf8
    ))

    private static func refusal(for byte: UInt8) -> WebhookURLError {
        switch byte {
        case 0..<0x20, 0x7F: .controlCharacter(String(format: "U+%04X", Int(byte)))
        case 0x20: .malformed("has a space; percent-encode it as %20")
        case 0x80...: .malformed("has a character outside ASCII; percent-encode it (a host is written in its xn-- form)")
        default: .malformed("has \"\(Character(UnicodeScalar(byte)))\", which a URL must percent-encode")
        }
    }

    /// Every `%` starts `%XX`, and no escape encodes a C0 control, DEL or (as UTF-8) a C1 control.
    private static func checkPercentEncoding(_ bytes: [UInt8]) throws(WebhookURLError) {
        var decoded: [(byte: UInt8, text: String)] = []
        var index = 0
        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: "%") else {
                decoded.append((bytes[index], ""))
                index += 1
                continue
            }
            guard index + 2 < bytes.count, let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) else {
                throw .malformed("has a % that is not followed by two hexadecimal digits")
            }
            let escape = String(decoding: bytes[index..<index + 3], as: UTF8.self)
            let value = high << 4 | low
            if value < 0x20 || value == 0x7F { throw .controlCharacter(escape) }
            if value >= 0x80, value <= 0x9F, let previous = decoded.last, previous.byte == 0xC2, !previous.text.isEmpty {
                throw .controlCharacter(previous.text + escape)
            }
            decoded.append((value, escape))
            index += 3
        }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// Why a webhook URL was not read.
enum WebhookURLError: Error, Equatable, CustomStringConvertible {
    case notHTTP
    case noHost
    /// A raw or percent-encoded control character, as found (`U+0000`, `%00`, `%C2%85`).
    case controlCharacter(String)
    case malformed(String)

    var description: String {
        switch self {
        case .notHTTP: "must be an http or https URL"
        case .noHost: "must name a host"
        case .controlCharacter(let found): "has a control character (\(found)); a URL may hold none, raw or percent-encoded"
        case .malformed(let why): why
        }
    }
}
