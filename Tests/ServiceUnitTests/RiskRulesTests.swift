import PinganContracts
@testable import RiskService
import Testing

@Suite("risk rule")
struct RiskRulesTests {
    func facts(_ category: Pingan_Grid_V1_IncidentCategory, configure: (inout Pingan_Risk_V1_AssessCaseRequest) -> Void = { _ in }) -> Pingan_Risk_V1_AssessCaseRequest {
        var request = Pingan_Risk_V1_AssessCaseRequest()
        request.category = category
        request.partyCount = 2
        configure(&request)
        return request
    }

    @Test func everyPointHasANamedReason() {
        let scored = RiskRules.score(facts(.neighbour) {
            $0.threatOfViolence = true
            $0.repeatIncident = true
            $0.priorPoliceCalls = 2
        })
        #expect(scored.score == 10 + 40 + 15 + 10)
        #expect(scored.reasons.map(\.rule) == ["category", "threat_of_violence", "repeat_incident", "prior_police_calls"])
        #expect(scored.reasons.reduce(0) { $0 + Int($1.points) } == scored.score)
    }

    @Test func categoriesStartAtTheirBase() {
        #expect(RiskRules.score(facts(.land)).score == 15)
        #expect(RiskRules.score(facts(.demolitionCompensation)).score == 15)
        #expect(RiskRules.score(facts(.marriageFamily)).score == 10)
        #expect(RiskRules.score(facts(.propertyManagement)).score == 5)
    }

    @Test func policeCallsCapAndTheScoreCapsAt100() {
        #expect(RiskRules.score(facts(.other) { $0.priorPoliceCalls = 50 }).score == 5 + 20)
        let worst = RiskRules.score(facts(.land) {
            $0.threatOfViolence = true
            $0.threatOfSelfHarm = true
            $0.repeatIncident = true
            $0.minorsInvolved = true
            $0.partyCount = 9
        })
        #expect(worst.score == 100)
        #expect(worst.reasons.count == 6)
    }

    @Test func warningsGoToTheVillagesTownship() throws {
        #expect(RiskPolicy.owningCentre(of: try .init(validating: "430723102201")).rawValue == "430723102000")
        #expect(RiskPolicy.owningCentre(of: try .init(validating: "430723102000")).rawValue == "430723102000")
    }
}
