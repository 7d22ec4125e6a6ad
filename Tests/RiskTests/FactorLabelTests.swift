import Foundation
import PinganConnect
import PinganContracts
import PinganDomain
@testable import RiskService
import Testing

/// The model's factors carry Chinese labels in the model data (issue 30), and what risk
/// tells notify-service of a warning carries them, so people never read the model's English.
@Suite("risk factors' Chinese labels")
struct FactorLabelTests {
    let catalogue: RiskModelCatalogue
    let now = Date(timeIntervalSince1970: 1_790_000_000)

    init() throws {
        catalogue = try RiskApp.bundledModels()
    }

    static func isChinese(_ text: String) -> Bool {
        !text.isEmpty && !text.contains { $0.isASCII && $0.isLetter }
    }

    @Test func everyFactorOfEveryModelHasAChineseLabel() {
        for model in catalogue.models {
            for factor in model.factors { #expect(Self.isChinese(factor.label), "\(model.category)/\(factor.name)") }
        }
    }

    @Test func everyReasonOfAScoreCarriesItsLabel() {
        for category in RiskModelCatalogue.names.keys {
            var facts = CaseFacts(category: category, partyCount: 7, incidents: 3)
            facts.threatOfViolence = true
            facts.threatOfSelfHarm = true
            facts.priorPoliceCalls = 2
            let score = catalogue.score(facts, now: now)
            #expect(score.reasons.count > 3)
            for reason in score.reasons { #expect(Self.isChinese(reason.label), "\(category): \(reason.rule) \(reason.label)") }
            #expect(score.reasons.first?.label.hasSuffix("纠纷基础分") == true)
            // A factor counted more than once says how often, in Chinese as in English.
            #expect(score.reasons.contains { $0.rule == "prior_police_calls" && $0.label == "此前报警（2）" })
        }
    }

    @Test func aFactorWithoutAChineseLabelIsRefused() throws {
        for label in ["", "threat of self-harm"] {
            var models = catalogue.models
            let model = models[0]
            let first = model.factors[0]
            let english = RiskFactor(name: first.name, points: first.points, cap: first.cap, decisive: first.decisive, explanation: first.explanation, label: label)
            models[0] = RiskModel(category: model.category, title: model.title, base: model.base, factors: [english] + model.factors.dropFirst())
            let data = try JSONEncoder().encode(RiskModelCatalogue(version: catalogue.version, threshold: catalogue.threshold, levels: catalogue.levels, models: models))
            #expect(throws: RiskModelError.self) { try RiskModelCatalogue.parse(data) }
        }
    }

    @Test func aRaisedWarningTellsNotifyTheLabelsAndWhenItEscalates() throws {
        var facts = CaseFacts(category: .marriageFamily, partyCount: 2, incidents: 1)
        facts.threatOfSelfHarm = true
        let assessed = AssessedCase(id: UUID(), village: try DivisionCode(validating: "430723102201"), facts: facts)
        let scored = catalogue.scored(assessed, now: now)
        let due = now.addingTimeInterval(1800)
        let event = WarningEvents.raised(UUID(), case: scored, owner: try DivisionCode(validating: "430723102000"), decisive: true, acknowledgeBy: due)
        #expect(event.factors.map(\.code) == ["category", "threat_of_self_harm"])
        #expect(event.factors.map(\.label) == ["婚恋家庭纠纷基础分", "有自伤、自杀言行"])
        #expect(event.factors.map(\.points) == [15, 50])
        // The English reasons stay, for the webhook's stable `reasons`.
        #expect(event.reasons.count == 2 && event.reasons[1].hasPrefix("threat_of_self_harm +50"))
        #expect(event.acknowledgeBy == due.wireTimestamp)
    }
}
