import Foundation
import GridService
import PinganOutbox
import PinganPostgres
import PinganTestSupport
import Testing

/// Events that could not be delivered are parked for an operator, but not for ever: their
/// payloads (a case's parties' names and phones) are erased after the documented retention.
@Suite("outbox retention")
struct OutboxRetentionTests {
    @Test func parkedEventsLoseTheirPayloadAfterThirtyDaysAndKeepTheRest() async throws {
        try await TestDatabase.with { database in
            // grid-service's own migrations make its outbox.
            try await GridApp.build(settings: try TestMesh.settings(databaseURL: database.url)).test(.router) { _ in }
            let pool = database.pool()
            defer { Task { await pool.close() } }
            let old = UUID(), recent = UUID(), pending = UUID()
            let payload = Data("张三 13812345678".utf8)
            for (id, parked) in [(old, "now() - interval '31 days'"), (recent, "now() - interval '29 days'"), (pending, "NULL")] {
                try await pool.query(
                    "INSERT INTO grid.outbox (id, topic, payload, parked_at, last_error) VALUES ($1, 'incident.reported', $2, \(parked), 'refused')",
                    [id, payload]
                )
            }
            try await OutboxRelay.erasePayloadsOfLongParkedEvents(in: "grid", pool: pool)
            let rows = try await pool.query("SELECT id, octet_length(payload), topic, last_error FROM grid.outbox ORDER BY id")
            let sizes = Dictionary(uniqueKeysWithValues: try rows.map { (try $0.decode(UUID.self, at: 0), try $0.decode(Int.self, at: 1)) })
            #expect(sizes[old] == 0)
            #expect(sizes[recent] == payload.count && sizes[pending] == payload.count)
            #expect(try rows.allSatisfy { try $0.decode(String.self, at: 2) == "incident.reported" && $0.decode(String.self, at: 3) == "refused" })
        }
    }
}
