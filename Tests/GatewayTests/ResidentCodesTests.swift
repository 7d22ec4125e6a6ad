import Foundation
@testable import GatewayService
import PinganPostgres
import PinganTestSupport
import Testing

/// Issue 27: the one-time codes residents sign in with, against the gateway's own table: good
/// once, ten minutes, five wrong tries, one a minute and five an hour per phone, only a digest
/// kept, and a day's codes swept.
@Suite("gateway: residents' one-time codes")
struct ResidentCodesTests {
    @Test func aCodeServesOnceWithinItsTimeAndWrongTriesBurnIt() async throws {
        try await TestDatabase.with { database in
            let pool = database.pool()
            defer { Task { await pool.close() } }
            try await GatewayMigrations.migrator.migrate(pool, logger: TestEnvironment.logger)
            let codes = ResidentCodes(pool: pool)
            let clock = ManualClock(morningOf: "2026-05-11")
            let phone = "13800138000"

            let first = try await codes.issue(phone: phone, now: clock.now)
            // Only the digest is stored: the code is nowhere in the table.
            let stored = try await pool.query("SELECT digest FROM gateway.resident_codes").map { try $0.decode(String.self, at: 0) }
            #expect(stored.count == 1 && !stored[0].contains(first.code) && stored[0] == ResidentCodes.digest(id: first.id, code: first.code))
            // A second within the minute is refused.
            await #expect(throws: ResidentCodes.Refusal.tooMany) { _ = try await codes.issue(phone: phone, now: clock.now.addingTimeInterval(30)) }
            // Taken once; again, refused.
            try await codes.redeem(phone: phone, code: first.code, now: clock.now.addingTimeInterval(60))
            await #expect(throws: ResidentCodes.Refusal.wrongOrExpired) { try await codes.redeem(phone: phone, code: first.code, now: clock.now.addingTimeInterval(61)) }

            // Five wrong tries burn a code, even the right one after them.
            clock.advance(by: 120)
            let second = try await codes.issue(phone: phone, now: clock.now)
            let wrong = second.code == "000000" ? "000001" : "000000"
            for _ in 0..<5 {
                await #expect(throws: ResidentCodes.Refusal.wrongOrExpired) { try await codes.redeem(phone: phone, code: wrong, now: clock.now) }
            }
            await #expect(throws: ResidentCodes.Refusal.wrongOrExpired) { try await codes.redeem(phone: phone, code: second.code, now: clock.now) }

            // Ten minutes is the life of a code.
            clock.advance(by: 120)
            let third = try await codes.issue(phone: phone, now: clock.now)
            await #expect(throws: ResidentCodes.Refusal.wrongOrExpired) { try await codes.redeem(phone: phone, code: third.code, now: clock.now.addingTimeInterval(601)) }

            // Five an hour: the fourth and fifth go, the sixth within the hour does not.
            for _ in 0..<2 {
                clock.advance(by: 61)
                _ = try await codes.issue(phone: phone, now: clock.now)
            }
            clock.advance(by: 61)
            await #expect(throws: ResidentCodes.Refusal.tooMany) { _ = try await codes.issue(phone: phone, now: clock.now) }

            // A day later, issuing any phone's code sweeps everyone's old ones.
            clock.advance(by: 86_400 + 1)
            _ = try await codes.issue(phone: "13900139000", now: clock.now)
            let left = try await pool.query("SELECT phone FROM gateway.resident_codes").map { try $0.decode(String.self, at: 0) }
            #expect(left == ["13900139000"])
        }
    }
}
