import Foundation
import PinganAccess
import PinganDomain
import PinganTestSupport
import Testing

/// A token has one text: other spellings of the same bytes are refused, so nothing keyed on
/// the text (the memory of recent tokens, a log, a revocation) can be passed by respelling it.
@Suite("signed tokens")
struct SignedTokenTests {
    static let key = "token-key-for-the-spelling-tests-0123456789"

    @Test func onlyTheCanonicalBase64urlTextOfATokenVerifies() throws {
        let token = try Self.tokenWithEverySpelling()
        #expect(try TokenSigner(secret: Self.key, audience: .gateway).verify(token).subject.hasPrefix("user:"))
        let variants = Self.respellings(of: token)
        #expect(variants.count == 5)
        for (what, variant) in variants {
            #expect(variant != token)
            // A fresh signer, whose memory holds no token: each spelling is checked in full.
            #expect(throws: AccessError.malformed, "\(what): \(variant)") {
                try TokenSigner(secret: Self.key, audience: .gateway).verify(variant)
            }
        }
    }

    /// A relay's principal is the same for a whole minute, so its calls in that minute carry
    /// one header; it is valid at least its lifetime from any moment of the minute, and the
    /// next minute's is another.
    @Test func aServicePrincipalIsOneHeaderForAMinuteAndLastsItsLifetime() throws {
        let verifier = try PrincipalVerifier(meshSecret: Self.key)
        let root = try DivisionCode(validating: "430700000000")
        let start = Date(timeIntervalSince1970: 1_796_000_000 - 1_796_000_000.truncatingRemainder(dividingBy: 60))
        let early = Principal.system("grid-service", root: root, now: start.addingTimeInterval(0.2))
        let late = Principal.system("grid-service", root: root, now: start.addingTimeInterval(59.9))
        #expect(verifier.header(for: early) == verifier.header(for: late))
        #expect(late.expiresAt.timeIntervalSince(start.addingTimeInterval(59.9)) >= 300)
        let next = Principal.system("grid-service", root: root, now: start.addingTimeInterval(60))
        #expect(next.expiresAt.timeIntervalSince(early.expiresAt) == 60)
        #expect(verifier.header(for: next) != verifier.header(for: early))
    }

    /// The same bytes spelled otherwise: padded, in the standard alphabet, and with the spare
    /// bits of a last character set. Each decodes, by a lenient decoder, to the token's bytes.
    static func respellings(of token: String) -> [(String, String)] {
        let parts = token.split(separator: ".").map(String.init)
        guard parts.count == 2 else { return [] }
        let (payload, mac) = (parts[0], parts[1])
        var variants: [(String, String)] = []
        if payload.count % 4 != 0 {
            variants.append(("padded payload", payload + String(repeating: "=", count: 4 - payload.count % 4) + "." + mac))
            if let spare = withSpareBitsSet(payload) { variants.append(("payload's spare bits set", spare + "." + mac)) }
        }
        // A MAC is 32 bytes: 43 characters, one `=` short, the last with two spare bits.
        variants.append(("padded MAC", payload + "." + mac + "="))
        if let spare = withSpareBitsSet(mac) { variants.append(("MAC's spare bits set", payload + "." + spare)) }
        let standard = String(token.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
        if standard != token { variants.append(("standard alphabet", standard)) }
        return variants
    }

    /// A token whose payload needs padding and whose text has a `-` or `_`, so that every
    /// respelling above applies; signed with a fixed key and expiry, it is the same each run.
    static func tokenWithEverySpelling() throws -> String {
        let signer = try TokenSigner(secret: key, audience: .gateway)
        let expires = Date().addingTimeInterval(3600).timeIntervalSince1970.rounded(.down)
        for index in 0..<500 {
            let principal = Principal(
                subject: "user:wang\(index)", centre: try DivisionCode(validating: Place.townA), roles: [.staff],
                expiresAt: Date(timeIntervalSince1970: expires)
            )
            let token = signer.sign(principal)
            let payload = token.prefix { $0 != "." }
            if payload.count % 4 != 0, withSpareBitsSet(String(payload)) != nil, token.contains(where: { $0 == "-" || $0 == "_" }) {
                return token
            }
        }
        throw SpellingTestError.noTokenWithEverySpelling
    }

    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

    /// The text with its last character's lowest spare bit set; `nil` when it has no spare bits.
    static func withSpareBitsSet(_ text: String) -> String? {
        guard text.count % 4 != 0, let last = text.last, let index = alphabet.firstIndex(of: last), index + 1 < alphabet.count else { return nil }
        return text.dropLast() + String(alphabet[index + 1])
    }

    enum SpellingTestError: Error, CustomStringConvertible {
        case noTokenWithEverySpelling
        var description: String { "no token of 500 had a payload needing padding and a - or _ in its text" }
    }
}
