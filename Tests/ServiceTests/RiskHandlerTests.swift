import Foundation
import PinganConnect
import PinganContracts
import PinganPostgres
import PinganRuntime
import PinganTestSupport
@testable import RiskService
import Testing

@Suite("risk-service in process")
struct RiskHandlerTests {
    func facts(village: String = Place.villageA, violence: Bool, repeated: Bool) -> Pingan_Risk_V1_AssessCaseRequest {
        var request = Pingan_Risk_V1_AssessCaseRequest()
        request.caseID = UUID().wire
        request.villageCode = village
        request.category = .neighbour
        request.partyCount = 2
        request.threatOfViolence = violence
        request.repeatIncident = repeated
        return request
    }

    func withRisk(_ body: @escaping @Sendable (InProcessClient, TestDatabase) async throws -> Void) async throws {
        try await TestDatabase.with { database in
            let app = try RiskApp.build(settings: RiskSettings(service: try TestMesh.settings(databaseURL: database.url)))
            try await app.test(.router) { client in try await body(InProcessClient(client), database) }
        }
    }

    @Test func aScoreAtTheThresholdRaisesOneWarningToTheTownshipAndItsEvent() async throws {
        try await withRisk { rpc, database in
            let high = facts(violence: true, repeated: true)
            let event = try TestMesh.eventDelivery()
            let assessed = try await rpc.call(RiskServiceMethods.assessCase, high, headers: event)
            let again = try await rpc.call(RiskServiceMethods.assessCase, high, headers: event)
            #expect(assessed.assessment.score == 65)
            #expect(!assessed.assessment.warningID.isEmpty)
            #expect(again.assessment.warningID == assessed.assessment.warningID)
            let low = try await rpc.call(RiskServiceMethods.assessCase, facts(violence: false, repeated: true), headers: try TestMesh.eventDelivery())
            #expect(low.assessment.score == 25)
            #expect(low.assessment.warningID.isEmpty)

            var list = Pingan_Risk_V1_ListWarningsRequest()
            list.centreCode = Place.townA
            let warnings = try await rpc.call(RiskServiceMethods.listWarnings, list, headers: [try person(Place.townA, [.staff])]).warnings
            #expect(warnings.map(\.id) == [assessed.assessment.warningID])
            #expect(warnings.first?.centreCode == Place.townA)
            let pool = database.pool()
            let events = try await pool.query("SELECT count(*) FROM risk.outbox WHERE topic = 'warning.raised'").first?.decode(Int.self, at: 0)
            await pool.close()
            #expect(events == 1)
        }
    }

    @Test func onlyTheOwningTownshipOrAboveAcknowledges() async throws {
        try await withRisk { rpc, _ in
            let assessed = try await rpc.call(RiskServiceMethods.assessCase, facts(violence: true, repeated: true), headers: try TestMesh.eventDelivery())
            var acknowledge = Pingan_Risk_V1_AcknowledgeWarningRequest()
            acknowledge.warningID = assessed.assessment.warningID
            await expectCode(.notFound, containing: "warning \(acknowledge.warningID) not found") {
                _ = try await rpc.call(RiskServiceMethods.acknowledgeWarning, acknowledge, headers: [try person(Place.townB, [.staff])])
            }
            let acknowledged = try await rpc.call(RiskServiceMethods.acknowledgeWarning, acknowledge, headers: [try person(Place.lixian, [.staff])])
            #expect(acknowledged.warning.status == .acknowledged)

            var get = Pingan_Risk_V1_GetAssessmentRequest()
            get.caseID = assessed.assessment.caseID
            await expectCode(.notFound) {
                _ = try await rpc.call(RiskServiceMethods.getAssessment, get, headers: [try person(Place.townB, [.staff])])
            }
            let seen = try await rpc.call(RiskServiceMethods.getAssessment, get, headers: [try person(Place.townA, [.leader])])
            #expect(seen.assessment.reasons.map(\.rule) == ["category", "threat_of_violence", "repeat_incident"])
        }
    }
}
