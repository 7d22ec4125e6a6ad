import Crypto
import Foundation
import Synchronization

/// Keyed hashes of a case's parties, so that risk-service's social-risk topic database can
/// see that the same person is in cases in three villages without ever holding a name or a
/// phone (domain.md: personal data stays in dispute-service, masked and audited).
///
/// Each key is HMAC-SHA256 under a secret only dispute-service holds (`PARTY_KEY_SECRET`),
/// over the party's normalised name and phone: a plain SHA-256 of a phone number would be
/// reversed by trying the 10^11 numbers there are; without the secret nothing can be tried.
/// The normalising makes `+86 138 1234 5678`, `138-1234-5678` and `13812345678` one phone,
/// and `张 三` and `张三` one name, so a changed spelling does not hide a person.
///
/// Two kinds are made: `name_phone` (the same person, almost surely) and `phone` (the same
/// phone under another name: a misspelt name, or a household's shared phone), which
/// risk-service weighs differently. dispute-service records no ID numbers, so the
/// `id_number` kind risk-service knows is not made here.
struct PartyKeys: Sendable {
    /// The secret's bytes (Crypto's `SymmetricKey` is not `Sendable`; one is made per use).
    private let secret: [UInt8]

    init(secret: some DataProtocol) {
        self.secret = Array(secret)
    }

    /// The keys of `parties`, each as `kind:hex`, sorted and without repeats.
    func keys(of parties: [Party]) -> [String] {
        var keys: Set<String> = []
        for party in parties {
            let phone = Self.normalisedPhone(party.phone)
            let name = Self.normalisedName(party.name)
            guard phone.count >= 7 else { continue }
            keys.insert("phone:" + mac("phone\u{1F}" + phone))
            if !name.isEmpty { keys.insert("name_phone:" + mac("name_phone\u{1F}" + name + "\u{1F}" + phone)) }
        }
        return keys.sorted()
    }

    private func mac(_ text: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: SymmetricKey(data: secret)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// Digits only (full-width digits too), without China's country code: `+86`, `0086` or a
    /// bare `86` before eleven digits.
    static func normalisedPhone(_ phone: String) -> String {
        var digits = String(phone.precomposedStringWithCompatibilityMapping.unicodeScalars.filter { ("0"..."9").contains($0) }.map(Character.init))
        if digits.hasPrefix("0086") { digits.removeFirst(4) } else if digits.hasPrefix("86"), digits.count == 13 { digits.removeFirst(2) }
        return digits
    }

    /// Compatibility-normalised (full-width letters become plain), without spaces or the dots
    /// between the parts of a transliterated name, lowercased.
    static func normalisedName(_ name: String) -> String {
        let dropped: Set<Unicode.Scalar> = ["·", "•", "・", ".", "-"]
        return String(name.precomposedStringWithCompatibilityMapping.unicodeScalars
            .filter { !$0.properties.isWhitespace && !dropped.contains($0) }.map(Character.init)).lowercased()
    }

    /// The keys the process hashes with, set once at start by `DisputeApp.build`.
    ///
    /// - Note: A process-wide value because the events that carry the keys are built inside
    ///   the case store's transactions from the case alone (``DisputeCase/assessment``); the
    ///   secret is configuration of the process, like the mesh secret, not per request.
    static var current: PartyKeys? { shared.withLock { $0 } }

    static func use(_ keys: PartyKeys) { shared.withLock { $0 = keys } }

    private static let shared = Mutex<PartyKeys?>(nil)
}

extension PartyKeys {
    /// A secret for the parties' keys derived from the mesh secret, for a deployment that sets
    /// no `PARTY_KEY_SECRET`: one-way, so the mesh secret is not exposed, but every holder of
    /// the mesh secret could derive it.
    static func derivedSecret(_ meshSecret: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Data("pingan party keys v1".utf8), using: SymmetricKey(data: Data(meshSecret.utf8)))
            .map { String(format: "%02x", $0) }.joined()
    }
}
