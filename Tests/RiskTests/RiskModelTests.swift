import Foundation
import PinganContracts
import PinganDomain
@testable import RiskService
import Testing

@Suite("risk models per category")
struct RiskModelTests {
    let catalogue: RiskModelCatalogue
    let now = Date(timeIntervalSince1970: 1_790_000_000)

    init() throws {
        catalogue = try RiskApp.bundledModels()
    }

    func facts(_ category: Pingan_Grid_V1_IncidentCategory, configure: (inout CaseFacts) -> Void = { _ in }) -> CaseFacts {
        var facts = CaseFacts(category: category, partyCount: 2, incidents: 1)
        configure(&facts)
        return facts
    }

    var rules: WarningRules { WarningRules(threshold: catalogue.threshold, acknowledgeWithin: .seconds(1800)) }

    @Test func everyCategoryHasOneVersionedModelAndEveryPointANamedReason() {
        for category in RiskModelCatalogue.names.keys {
            let score = catalogue.score(facts(category) { $0.threatOfViolence = true; $0.priorPoliceCalls = 2 }, now: now)
            #expect(score.modelVersion == "\(catalogue.version)/\(RiskModelCatalogue.names[category] ?? "")")
            #expect(score.reasons.first?.rule == "category")
            #expect(score.reasons.reduce(0) { $0 + $1.points } == score.score)
        }
    }

    @Test func story1RepeatedNeighbourQuarrelsWarnWithoutAThreat() throws {
        // 金 and 李 have quarrelled many times: neighbour, repeated, no threat yet.
        let score = catalogue.score(facts(.neighbour) { $0.repeatIncident = true }, now: now)
        #expect(score.score >= catalogue.threshold)
        #expect(score.reasons.map(\.rule) == ["category", "repeat_incident"])
        let village = try DivisionCode(validating: "430724001201")
        guard case let .raise(owner, notify, _) = rules.decision(for: score, village: village, open: nil, closed: false, now: now) else {
            Issue.record("story 1 must warn")
            return
        }
        #expect(owner.rawValue == "430724001000")
        #expect(notify == owner)
    }

    @Test func story2AThreatOfSelfHarmWarnsOnItsOwnAndTheVillageAtOnce() throws {
        let score = catalogue.score(facts(.marriageFamily) { $0.threatOfSelfHarm = true }, now: now)
        #expect(score.decisive)
        let village = try DivisionCode(validating: "430722101201")
        #expect(rules.decision(for: score, village: village, open: nil, closed: false, now: now)
                == .raise(owner: try DivisionCode(validating: "430722101000"), notify: village, escalatesAt: now.addingTimeInterval(1800)))
        // Below the threshold without it, as a plain money dispute is.
        #expect(catalogue.score(facts(.marriageFamily), now: now).score < catalogue.threshold)
    }

    @Test func factorsCountAndCapAndTheScoreCapsAt100() {
        let calls = catalogue.score(facts(.other) { $0.priorPoliceCalls = 50 }, now: now)
        #expect(calls.reasons.first { $0.rule == "prior_police_calls" }?.points == 20)
        let climbing = catalogue.score(facts(.neighbour) { $0.incidents = 3; $0.failedRungs = 2; $0.escalations = 1 }, now: now)
        #expect(climbing.reasons.map(\.rule) == ["category", "repeat_incident", "failed_rungs", "escalations"])
        #expect(climbing.reasons.first { $0.rule == "repeat_incident" }?.points == 60)
        let worst = catalogue.score(facts(.land) { $0.threatOfViolence = true; $0.violenceOccurred = true; $0.partyCount = 9; $0.incidents = 4 }, now: now)
        #expect(worst.score == 100)
    }

    /// Time alone raises an open case's score, a month at a time, and says when it next will;
    /// a closed case is not due again.
    @Test func monthsOpenCountAndSayWhenTheScoreNextChanges() throws {
        let month = RiskModel.month
        let opened = now.addingTimeInterval(-2 * month - 60)
        let assessed = AssessedCase(id: UUID(), village: try DivisionCode(validating: "430724001201"), facts: facts(.neighbour) { $0.openedAt = opened })
        let scored = catalogue.scored(assessed, now: now)
        #expect(scored.score.reasons.first { $0.rule == "months_open" }?.points == 10)
        #expect(scored.rescoreAt == opened.addingTimeInterval(3 * month))
        var closed = assessed
        closed.facts.closed = true
        #expect(catalogue.scored(closed, now: now).rescoreAt == nil)
        var unknown = assessed
        unknown.facts.openedAt = nil
        #expect(catalogue.scored(unknown, now: now).rescoreAt == nil)
    }

    /// The bundled catalogue, written out again: what the refusals below change one thing of.
    func encoded(_ models: [RiskModel]) throws -> Data {
        try JSONEncoder().encode(RiskModelCatalogue(version: catalogue.version, threshold: catalogue.threshold, models: models))
    }

    func refusal(_ data: Data) -> String? {
        do {
            _ = try RiskModelCatalogue.parse(data)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func aCatalogueWithAnUnknownFactorIsRefused() throws {
        #expect(refusal(try encoded(catalogue.models)) == nil)
        var models = catalogue.models
        let neighbour = try #require(models.firstIndex { $0.category == "neighbour" })
        let model = models[neighbour]
        let madeUp = RiskFactor(name: "star_sign", points: 5, cap: nil, decisive: nil, explanation: "born in the wrong month")
        models[neighbour] = RiskModel(category: model.category, title: model.title, base: model.base, factors: model.factors + [madeUp])
        #expect(refusal(try encoded(models)) == "risk models: neighbour: factor star_sign is unknown or negative")
    }

    @Test func aCatalogueWithANegativeWeightIsRefused() throws {
        var models = catalogue.models
        let model = models[0]
        let first = model.factors[0]
        let negative = RiskFactor(name: first.name, points: -5, cap: first.cap, decisive: first.decisive, explanation: first.explanation)
        models[0] = RiskModel(category: model.category, title: model.title, base: model.base, factors: [negative] + model.factors.dropFirst())
        #expect(refusal(try encoded(models)) == "risk models: \(model.category): factor \(first.name) is unknown or negative")
    }

    @Test func aCatalogueMissingOrDoublingACategoryIsRefused() throws {
        let withoutLand = catalogue.models.filter { $0.category != "land" }
        #expect(refusal(try encoded(withoutLand)) == "risk models: category land must have exactly one model")
        let land = try #require(catalogue.models.first { $0.category == "land" })
        #expect(refusal(try encoded(catalogue.models + [land])) == "risk models: category land must have exactly one model")
        #expect(refusal(Data(#"{"version":"x","threshold":60,"models":[]}"#.utf8)) != nil)
    }
}
