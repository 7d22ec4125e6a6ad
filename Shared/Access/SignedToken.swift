import Crypto
import Foundation

/// A principal signed with HMAC-SHA256: `base64url(JSON).base64url(MAC)`.
///
/// The same format serves as the bearer token the gateway issues at login (signed with the
/// gateway's token key) and as the principal header it forwards to services (signed with
/// the mesh key every service shares), each with its own key.
public struct TokenSigner: Sendable {
    private let secret: Data
    private var key: SymmetricKey { SymmetricKey(data: secret) }

    /// `secret` should be at least 32 random bytes; shorter secrets are refused.
    public init(secret: String) throws(AccessError) {
        guard secret.utf8.count >= 32 else { throw .weakSecret }
        self.secret = Data(secret.utf8)
    }

    public func sign(_ principal: Principal) -> String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = .sortedKeys
        // Encoding a Principal cannot fail: every field is a plain string, number or array.
        let payload = (try? encoder.encode(principal)) ?? Data()
        let mac = HMAC<SHA256>.authenticationCode(for: payload, using: key)
        return payload.base64URLEncoded + "." + Data(mac).base64URLEncoded
    }

    /// The principal in `token`, if the signature holds and it has not expired.
    public func verify(_ token: String, now: Date = Date()) throws(AccessError) -> Principal {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let payload = Data(base64URLEncoded: String(parts[0])),
              let mac = Data(base64URLEncoded: String(parts[1]))
        else { throw .malformed }
        guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: payload, using: key) else { throw .badSignature }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        guard let principal = try? decoder.decode(Principal.self, from: payload) else { throw .malformed }
        guard principal.expiresAt > now else { throw .expired }
        return principal
    }
}

/// Why a token or principal was not accepted. Callers see only "unauthenticated".
public enum AccessError: Error, Sendable, Equatable, CustomStringConvertible {
    case missing
    case malformed
    case badSignature
    case expired
    case weakSecret

    public var description: String {
        switch self {
        case .missing: "no credentials"
        case .malformed: "credentials are malformed"
        case .badSignature: "credentials are not signed by this deployment"
        case .expired: "credentials have expired"
        case .weakSecret: "signing secrets must be at least 32 bytes"
        }
    }
}

extension Data {
    /// base64url without padding (RFC 4648 §5), mapped byte by byte: the string replacements
    /// this replaced were a quarter of the gateway's CPU per call.
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

    init?(base64URLEncoded text: String) {
        var bytes = Array(text.utf8)
        for index in bytes.indices {
            switch bytes[index] {
            case UInt8(ascii: "-"): bytes[index] = UInt8(ascii: "+")
            case UInt8(ascii: "_"): bytes[index] = UInt8(ascii: "/")
            default: break
            }
        }
        bytes += Array(repeating: UInt8(ascii: "="), count: (4 - bytes.count % 4) % 4)
        self.init(base64Encoded: Data(bytes))
    }
}
