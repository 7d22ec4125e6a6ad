import Crypto
import Foundation
import PinganConnect
import PinganDomain

/// A webhook subscription's signing key, in either form `Subscribe` takes:
///
/// - `whsec_` and the base64 of 16 to 200 bytes, as the Standard Webhooks specification
///   writes a secret (it recommends 24 to 64 random bytes): those bytes are the key. The
///   bounds are those of the text form, so every secret's `whsec_` form is accepted back;
/// - any other text of 16 to 200 bytes of UTF-8 (every secret from before Standard Webhooks):
///   its bytes are the key, so its Standard Webhooks form is `whsec_` and their base64
///   (``standardForm``), which is what a receiver's library is configured with.
struct WebhookSecret: Sendable, Equatable {
    let key: [UInt8]

    static let prefix = "whsec_"

    /// Reads a secret as stored or given; `field` names it in the error.
    init(_ text: String, field: String = "secret") throws(WebhookSecretError) {
        if text.hasPrefix(Self.prefix) {
            guard let bytes = Data(base64Encoded: String(text.dropFirst(Self.prefix.count))), (16...200).contains(bytes.count) else {
                throw WebhookSecretError(field: field, problem: "a whsec_ secret must be the base64 of 16 to 200 bytes")
            }
            key = Array(bytes)
        } else {
            guard (16...200).contains(text.utf8.count) else {
                throw WebhookSecretError(field: field, problem: "must be 16 to 200 bytes, or whsec_ and the base64 of 16 to 200 bytes")
            }
            key = Array(text.utf8)
        }
    }

    /// A stored secret, which was checked when it was given; one that no longer reads (none
    /// should) keys with its bytes, as every secret did before Standard Webhooks.
    init(stored text: String) {
        key = (try? WebhookSecret(text).key) ?? Array(text.utf8)
    }

    /// `whsec_` and the base64 of the key: what a Standard Webhooks library is given.
    var standardForm: String { Self.prefix + Data(key).base64EncodedString() }
}

/// Why a secret was refused; `invalid_argument` naming ``field``.
struct WebhookSecretError: Error, Equatable, CustomStringConvertible {
    let field: String
    let problem: String
    var description: String { "\(field) \(problem)" }
}

/// Signs a webhook delivery as the Standard Webhooks specification does
/// (https://www.standardwebhooks.com/): `webhook-id` (the delivery's UUID, the same on every
/// retry), `webhook-timestamp` (seconds since 1970 when this attempt was sent, so a receiver
/// refuses a delivery replayed later) and `webhook-signature`, `v1,` and the base64
/// HMAC-SHA256 of `id.timestamp.body` under each key in use, space-separated: during a
/// rotation both the new and the old secret sign, and a receiver holding either accepts.
enum WebhookSigning {
    /// The three Standard Webhooks headers, in the specification's order.
    static func headers(id: String, at timestamp: Int, body: [UInt8], keys: [WebhookSecret]) -> [(String, String)] {
        [
            ("webhook-id", id),
            ("webhook-timestamp", String(timestamp)),
            ("webhook-signature", keys.map { signature(id: id, timestamp: timestamp, body: body, key: $0) }.joined(separator: " ")),
        ]
    }

    /// `v1,` + base64 HMAC-SHA256(key, "id.timestamp.body").
    static func signature(id: String, timestamp: Int, body: [UInt8], key: WebhookSecret) -> String {
        let signed = Array("\(id).\(timestamp).".utf8) + body
        let mac = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: Data(key.key)))
        return "v1," + Data(mac).base64EncodedString()
    }

    /// The header of before Standard Webhooks, `sha256=` + hex HMAC-SHA256(key, body), kept
    /// for one release (see docs/integrating.md) under the current secret only.
    static func legacy(body: [UInt8], key: WebhookSecret) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(key.key)))
        return "sha256=" + mac.hexadecimal
    }
}
