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

    // MARK: Levels (一般, 较大, 重大)

    @Test func theBundledBandsGiveEachScoreOneLevelExactlyAtTheirEdges() {
        let bands = catalogue.levels
        #expect(bands == RiskBands(serious: 60, major: 80, decisive: .major))
        #expect([0, 59, 60, 79, 80, 100].map { bands.level(of: $0, decisive: false) } == [.general, .general, .serious, .serious, .major, .major])
        #expect([RiskLevel.general, .serious, .major].map(\.word) == ["一般", "较大", "重大"])
    }

    @Test func aScoreCarriesTheLevelItsModelGivesIt() {
        // 婚恋家庭 15 + a threat of violence 40 = 55: one short of the serious band.
        #expect(catalogue.score(facts(.marriageFamily) { $0.threatOfViolence = true }, now: now).level == .general)
        // And one earlier police call (+5) puts it exactly on the edge.
        let edge = catalogue.score(facts(.marriageFamily) { $0.threatOfViolence = true; $0.priorPoliceCalls = 1 }, now: now)
        #expect(edge.score == 60 && edge.level == .serious)
        // Story 1: 邻里 20 + repeat 40 = 60, 较大; three earlier police calls, 75, still 较大.
        #expect(catalogue.score(facts(.neighbour) { $0.repeatIncident = true }, now: now).level == .serious)
        let below = catalogue.score(facts(.neighbour) { $0.repeatIncident = true; $0.priorPoliceCalls = 3 }, now: now)
        #expect(below.score == 75 && below.level == .serious)
        // Two failed rungs instead: 80, exactly the major band's edge.
        let major = catalogue.score(facts(.neighbour) { $0.repeatIncident = true; $0.failedRungs = 2 }, now: now)
        #expect(major.score == 80 && major.level == .major)
    }

    /// A decisive fact warns on its own whatever the score and tells the village at once, so
    /// the model judges it 重大 whatever the score too.
    @Test func aDecisiveFactorIsMajorWhateverTheScore() {
        // Story 2: 婚恋家庭 15 + a threat of self-harm 50 = 65, in the serious band by points.
        let story2 = catalogue.score(facts(.marriageFamily) { $0.threatOfSelfHarm = true }, now: now)
        #expect(story2.score == 65 && story2.decisive && story2.level == .major)
        #expect(catalogue.levels.level(of: 10, decisive: true) == .major)
        // The version decides: bands whose decisive level is 较大 leave a high score 重大.
        let milder = RiskBands(serious: 60, major: 80, decisive: .serious)
        #expect(milder.level(of: 30, decisive: true) == .serious)
        #expect(milder.level(of: 90, decisive: true) == .major)
    }

    /// Bands belong to a version of the models: the same facts under another version's bands
    /// get that version's level, named by the version that gave it.
    @Test func eachModelVersionHasItsOwnBands() throws {
        let next = RiskModelCatalogue(version: "2027.01-1", threshold: 60, levels: RiskBands(serious: 50, major: 70, decisive: .major), models: catalogue.models)
        let facts = facts(.neighbour) { $0.repeatIncident = true; $0.priorPoliceCalls = 3 }
        let now = catalogue.score(facts, now: self.now), then = next.score(facts, now: self.now)
        #expect(now.score == 75 && then.score == 75)
        #expect(now.level == .serious && now.modelVersion == "2026.11-1/neighbour")
        #expect(then.level == .major && then.modelVersion == "2027.01-1/neighbour")
        #expect(try RiskModelCatalogue.parse(try JSONEncoder().encode(next)).levels == next.levels)
    }

    @Test func bandsThatDoNotRiseWithinTheScaleAreRefused() throws {
        for levels in [RiskBands(serious: 80, major: 80, decisive: .major), RiskBands(serious: 0, major: 80, decisive: .major), RiskBands(serious: 60, major: 101, decisive: .major)] {
            let data = try JSONEncoder().encode(RiskModelCatalogue(version: "x", threshold: 60, levels: levels, models: catalogue.models))
            #expect(refusal(data) == "risk models: levels must satisfy 1 <= serious < major <= 100")
        }
        let unknownLevel = try #require(String(data: try encoded(catalogue.models), encoding: .utf8)).replacingOccurrences(of: "\"decisive\":\"major\"", with: "\"decisive\":\"grave\"")
        #expect(refusal(Data(unknownLevel.utf8)) != nil)
    }

    /// The bundled catalogue, written out again: what the refusals below change one thing of.
    func encoded(_ models: [RiskModel]) throws -> Data {
        try JSONEncoder().encode(RiskModelCatalogue(version: catalogue.version, threshold: catalogue.threshold, levels: catalogue.levels, models: models))
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
