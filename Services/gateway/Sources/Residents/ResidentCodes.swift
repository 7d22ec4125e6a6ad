import Crypto
import Foundation
import PinganConnect
import PinganDomain
import PinganPostgres

/// One-time codes residents sign in with: six digits texted to their phone, valid ten
/// minutes, good once, burnt after five wrong tries. Only a digest is stored, and no code is
/// ever logged.
struct ResidentCodes: Sendable {
    let pool: PostgresPool
    var lifetime: TimeInterval = 600
    /// A phone gets a new code at most once a minute and five times an hour.
    var perMinute = 1
    var perHour = 5
    var maxAttempts = 5

    enum Refusal: Error, CustomStringConvertible {
        case tooMany
        case wrongOrExpired

        var description: String {
            switch self {
            case .tooMany: "验证码发送过于频繁，请稍后再试。"
            case .wrongOrExpired: "验证码不正确或已失效，请重新获取。"
            }
        }
    }

    /// A new code for `phone`, and its id (which the text is sent under, so a retry of the
    /// send texts nothing twice); ``Refusal/tooMany`` past the limits.
    func issue(phone: String, now: Date) async throws -> (id: UUID, code: String) {
        try await pool.transaction { transaction in
            let counts = try await transaction.pipeline([
                ("SELECT pg_advisory_xact_lock(hashtext('resident-code:' || $1))", [phone]),
                ("SELECT count(*) FILTER (WHERE created_at > $2), count(*) FILTER (WHERE created_at > $3) FROM gateway.resident_codes WHERE phone = $1 AND created_at > $3",
                 [phone, now.addingTimeInterval(-60), now.addingTimeInterval(-3600)]),
            ])
            let row = counts[1].first
            if try row?.decode(Int.self, at: 0) ?? 0 >= perMinute || row?.decode(Int.self, at: 1) ?? 0 >= perHour { throw Refusal.tooMany }
            var generator = SystemRandomNumberGenerator()
            let code = String(format: "%06d", Int(generator.next(upperBound: UInt32(1_000_000))))
            let id = UUID()
            try await transaction.query(
                "INSERT INTO gateway.resident_codes (id, phone, digest, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
                [id, phone, Self.digest(id: id, code: code), now, now.addingTimeInterval(lifetime)]
            )
            // Codes older than a day, anyone's: the table holds about a day of sign-ins, so the
            // sweep reads little, and no phone's codes outlive it.
            try await transaction.query("DELETE FROM gateway.resident_codes WHERE created_at < $1", [now.addingTimeInterval(-86_400)])
            return (id, code)
        }
    }

    /// Takes `code` for `phone` once: the newest unexpired, unused code must match. A wrong
    /// code counts against it; the fifth burns it.
    func redeem(phone: String, code: String, now: Date) async throws {
        // The count of a wrong try must commit, so the refusal is thrown after the transaction.
        let taken = try await pool.transaction { transaction -> Bool in
            guard let row = try await transaction.query(
                """
                SELECT id, digest, attempts FROM gateway.resident_codes
                WHERE phone = $1 AND used_at IS NULL AND expires_at > $2 ORDER BY created_at DESC LIMIT 1 FOR UPDATE
                """,
                [phone, now]
            ).first else { return false }
            let id = try row.decode(UUID.self, at: 0)
            guard try row.decode(Int.self, at: 2) < maxAttempts else { return false }
            guard try row.decode(String.self, at: 1) == Self.digest(id: id, code: code) else {
                try await transaction.query("UPDATE gateway.resident_codes SET attempts = attempts + 1 WHERE id = $1", [id])
                return false
            }
            try await transaction.query("UPDATE gateway.resident_codes SET used_at = $2 WHERE id = $1", [id, now])
            return true
        }
        guard taken else { throw Refusal.wrongOrExpired }
    }

    static func digest(id: UUID, code: String) -> String {
        SHA256.hash(data: Data("\(id.uuidString)|\(code)".utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
