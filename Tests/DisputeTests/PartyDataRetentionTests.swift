@testable import DisputeService
import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain
import PinganOutbox
import PinganPostgres
import PinganRuntime
import PinganTestSupport
import Testing

/// The parties' personal data kept for a term after a case ends (`PARTY_RETENTION_DAYS`),
/// played on story 3's kind of case: a land dispute in 白衣镇 mediated, settled by agreement and
/// visited, then three years on.
extension MediationStoryTests {
    @Test func theirNamesPhonesAndWordsAreErasedThreeYearsAfterTheCaseClosedAndItsFactsStay() async throws {
        let clock = ManualClock(morningOf: "2026-03-02")
        let village = "430781103201", township = "430781103000"
        try await withDispute(clock) { rpc, database in
            let townStaff = try Self.caller(township, [.staff, .mediator])
            func intake(_ names: [String], _ phone: String, _ description: String) async throws -> String {
                var intake = Pingan_Dispute_V1_IntakeCaseRequest()
                intake.requestID = UUID().wire
                intake.villageCode = village
                intake.category = .land
                intake.source = .walkIn
                intake.description_p = description
                intake.parties = names.enumerated().map { party($1, $0 == 0 ? phone : "") }
                return try await rpc.call(DisputeServiceMethods.intakeCase, intake, headers: [townStaff]).case.id
            }
            let settledID = try await intake(["周某", "吴某"], "13900001111", "周某与吴某因承包地边界争执")
            let openID = try await intake(["郑某"], "13900002222", "郑某反映邻居占用机耕道")

            // Settled at the township by agreement, then visited: the case closes on 4 March.
            var start = rung(settledID, .townshipCadre, lead: "包村干部", skip: "周某要求镇里直接调解")
            start.participants = ["周某", "吴某"]
            let attempt = try await rpc.call(DisputeServiceMethods.startRung, start, headers: [townStaff]).attempt
            var settle = end(settledID, attempt.id, .settled, agreement: ["周某", "吴某"], on: "2026-03-02")
            settle.note = "周某让出半米"
            _ = try await rpc.call(DisputeServiceMethods.endRung, settle, headers: [townStaff])
            clock.advance(by: 2 * 86_400)
            var visit = Pingan_Dispute_V1_RecordReturnVisitRequest()
            visit.caseID = settledID
            visit.outcome = .confirmed
            visit.note = "周某、吴某已按协议履行"
            #expect(try await rpc.call(DisputeServiceMethods.recordReturnVisit, visit, headers: [townStaff]).case.status == .closed)

            let pool = database.pool()
            defer { Task { await pool.close() } }
            let retention = PartyDataRetention(pool: pool, outbox: Outbox(schema: "dispute"), keep: TimeInterval(PartyDataRetention.defaultDays) * 86_400)

            // A day short of three years nothing goes; past them, the closed case only, once.
            clock.advance(by: TimeInterval(PartyDataRetention.defaultDays - 1) * 86_400)
            #expect(try await retention.run(now: clock.now, limit: 10) == 0)
            let before = try await rowsHolding("周某", in: database)
            #expect(before.keys.sorted() == ["agreements", "case_reports", "cases", "return_visits", "rung_attempts", "rung_skips", "timeline"])
            clock.advance(by: 2 * 86_400)
            #expect(try await retention.run(now: clock.now, limit: 10) == 1)
            #expect(try await retention.run(now: clock.now, limit: 10) == 0)

            // No name, phone or word of theirs is left in any table; the open case keeps its own.
            #expect(try await rowsHolding("周某", in: database).isEmpty)
            #expect(try await rowsHolding("吴某", in: database).isEmpty)
            #expect(try await rowsHolding("13900001111", in: database).isEmpty)
            #expect(try await rowsHolding("承包地", in: database).isEmpty)
            #expect(try await rowsHolding("郑某", in: database)["cases"] == 1)

            // What the centres and the index read stays: the ladder, its outcome, the dates.
            var get = Pingan_Dispute_V1_GetCaseRequest()
            get.caseID = settledID
            let file = try await rpc.call(DisputeServiceMethods.getCase, get, headers: [townStaff])
            #expect(file.case.status == .closed)
            #expect(file.case.category == .land)
            #expect(file.case.parties.count == 2)
            #expect(file.case.parties.allSatisfy { $0.name.isEmpty && $0.phone.isEmpty })
            #expect(file.case.description_p.isEmpty)
            #expect(Date(wireTimestamp: file.case.personalDataErasedAt) == clock.now.atPostgresPrecision)
            #expect(file.rungs.map(\.outcome) == [.settled])
            #expect(file.rungs.map(\.lead) == ["包村干部"])
            #expect(file.agreement.signedOn == "2026-03-02" && file.agreement.terms.isEmpty && file.agreement.signatories.isEmpty)
            #expect(file.returnVisit.outcome == .confirmed && file.returnVisit.note.isEmpty)
            #expect(file.timeline.first?.kind == PartyDataRetention.timelineKind)
            #expect(file.timeline.first?.note.contains("1095 天") == true)
            #expect(file.timeline.dropFirst().map(\.kind) == ["return_visit", "agreement_signed", "rung_ended", "rung_started", "opened"])
            let open = try await rpc.call(DisputeServiceMethods.getCase, .with { $0.caseID = openID }, headers: [townStaff])
            #expect(open.case.personalDataErasedAt.isEmpty && open.case.description_p == "郑某反映邻居占用机耕道")

            // In the same transaction, risk-service is told to drop the parties' keys.
            let events = try await pool.query("SELECT payload FROM dispute.outbox WHERE topic = 'case.changed' ORDER BY created_at DESC LIMIT 1")
            let told = try Pingan_Risk_V1_AssessCaseRequest(serializedBytes: try #require(events.first).decode(Data.self, at: 0))
            #expect(told.caseID == settledID && told.personalDataErased && told.partyKeys.isEmpty && told.closed)
        }
    }

    @Test func theTermIsASettingOfOneToTwentyYears() throws {
        let base = ["MESH_SECRET": TestMesh.secret]
        #expect(try DisputeSettings(SettingsReader(base)).partyRetention == 1095 * 86_400)
        var two = base
        two["PARTY_RETENTION_DAYS"] = "730"
        #expect(try DisputeSettings(SettingsReader(two)).partyRetention == 730 * 86_400)
        expectRefused("PARTY_RETENTION_DAYS", ["364", "7301", "three years"], over: base) { try DisputeSettings($0) }
    }
}
