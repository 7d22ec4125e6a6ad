import Foundation
import PinganConnect
import PinganContracts
import PinganDomain
@testable import RiskService
import SwiftProtobuf
import Testing

/// Risk's messages turned into domain values and back, and the two columns kept in the
/// messages' formats: rows written before the store took domain values must still read.
@Suite("risk wire and stored formats")
struct RiskWireTests {
    func request() -> Pingan_Risk_V1_AssessCaseRequest {
        var request = Pingan_Risk_V1_AssessCaseRequest()
        request.caseID = "6f1c2b1e-3d4a-4b5c-8d9e-0f1a2b3c4d5e"
        request.villageCode = "430724001201"
        request.category = .land
        request.partyCount = 3
        request.minorsInvolved = true
        request.threatOfViolence = true
        request.repeatIncident = true
        request.priorPoliceCalls = 2
        request.incidentID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
        request.incidents = 2
        request.failedRungs = 1
        request.escalations = 1
        request.overdueSummons = 1
        request.openedAt = "2026-05-04T08:00:00.000Z"
        request.asOf = "2026-06-04T08:00:00.250Z"
        return request
    }

    @Test func anAssessCaseRequestBecomesTheSameCaseAndBack() throws {
        let assessed = try AssessedCase(request())
        #expect(assessed.id.wire == "6f1c2b1e-3d4a-4b5c-8d9e-0f1a2b3c4d5e")
        #expect(assessed.village.rawValue == "430724001201")
        #expect(assessed.facts.openedAt == Date(wireTimestamp: "2026-05-04T08:00:00Z"))
        #expect(assessed.facts.incidentID?.wire == "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d")
        #expect(assessed.wire == request())
    }

    @Test func aRequestWithoutACaseOrVillageIsRefusedNamingTheField() {
        var noCase = request()
        noCase.caseID = ""
        #expect(throws: ConnectError.self) { try AssessedCase(noCase) }
        var badVillage = request()
        badVillage.villageCode = "4307"
        do {
            _ = try AssessedCase(badVillage)
            Issue.record("a malformed village must be refused")
        } catch let error as ConnectError {
            #expect(error.code == .invalidArgument && error.message.contains("village_code"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    /// `risk.assessments.facts` holds an `AssessCaseRequest`'s bytes, as it always has: a row
    /// written by the request as it arrived reads as the same facts.
    @Test func storedFactsKeepTheRequestsBytes() throws {
        let stored = Data(try request().serializedBytes() as [UInt8])
        let facts = try RiskRows.decodeFacts(stored)
        #expect(facts == CaseFacts(request()))
        let assessed = try AssessedCase(request())
        #expect(try RiskRows.encodeFacts(assessed) == stored)
    }

    /// `risk.assessments.reasons` holds `Reason` messages as JSON, as it always has.
    @Test func storedReasonsKeepTheReasonsJSON() throws {
        let reasons = [
            Reason(rule: "category", points: 20, explanation: "邻里 (neighbour) disputes start at 20", decisive: false),
            Reason(rule: "violence_occurred", points: 50, explanation: "violence happened", decisive: true),
        ]
        let json = try RiskRows.encodeReasons(reasons)
        #expect(json.text == #"[{"rule":"category","points":20,"explanation":"邻里 (neighbour) disputes start at 20"},{"rule":"violence_occurred","points":50,"explanation":"violence happened","decisive":true}]"#)
        #expect(try RiskRows.decodeReasons(json) == reasons)
    }

    @Test func aWarningTravelsWithItsStatusAndStepsAndEmptyForAbsent() throws {
        let raisedAt = Date(timeIntervalSince1970: 1_790_000_000)
        let warning = Warning(
            id: UUID(), caseID: UUID(), centre: try DivisionCode(validating: "430724001000"), village: try DivisionCode(validating: "430724001201"),
            score: 70, status: .fedBack, raisedAt: raisedAt, count: 2, assignee: "社区治调主任", feedback: "已上门化解", evaluation: nil,
            outcome: nil, escalatesAt: nil, steps: [WarningStep(at: raisedAt, kind: .scoreRose, note: "score 70", actor: "risk-service")], level: .serious
        )
        let wire = warning.wire
        #expect(wire.status == .fedBack && wire.centreCode == "430724001000" && wire.count == 2)
        #expect(wire.evaluation.isEmpty && wire.escalatesAt.isEmpty && wire.raisedAt == raisedAt.wireTimestamp)
        #expect(wire.steps.map(\.kind) == ["score_rose"])
        #expect(wire.level == .serious)
    }
}
