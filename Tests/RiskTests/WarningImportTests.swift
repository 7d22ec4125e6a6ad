@testable import RiskService
import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain
import PinganOutbox
import PinganRuntime
import PinganTestSupport
import Testing

/// Issue 26: the warnings of the system a deployment replaces, with their closed loops, named
/// by their case's legacy id as dispute-service's import names the case.
@Suite("risk: importing warnings")
struct WarningImportTests {
    static let clock = ManualClock(morningOf: "2026-06-15")
    static let village = "430723102201"

    func load(_ text: String, into database: TestDatabase) async throws -> ImportSummary {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("warnings-\(UUID()).ndjson").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try await RiskApp.importWarnings(settings: RiskSettings(service: try TestMesh.settings(databaseURL: database.url)), path: path,
                                                by: "user:zhang", now: { Self.clock.now })
    }

    static let history = """
        {"legacy_id":"YJ-1","case_legacy_id":"AJ-1","village_code":"\(village)","score":85,"level":"重大","raised_at":"2026-03-02T10:00:00+08:00","steps":[{"kind":"acknowledge","at":"2026-03-02T10:20:00+08:00","by":"王某"},{"kind":"assign","at":"2026-03-02T11:00:00+08:00","by":"王某","note":"包村干部李某"},{"kind":"feed_back","at":"2026-03-04T16:00:00+08:00","by":"李某","note":"已上门调解"},{"kind":"evaluate","at":"2026-03-05T09:00:00+08:00","by":"王某","note":"风险已降低"},{"kind":"close","at":"2026-03-05T09:30:00+08:00","by":"王某","note":"化解"}]}
        {"legacy_id":"YJ-2","case_legacy_id":"AJ-2","village_code":"\(village)","score":65,"level":"较大","raised_at":"2026-04-01T09:00:00+08:00","steps":[{"kind":"acknowledge","at":"2026-04-01T09:10:00+08:00","by":"王某"}]}
        """

    @Test func warningsKeepTheirLoopsAndTimesAndAReimportChangesNothing() async throws {
        try await TestDatabase.with { database in
            let first = try await load(Self.history, into: database)
            #expect(first.imported == 2 && first.refused == 0)
            let settings = RiskSettings(service: try TestMesh.settings(databaseURL: database.url), acknowledgeWithin: .seconds(1800), scanInterval: .seconds(3600))
            let app = try RiskApp.build(settings: settings, now: { Self.clock.now })
            try await app.test(.router) { client in
                let rpc = InProcessClient(client)
                let town = try TestMesh.principal(centre: "430723102000", roles: [.staff])
                let closed = try await rpc.call(RiskServiceMethods.getWarning, .with { $0.warningID = UUID.named("pingan-warning|YJ-1").wire }, headers: [town]).warning
                #expect(closed.status == .closed && closed.level == .major && closed.caseID == UUID.named("pingan-case|AJ-1").wire)
                #expect(closed.steps.map(\.kind) == ["raised", "acknowledge", "assign", "feed_back", "evaluate", "close"])
                #expect(closed.steps.last?.note == "化解" && closed.steps.first?.note.contains("YJ-1") == true)
                let open = try await rpc.call(RiskServiceMethods.getWarning, .with { $0.warningID = UUID.named("pingan-warning|YJ-2").wire }, headers: [town]).warning
                #expect(open.status == .acknowledged && open.centreCode == "430723102000")
            }
            let again = try await load(Self.history, into: database)
            #expect(again.imported == 0 && again.alreadyPresent == 2)
            // A second open warning of AJ-2 is refused: a case has one open warning at a time.
            let clash = try await load("""
                {"legacy_id":"YJ-3","case_legacy_id":"AJ-2","village_code":"\(Self.village)","score":70,"level":"较大","raised_at":"2026-05-01T09:00:00+08:00","steps":[]}
                {"legacy_id":"YJ-4","case_legacy_id":"AJ-4","village_code":"4307","score":170,"level":"高","raised_at":"2027-01-01T09:00:00+08:00","steps":[{"kind":"close","at":"2026-05-01T09:00:00+08:00","by":"王某"},{"kind":"acknowledge","at":"2026-05-02T09:00:00+08:00","by":"王某"}]}
                """, into: database)
            #expect(clash.imported == 0)
            let fields = Dictionary(grouping: clash.refusals, by: \.line).mapValues { Set($0.map(\.field)) }
            #expect(fields[2] == ["village_code", "score", "level", "raised_at", "steps[0].note", "steps[1].kind"])
            let pool = database.pool()
            defer { Task { await pool.close() } }
            #expect(try await pool.query("SELECT count(*) FROM risk.warnings WHERE imported_by = 'import:user:zhang'").first?.decode(Int.self, at: 0) == 2)
        }
    }

    /// A warning acknowledged late carries the escalation the old system made, and the index's
    /// facts count it as not acknowledged in time; an escalation after the acknowledgement is refused.
    @Test func aLateAcknowledgementArrivesWithItsEscalationAndCountsAsLate() async throws {
        try await TestDatabase.with { database in
            let summary = try await load("""
                {"legacy_id":"YJ-10","case_legacy_id":"AJ-10","village_code":"\(Self.village)","score":70,"level":"较大","raised_at":"2026-03-10T10:00:00+08:00","steps":[{"kind":"acknowledge","at":"2026-03-10T10:12:00+08:00","by":"王某"}]}
                {"legacy_id":"YJ-11","case_legacy_id":"AJ-11","village_code":"\(Self.village)","score":70,"level":"较大","raised_at":"2026-03-11T10:00:00+08:00","steps":[{"kind":"escalated","at":"2026-03-11T10:30:00+08:00","by":"risk-service","note":"430723102000 → 430723000000"},{"kind":"acknowledge","at":"2026-03-11T11:05:00+08:00","by":"王某"}]}
                """, into: database)
            #expect(summary.imported == 2 && summary.refused == 0)
            let late = try await load("""
                {"legacy_id":"YJ-12","case_legacy_id":"AJ-12","village_code":"\(Self.village)","score":70,"level":"较大","raised_at":"2026-03-12T10:00:00+08:00","steps":[{"kind":"acknowledge","at":"2026-03-12T10:12:00+08:00","by":"王某"},{"kind":"escalated","at":"2026-03-12T10:40:00+08:00","by":"risk-service","note":"too late"}]}
                """, into: database)
            #expect(late.imported == 0 && late.refusals.map(\.field) == ["steps[1].kind"])
            let pool = database.pool()
            let store = PostgresRiskStore(pool: pool, outbox: Outbox(schema: "risk"))
            let facts = try await store.facts(under: try DivisionCode(validating: "430723000000"), in: Month(year: 2026, month: 3))
            await pool.close()
            #expect(facts.map(\.raised) == [2] && facts.map(\.acknowledged) == [2] && facts.map(\.acknowledgedInTime) == [1])
        }
    }
}
