@testable import DisputeService
import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain
import PinganRuntime
import PinganTestSupport
import Testing

/// Issue 28: a source loaded in bulk (a day of the grid chat groups' screening notes as CSV)
/// goes the way an intake does, with the same checks: each report opens a case or joins the
/// same parties' case, keeps its time, and tells risk-service in the same commit.
@Suite("dispute: a source's reports in bulk")
struct ReportImportTests {
    static let clock = ManualClock(morningOf: "2026-06-15")

    func load(_ text: String, into database: TestDatabase, source: String = "screening") async throws -> ImportSummary {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("reports-\(UUID()).csv").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let settings = DisputeSettings(service: try TestMesh.settings(databaseURL: database.url))
        return try await DisputeApp.importReports(settings: settings, path: path, source: source, by: "user:clerk", now: { Self.clock.now })
    }

    func count(_ database: TestDatabase, _ sql: String) async throws -> Int {
        let pool = database.pool()
        defer { Task { await pool.close() } }
        return try await pool.query(sql).first?.decode(Int.self, at: 0) ?? -1
    }

    static let header = "legacy_id,village_code,category,reported_at,description,parties,threat_of_violence,threat_of_self_harm"

    @Test func aDaysScreeningNotesOpenAndJoinCasesAtTheirOwnTimesAndTellRisk() async throws {
        try await withDispute(now: { Self.clock.now }) { rpc, database in
            let file = """
                \(Self.header)
                WX-0613-01,\(Place.villageA),land,2026-06-13T19:20:00+08:00,"（群聊）甲某家和乙某家为田埂吵起来了",甲某、乙某,false,false
                WX-0614-07,\(Place.villageA),land,2026-06-14T08:05:00+08:00,乙某说要去甲某家讨说法,乙某、甲某,true,false
                WX-0614-09,\(Place.villageB),neighbour,2026-06-14T21:00:00+08:00,丙某反映邻居夜间施工,丙某,false,false
                """
            let summary = try await load(file, into: database)
            #expect(summary.read == 3 && summary.imported == 3 && summary.refused == 0)
            let town = try person(Place.townA, [.staff])
            let cases = try await rpc.call(DisputeServiceMethods.listCases, .with { $0.divisionCode = Place.townA }, headers: [town]).cases
            #expect(cases.count == 1)
            let joined = try #require(cases.first)
            #expect(joined.source == .screening && joined.incidents == 2 && joined.threatOfViolence)
            #expect(joined.openedAt.hasPrefix("2026-06-13T11:20:00"))
            // Two cases opened and one joined: three events for risk-service, in the same commits.
            #expect(try await count(database, "SELECT count(*) FROM dispute.outbox WHERE topic IN ('case.opened', 'case.changed')") == 3)
            // The same file again: nothing new, no event more.
            let again = try await load(file, into: database)
            #expect(again.imported == 0 && again.alreadyPresent == 3)
            #expect(try await count(database, "SELECT count(*) FROM dispute.outbox WHERE topic IN ('case.opened', 'case.changed')") == 3)
            #expect(try await count(database, "SELECT count(*) FROM dispute.case_reports WHERE reported_by = 'import:user:clerk'") == 3)
        }
    }

    /// A day's notes from 澧县's chat groups, once 澧县 runs its own platform (its relay has
    /// called the city): each is refused by line at the city, whose records there would have
    /// two owners; 临澧县's are taken.
    @Test func notesUnderACountyThatRunsItsOwnPlatformAreRefusedByLine() async throws {
        try await withDispute(now: { Self.clock.now }) { rpc, database in
            _ = try await rpc.call(FederationServiceMethods.receiveCases, .with {
                $0.completeAsOf = Self.clock.now.addingTimeInterval(-60).wireTimestamp
            }, headers: [try person(Place.lixian, [.federation])])
            let lixian = """
                \(Self.header)
                WX-0614-01,430724101201,neighbour,2026-06-14T08:00:00+08:00,戊某反映邻居占道,戊某,false,false
                WX-0614-02,\(Place.villageA),land,2026-06-14T09:00:00+08:00,甲某家和乙某家为田埂吵起来了,甲某、乙某,false,false
                WX-0614-03,\(Place.villageB),neighbour,2026-06-14T10:00:00+08:00,丙某反映邻居夜间施工,丙某,false,false
                """
            let refused = try await load(lixian, into: database)
            #expect(refused.imported == 0 && refused.refusals.map(\.line) == [3, 4])
            #expect(refused.refusals.allSatisfy { $0.field == "village_code" && $0.reason.contains("county \(Place.lixian) runs its own platform") })
            #expect(try await count(database, "SELECT count(*) FROM dispute.cases") == 0)
            let taken = try await load(lixian.split(separator: "\n").prefix(2).joined(separator: "\n"), into: database)
            #expect(taken.imported == 1 && taken.refused == 0)
        }
    }

    @Test func badLinesAreRefusedAsIntakeRefusesThemAndNothingOfTheBatchIsTaken() async throws {
        try await withDispute(now: { Self.clock.now }) { _, database in
            let file = """
                \(Self.header)
                WX-1,\(Place.villageA),land,2026-06-14T08:00:00+08:00,田埂纠纷,甲某,false,false
                WX-2,\(Place.townA),land,2026-06-14T08:00:00+08:00,田埂纠纷,甲某,false,false
                WX-3,\(Place.villageA),land,2026-06-16T08:00:00+08:00,田埂纠纷,甲某,false,false
                WX-4,\(Place.villageA),land,2026-04-01T08:00:00+08:00,田埂纠纷,甲某,false,false
                WX-5,\(Place.villageA),land,2026-06-14T08:00:00+08:00,田埂纠纷,,false,false
                WX-6,\(Place.villageA),weather,2026-06-14T08:00:00+08:00,田埂纠纷,甲某,maybe,false
                WX-7,\(Place.villageA),land,2026-06-14T08:00:00+08:00,"没有闭合的引号,甲某,false,false
                WX-1,\(Place.villageA),land,2026-06-14T09:00:00+08:00,田埂纠纷,甲某,false,false
                """
            let summary = try await load(file, into: database)
            #expect(summary.imported == 0 && summary.batchesRefused == 1)
            let byLine = Dictionary(grouping: summary.refusals, by: \.line).mapValues { Set($0.map(\.field)) }
            #expect(byLine[2] == nil)
            #expect(byLine[3] == ["village_code"] && byLine[4] == ["reported_at"] && byLine[5] == ["reported_at"] && byLine[6] == ["parties"])
            #expect(byLine[7] == ["category", "threat_of_violence"] && byLine[8] == ["line"] && byLine[9] == ["legacy_id"])
            #expect(try await count(database, "SELECT count(*) FROM dispute.cases") == 0)
            await #expect(throws: ImportError.self) { _ = try await load("id,village\n", into: database) }
            await #expect(throws: ImportError.self) { _ = try await load("\(Self.header)\n", into: database, source: "grid_report") }
        }
    }
}
