import Foundation
import PinganConnect
import PinganContracts
import PinganPostgres
import PinganTestSupport
@testable import RiskService
import Testing

/// What risk-service tells notify-service about a raised warning (issue 24: story 2's warning
/// is owned by the township, yet its push named the village as the centre).
extension RiskHandlerTests {
    @Test func aRaisedWarningNamesItsOwnerAndSaysWhetherTheVillageIsWarnedToo() async throws {
        try await withRisk { rpc, database in
            let decisive = try await rpc.call(RiskServiceMethods.assessCase, facts(selfHarm: true), headers: try TestMesh.eventDelivery()).assessment
            let ordinary = try await rpc.call(RiskServiceMethods.assessCase, facts(violence: true, repeated: true), headers: try TestMesh.eventDelivery()).assessment
            let pool = database.pool()
            let raised = try await pool.query("SELECT payload FROM risk.outbox WHERE topic = 'warning.raised'").map {
                try Pingan_Notify_V1_DeliverWarningRequest(serializedBytes: [UInt8](try $0.decode(Data.self, at: 0)))
            }
            await pool.close()
            let byWarning = Dictionary(uniqueKeysWithValues: raised.map { ($0.warningID, $0) })
            let selfHarm = try #require(byWarning[decisive.warningID])
            #expect(selfHarm.centreCode == Place.townA && selfHarm.villageCode == Place.villageA && selfHarm.decisive)
            let threat = try #require(byWarning[ordinary.warningID])
            #expect(threat.centreCode == Place.townA && threat.villageCode == Place.villageA && !threat.decisive)
        }
    }
}

/// A case reported again and again (issue 24: 16,417 reports of the same two parties made
/// every assessment read the whole history): an assessment carries the latest scores only,
/// the newest last, the same in its answer and in a later read.
extension RiskHandlerTests {
    @Test func anAssessmentCarriesTheLatestScoresOnlyHoweverOftenTheCaseWasScored() async throws {
        try await withRisk { rpc, _ in
            let id = UUID()
            var last = Pingan_Risk_V1_Assessment()
            for incidents in 1...(Assessment.historyShown + 5) {
                var request = facts(case: id, repeated: incidents > 1)
                request.incidents = Int32(incidents)
                last = try await rpc.call(RiskServiceMethods.assessCase, request, headers: try TestMesh.eventDelivery()).assessment
            }
            #expect(last.history.count == Assessment.historyShown)
            #expect(last.history.last?.assessedAt == last.assessedAt)
            var get = Pingan_Risk_V1_GetAssessmentRequest()
            get.caseID = id.wire
            let read = try await rpc.call(RiskServiceMethods.getAssessment, get, headers: [try person(Place.townA, [.staff])]).assessment
            #expect(read.history == last.history)
        }
    }
}
