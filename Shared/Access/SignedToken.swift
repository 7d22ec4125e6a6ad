import Crypto
import Foundation
import PinganDomain
import Synchronization

/// Who a signed principal is for: a token a person holds is not a principal the services
/// accept, even if a deployment got its two keys wrong.
public enum TokenAudience: String, Sendable, Codable {
    /// The bearer token the gateway issues at sign-in, presented back to the gateway.
    case gateway = "pingan-gateway"
    /// The principal the gateway (or a service) forwards to the services.
    case mesh = "pingan-mesh"
    /// A resident's session on the gateway's resident pages, after a one-time code: never a
    /// staff token, whatever it names.
    case resident = "pingan-resident"
}

/// A principal signed with HMAC-SHA256: `base64url(JSON).base64url(MAC)`, the JSON naming
/// its audience (`aud`).
///
/// The same format serves as the bearer token the gateway issues at login (signed with the
/// gateway's token key, audience `pingan-gateway`) and as the principal header it forwards
/// to services (signed with the mesh key every service shares, audience `pingan-mesh`).
/// During a key rotation the previous key still verifies, so nobody is signed out at once;
/// only the current key signs.
public struct TokenSigner: Sendable {
    private let secrets: [Data]
    public let audience: TokenAudience
    /// Tokens this signer signed or verified, with their principals: the same token comes
    /// back on every call of a session, and checking its MAC and decoding its JSON each time
    /// was most of what the gateway and the services spent on a call before its work.
    private let recent = RecentTokens()

    /// Each secret should be at least 32 random bytes; shorter ones are refused.
    public init(secret: String, previous: [String] = [], audience: TokenAudience) throws(AccessError) {
        for key in [secret] + previous where key.utf8.count < 32 { throw .weakSecret }
        secrets = ([secret] + previous).map { Data($0.utf8) }
        self.audience = audience
    }

    /// The signed claims: a principal and its audience.
    private struct Claims: Codable {
        let aud: TokenAudience
        let subject: String
        let centre: DivisionCode
        let roles: Set<Role>
        let expiresAt: Date
    }

    public func sign(_ principal: Principal) -> String {
        if let token = recent.token(for: principal) { return token }
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = .sortedKeys
        let claims = Claims(aud: audience, subject: principal.subject, centre: principal.centre, roles: principal.roles, expiresAt: principal.expiresAt)
        // Encoding the claims cannot fail: every field is a plain string, number or array.
        let payload = (try? encoder.encode(claims)) ?? Data()
        let mac = HMAC<SHA256>.authenticationCode(for: payload, using: SymmetricKey(data: secrets[0]))
        let token = payload.base64URLEncoded + "." + Data(mac).base64URLEncoded
        recent.remember(token, principal)
        return token
    }

    /// The principal in `token`, if a current or previous key signed it for this audience
    /// and it has not expired.
    public func verify(_ token: String, now: Date = Date()) throws(AccessError) -> Principal {
        if let principal = recent.principal(for: token) {
            guard principal.expiresAt > now else { throw .expired }
            return principal
        }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let payload = Data(base64URLEncoded: String(parts[0])),
              let mac = Data(base64URLEncoded: String(parts[1]))
        else { throw .malformed }
        guard secrets.contains(where: { HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: payload, using: SymmetricKey(data: $0)) }) else {
            throw .badSignature
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        guard let claims = try? decoder.decode(Claims.self, from: payload) else { throw .malformed }
        guard claims.aud == audience else { throw .wrongAudience }
        guard claims.expiresAt > now else { throw .expired }
        let principal = Principal(subject: claims.subject, centre: claims.centre, roles: claims.roles, expiresAt: claims.expiresAt)
        recent.remember(token, principal)
        return principal
    }
}

/// A bounded memory of tokens known good, both ways. Only tokens that verified (or that this
/// signer made) enter it, keyed by their exact text, so a hit proves what a full check would;
/// expiry is still checked on every use. When full it starts again empty.
private final class RecentTokens: Sendable {
    static let capacity = 4096
    private struct Memory {
        var principals: [String: Principal] = [:]
        var tokens: [Principal: String] = [:]
    }
    private let memory = Mutex(Memory())

    func principal(for token: String) -> Principal? { memory.withLock { $0.principals[token] } }
    func token(for principal: Principal) -> String? { memory.withLock { $0.tokens[principal] } }

    func remember(_ token: String, _ principal: Principal) {
        memory.withLock { memory in
            if memory.principals.count >= Self.capacity { memory = Memory() }
            memory.principals[token] = principal
            memory.tokens[principal] = token
        }
    }
}

/// Why a token or principal was not accepted. Callers see only "unauthenticated".
public enum AccessError: Error, Sendable, Equatable, CustomStringConvertible {
    case missing
    case malformed
    case badSignature
    case expired
    case weakSecret
    case wrongAudience

    public var description: String {
        switch self {
        case .missing: "no credentials"
        case .malformed: "credentials are malformed"
        case .badSignature: "credentials are not signed by this deployment"
        case .expired: "credentials have expired"
        case .weakSecret: "signing secrets must be at least 32 bytes"
        case .wrongAudience: "credentials were issued for another audience"
        }
    }
}

extension Data {
    /// base64url without padding (RFC 4648 §5), mapped byte by byte: string replacements
    /// here were a large share of the gateway's CPU per call (docs/performance.md).
    var base64URLEncoded: String {
        var bytes = Array(base64EncodedData())
        while bytes.last == UInt8(ascii: "=") { bytes.removeLast() }
        for index in bytes.indices {
            switch bytes[index] {
            case UInt8(ascii: "+"): bytes[index] = UInt8(ascii: "-")
            case UInt8(ascii: "/"): bytes[index] = UInt8(ascii: "_")
            default: break
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Only the text ``base64URLEncoded`` would write: the URL-safe alphabet, no padding, and
    /// no bits set past the last byte. Base64 decoders also take `=` padding, `+` and `/`,
    /// and ignore the spare bits of the last character, so one token would have several
    /// texts; anything keyed on a token's text (the memory of recent tokens, a log, a
    /// revocation) could then be passed by another spelling of the same token.
    init?(base64URLEncoded text: String) {
        var bytes = Array(text.utf8)
        guard bytes.count % 4 != 1 else { return nil }
        for index in bytes.indices {
            switch bytes[index] {
            case UInt8(ascii: "-"): bytes[index] = UInt8(ascii: "+")
            case UInt8(ascii: "_"): bytes[index] = UInt8(ascii: "/")
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): break
            default: return nil
            }
        }
        bytes += Array(repeating: UInt8(ascii: "="), count: (4 - bytes.count % 4) % 4)
        guard let decoded = Data(base64Encoded: Data(bytes)), decoded.base64URLEncoded == text else { return nil }
        self = decoded
    }
}
