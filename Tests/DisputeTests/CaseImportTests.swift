@testable import DisputeService
import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain
import PinganPostgres
import PinganRuntime
import PinganTestSupport
import Testing

/// Issue 26: cases brought in from the system a deployment replaces (`dispute-service import
/// cases`), with their ladder, summons, agreement and return visits, as the mediators would
/// find them afterwards: times kept, deadlines on the official calendar, marked as imported.
@Suite("dispute: importing cases")
struct CaseImportTests {
    static let now = ManualClock(morningOf: "2026-06-15")

    /// A 2026 history in 小渡口镇's village: closed after the second rung with a department
    /// summoned; still at the third rung, long past its deadline; resolved without settlement.
    static let history = """
        {"legacy_id":"AJ-1","village_code":"\(Place.villageA)","category":"land","source":"hotline","reported_at":"2026-03-02T09:00:00+08:00","description":"承包地界址争议","parties":[{"name":"甲某","phone":"13800000001","minor":false},{"name":"乙某","phone":"","minor":false}],"threat_of_violence":true,"rungs":[{"rung":"finder","mediation_kind":"peoples","started_at":"2026-03-02T10:00:00+08:00","ended_at":"2026-03-04T16:00:00+08:00","outcome":"failed"},{"rung":"village_secretary","mediation_kind":"peoples","started_at":"2026-03-05T09:00:00+08:00","ended_at":"2026-03-09T17:00:00+08:00","outcome":"settled"}],"summons":[{"legacy_id":"ZH-1","department":{"legacy_id":"BM-7","name":"小渡口镇国土所","centre_code":"\(Place.townA)"},"rung":"village_secretary","summoned_at":"2026-03-05T10:00:00+08:00","reported_at":"2026-03-05T15:00:00+08:00","fed_back_at":"2026-03-09T11:00:00+08:00","feedback":"已现场测量"}],"agreement":{"signed_on":"2026-03-09","terms":"按1998年承包合同界址","written":true},"return_visits":[{"visited_at":"2026-03-20T10:00:00+08:00","outcome":"confirmed","note":"双方无异议"}],"status":"closed","closed_at":"2026-03-20T10:00:00+08:00"}

        {"legacy_id":"AJ-2","village_code":"\(Place.villageA)","category":"neighbour","source":"grid_report","reported_at":"2026-04-01T08:00:00+08:00","description":"邻里通行纠纷","parties":[{"name":"丙某","phone":"","minor":false}],"rungs":[{"rung":"finder","mediation_kind":"peoples","started_at":"2026-04-01T09:00:00+08:00","ended_at":"2026-04-02T09:00:00+08:00","outcome":"failed"},{"rung":"township_cadre","mediation_kind":"administrative","started_at":"2026-04-03T09:00:00+08:00"}],"summons":[],"agreement":null,"return_visits":[],"status":"open","closed_at":null}
        {"legacy_id":"AJ-3","village_code":"\(Place.villageB)","category":"economic_debt","source":"walk_in","reported_at":"2026-05-06T09:00:00+08:00","description":"欠款纠纷","parties":[{"name":"丁某","phone":"","minor":false}],"rungs":[],"summons":[],"agreement":null,"return_visits":[],"status":"resolved","closed_at":"2026-05-07T09:00:00+08:00","resolution":"当事人撤回"}
        """

    func importing(_ text: String, into database: TestDatabase, batch: Int = 1000) async throws -> (ImportSummary, [ImportRefusal]) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cases-\(UUID()).ndjson").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let settings = DisputeSettings(service: try TestMesh.settings(databaseURL: database.url))
        let summary = try await DisputeApp.importCases(settings: settings, path: path, by: "user:zhang", batchSize: batch, now: { Self.now.now })
        return (summary, summary.refusals)
    }

    func count(_ database: TestDatabase, _ sql: String) async throws -> Int {
        let pool = database.pool()
        defer { Task { await pool.close() } }
        return try await pool.query(sql).first?.decode(Int.self, at: 0) ?? -1
    }

    @Test func aHistoryKeepsItsTimesAndStepsAndAReimportChangesNothing() async throws {
        try await withDispute(now: { Self.now.now }) { rpc, database in
            let (summary, refusals) = try await importing(Self.history, into: database)
            #expect(refusals.isEmpty && summary.read == 3 && summary.imported == 3 && summary.batchesApplied == 1)
            let town = try person(Place.townA, [.staff, .mediator])
            let listed = try await rpc.call(DisputeServiceMethods.listCases, .with { $0.divisionCode = Place.townA }, headers: [town]).cases
            #expect(listed.count == 2)
            let closed = try #require(listed.first { $0.description_p == "承包地界址争议" })
            #expect(closed.status == .closed && closed.source == .hotline && closed.openedAt.hasPrefix("2026-03-02T01:00:00"))
            // Named by its legacy id: another service's import can name it by AJ-1 alone.
            #expect(closed.id == UUID.named("pingan-case|AJ-1").wire)
            let file = try await rpc.call(DisputeServiceMethods.getCase, .with { $0.caseID = closed.id }, headers: [town])
            #expect(file.rungs.map(\.rung) == [.finder, .villageSecretary] && file.rungs.map(\.outcome) == [.failed, .settled])
            // Deadlines on the official calendar from each rung's real start: 3 working days
            // from Monday 2 March is the end of Thursday 5 March.
            #expect(file.rungs[0].deadline.dueAt.hasPrefix("2026-03-05T16:00:00"))
            #expect(file.agreement.terms == "按1998年承包合同界址" && file.returnVisit.outcome == .confirmed)
            #expect(file.summons.count == 1 && file.summons[0].departmentName == "小渡口镇国土所" && file.summons[0].feedback == "已现场测量")
            #expect(file.timeline.first?.kind == "return_visit" && file.timeline.last?.kind == "opened")
            #expect(file.timeline.last?.note.contains("AJ-1") == true)
            #expect(try await count(database, "SELECT count(*) FROM dispute.cases WHERE imported_by = 'import:user:zhang' AND imported_at IS NOT NULL AND legacy_id IS NOT NULL") == 3)

            // The same file again: nothing new, nothing doubled.
            let before = try await count(database, "SELECT (SELECT count(*) FROM dispute.rung_attempts) + (SELECT count(*) FROM dispute.timeline) + (SELECT count(*) FROM dispute.departments)")
            let (again, _) = try await importing(Self.history, into: database)
            #expect(again.imported == 0 && again.alreadyPresent == 3)
            #expect(try await count(database, "SELECT (SELECT count(*) FROM dispute.rung_attempts) + (SELECT count(*) FROM dispute.timeline) + (SELECT count(*) FROM dispute.departments)") == before)

            // History past its deadline is not pushed as news by the overdue scan.
            let settings = DisputeSettings(service: try TestMesh.settings(databaseURL: database.url))
            #expect(try await DisputeApp.scanOverdueOnce(settings: settings, now: Self.now.now) == 0)

            // The months' facts count the imported steps where they happened.
            let march = try await rpc.call(DisputeServiceMethods.caseFacts, .with { $0.rootCode = Place.townA; $0.month = "2026-03" }, headers: [town]).facts
            let village = try #require(march.first { $0.villageCode == Place.villageA })
            #expect(village.opened == 1 && village.rungsEnded == 2 && village.rungsSettled == 1 && village.returnVisitsConfirmed == 1
                    && village.summonsAnswered == 1 && village.summonsLate == 0)
            let may = try await rpc.call(DisputeServiceMethods.caseFacts, .with { $0.rootCode = Place.lixian; $0.month = "2026-05" }, headers: [try person(Place.lixian, [.staff])]).facts
            #expect(may.first { $0.villageCode == Place.villageB }?.resolved == 1)
        }
    }

    /// The departments a batch's summons name are registered once each: a second legacy id
    /// for the same name at the same centre, and a department made in Pingan before the
    /// import, are the department already there.
    @Test func summonedDepartmentsAreRegisteredOnceByLegacyIdOrByNameAtTheirCentre() async throws {
        try await withDispute(now: { Self.now.now }) { _, database in
            let pool = database.pool()
            defer { Task { await pool.close() } }
            let made = UUID.random()
            try await pool.query(
                "INSERT INTO dispute.departments (id, centre_code, name, api_key_name, created_at) VALUES ($1, $2, '小渡口镇派出所', 'made-in-pingan', now())",
                [made, Place.townA]
            )
            let good = Self.history.split(separator: "\n").first.map(String.init) ?? ""
            func line(_ legacyID: String, department: [String: String]) throws -> String {
                var object = try #require(try JSONSerialization.jsonObject(with: Data(good.utf8)) as? [String: Any])
                object["legacy_id"] = legacyID
                var summons = try #require((object["summons"] as? [[String: Any]])?.first)
                summons["department"] = department
                object["summons"] = [summons]
                return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
            }
            let file = [
                try line("AJ-11", department: ["legacy_id": "BM-1", "name": "小渡口镇国土所", "centre_code": Place.townA]),
                try line("AJ-12", department: ["legacy_id": "BM-2", "name": "小渡口镇国土所", "centre_code": Place.townA]),
                try line("AJ-13", department: ["legacy_id": "BM-3", "name": "小渡口镇派出所", "centre_code": Place.townA]),
                try line("AJ-14", department: ["legacy_id": "BM-1", "name": "小渡口镇国土所", "centre_code": Place.townA]),
            ].joined(separator: "\n")
            let (summary, refusals) = try await importing(file, into: database, batch: 2)
            #expect(refusals.isEmpty && summary.imported == 4 && summary.batchesApplied == 2)
            let departments = try await pool.query("SELECT legacy_id, name, id FROM dispute.departments ORDER BY name")
            #expect(departments.count == 2)
            #expect(try departments.map { try $0.decode(String?.self, at: 0) } == ["BM-1", nil])
            let landOffice = try departments[0].decode(UUID.self, at: 2)
            let summoned = try await pool.query(
                "SELECT c.legacy_id, s.department_id FROM dispute.summons s JOIN dispute.cases c ON c.id = s.case_id ORDER BY c.legacy_id"
            ).map { (try $0.decode(String.self, at: 0), try $0.decode(UUID.self, at: 1)) }
            #expect(summoned.map(\.0) == ["AJ-11", "AJ-12", "AJ-13", "AJ-14"])
            #expect(summoned.map(\.1) == [landOffice, landOffice, made, landOffice])
        }
    }

    @Test func everyKindOfBadLineIsReportedByLineAndItsBatchIsNotApplied() async throws {
        try await withDispute(now: { Self.now.now }) { _, database in
            let good = Self.history.split(separator: "\n").first.map(String.init) ?? ""
            func line(_ edit: (inout [String: Any]) -> Void) throws -> String {
                var object = try #require(try JSONSerialization.jsonObject(with: Data(good.utf8)) as? [String: Any])
                object["legacy_id"] = "AJ-\(UUID().uuidString.prefix(8))"
                edit(&object)
                return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
            }
            let file = [
                good,                                                                   // 1: good
                "{not json",                                                            // 2
                try line { $0["colour"] = "red" },                                      // 3: unknown field
                try line { $0["reported_at"] = "2027-01-01T00:00:00+08:00" },           // 4: future
                try line { $0["village_code"] = Place.townA },                          // 5: not a village
                try line { $0["prior_police_calls"] = "many" },                         // 6: wrong type
                try line { $0["status"] = "settled"; $0["agreement"] = NSNull() },      // 7: settled without agreement
                try line { $0["rungs"] = [["rung": "township_cadre", "mediation_kind": "peoples", "started_at": "2026-03-02T10:00:00+08:00", "ended_at": "2026-03-03T10:00:00+08:00", "outcome": "failed"],
                                          ["rung": "finder", "mediation_kind": "peoples", "started_at": "2026-03-04T10:00:00+08:00"]] }, // 8: down the ladder
                good,                                                                   // 9: the same legacy id as line 1
            ].joined(separator: "\n")
            let (summary, refusals) = try await importing(file, into: database)
            #expect(summary.imported == 0 && summary.batchesRefused == 1)
            let byLine = Dictionary(grouping: refusals, by: \.line).mapValues { $0.map(\.field) }
            #expect(byLine[2] == ["json"] && byLine[3] == ["colour"] && byLine[4] == ["reported_at"] && byLine[5] == ["village_code"])
            #expect(byLine[6] == ["prior_police_calls"] && byLine[7]?.contains("status") == true && byLine[8]?.contains("rungs[1].rung") == true)
            #expect(byLine[1] == nil && byLine[9] == ["legacy_id"])
            #expect(try await count(database, "SELECT count(*) FROM dispute.cases") == 0)
            // Fixed, the file goes in whole.
            let (fixed, none) = try await importing(good, into: database)
            #expect(fixed.imported == 1 && none.isEmpty)
        }
    }

    /// Once 澧县 runs its own platform (its relay has called the city), its history is its
    /// own to import: the city's import refuses a new case there by line, as a walk-in at the
    /// city's window is refused, and takes another county's.
    @Test func aCountyThatRunsItsOwnPlatformImportsItsOwnHistory() async throws {
        try await withDispute(now: { Self.now.now }) { rpc, database in
            let lines = Self.history.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let (before, _) = try await importing(lines[0], into: database)
            #expect(before.imported == 1)

            _ = try await rpc.call(FederationServiceMethods.receiveCases, .with {
                $0.completeAsOf = Self.now.now.addingTimeInterval(-60).wireTimestamp
            }, headers: [try person(Place.lixian, [.federation])])
            let linli = lines[3].replacingOccurrences(of: "\"AJ-3\"", with: "\"LL-1\"").replacingOccurrences(of: Place.villageB, with: "430724101201")
            let (refused, refusals) = try await importing(([linli] + lines).joined(separator: "\n"), into: database)
            // Line 2 (AJ-1) was imported before the county called: present, not refused.
            #expect(refused.imported == 0 && refused.batchesRefused == 1)
            #expect(refusals.map(\.line) == [4, 5] && refusals.allSatisfy { $0.field == "village_code" && $0.reason.contains("county \(Place.lixian) runs its own platform") })
            #expect(try await count(database, "SELECT count(*) FROM dispute.cases") == 1)

            let (taken, none) = try await importing(linli, into: database)
            #expect(taken.imported == 1 && none.isEmpty)
            #expect(try await count(database, "SELECT count(*) FROM dispute.cases WHERE village_code = '430724101201'") == 1)
        }
    }
}
