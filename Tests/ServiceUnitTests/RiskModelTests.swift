import Foundation
import PinganContracts
import PinganDomain
@testable import RiskService
import Testing

@Suite("risk models per category")
struct RiskModelTests {
    let catalogue = try! RiskApp.bundledModels()
    let now = Date(timeIntervalSince1970: 1_790_000_000)

    func facts(_ category: Pingan_Grid_V1_IncidentCategory, configure: (inout Pingan_Risk_V1_AssessCaseRequest) -> Void = { _ in }) -> Pingan_Risk_V1_AssessCaseRequest {
        var request = Pingan_Risk_V1_AssessCaseRequest()
        request.category = category
        request.partyCount = 2
        request.incidents = 1
        configure(&request)
        return request
    }

    func policy() -> RiskPolicy { RiskPolicy(catalogue: catalogue, threshold: catalogue.threshold, acknowledgeWithin: .seconds(1800)) }

    @Test func everyCategoryHasOneVersionedModelAndEveryPointANamedReason() {
        for category in RiskModelCatalogue.names.keys {
            let score = policy().score(facts(category) { $0.threatOfViolence = true; $0.priorPoliceCalls = 2 }, now: now)
            #expect(score.modelVersion == "\(catalogue.version)/\(RiskModelCatalogue.names[category] ?? "")")
            #expect(score.reasons.first?.rule == "category")
            #expect(score.reasons.reduce(0) { $0 + Int($1.points) } == score.score)
        }
    }

    @Test func story1RepeatedNeighbourQuarrelsWarnWithoutAThreat() throws {
        // 金 and 李 have quarrelled many times: neighbour, repeated, no threat yet.
        let score = policy().score(facts(.neighbour) { $0.repeatIncident = true }, now: now)
        #expect(score.score >= catalogue.threshold)
        #expect(score.reasons.map(\.rule) == ["category", "repeat_incident"])
        let village = try DivisionCode(validating: "430724001201")
        guard case let .raise(owner, notify, _) = policy().action(for: score, village: village, open: nil, now: now) else {
            Issue.record("story 1 must warn")
            return
        }
        #expect(owner.rawValue == "430724001000")
        #expect(notify == owner)
    }

    @Test func story2AThreatOfSelfHarmWarnsOnItsOwnAndTheVillageAtOnce() throws {
        let score = policy().score(facts(.marriageFamily) { $0.threatOfSelfHarm = true }, now: now)
        #expect(score.decisive)
        let village = try DivisionCode(validating: "430722101201")
        #expect(policy().action(for: score, village: village, open: nil, now: now)
                == .raise(owner: try DivisionCode(validating: "430722101000"), notify: village, escalatesAt: now.addingTimeInterval(1800)))
        // Below the threshold without it, as a plain money dispute is.
        #expect(policy().score(facts(.marriageFamily), now: now).score < catalogue.threshold)
    }

    @Test func factorsCountAndCapAndTheScoreCapsAt100() {
        let calls = policy().score(facts(.other) { $0.priorPoliceCalls = 50 }, now: now)
        #expect(calls.reasons.first { $0.rule == "prior_police_calls" }?.points == 20)
        let climbing = policy().score(facts(.neighbour) { $0.incidents = 3; $0.failedRungs = 2; $0.escalations = 1 }, now: now)
        #expect(climbing.reasons.map(\.rule) == ["category", "repeat_incident", "failed_rungs", "escalations"])
        #expect(climbing.reasons.first { $0.rule == "repeat_incident" }?.points == 60)
        let worst = policy().score(facts(.land) { $0.threatOfViolence = true; $0.violenceOccurred = true; $0.partyCount = 9; $0.incidents = 4 }, now: now)
        #expect(worst.score == 100)
    }

    @Test func anOpenWarningIsRegroupedNeverDoubled() throws {
        let village = try DivisionCode(validating: "430723102201")
        let open = OpenWarning(id: UUID(), score: 60)
        let higher = policy().score(facts(.neighbour) { $0.repeatIncident = true; $0.violenceOccurred = true }, now: now)
        #expect(policy().action(for: higher, village: village, open: open, now: now) == .regroup(id: open.id, score: higher.score, rose: true))
        let same = policy().score(facts(.neighbour) { $0.repeatIncident = true }, now: now)
        #expect(policy().action(for: same, village: village, open: open, now: now) == .regroup(id: open.id, score: 60, rose: false))
        #expect(policy().action(for: policy().score(facts(.neighbour), now: now), village: village, open: open, now: now) == .none)
    }

    @Test func aCatalogueWithAnUnknownFactorOrAMissingCategoryIsRefused() {
        #expect(throws: RiskModelError.self) { try RiskModelCatalogue.parse(Data(#"{"version":"x","threshold":60,"models":[]}"#.utf8)) }
    }
}
