import Foundation
import PinganContracts

/// One weighted factor of a category's model: points per occurrence, at most `cap`.
struct RiskFactor: Codable, Sendable, Equatable {
    let name: String
    let points: Int
    let cap: Int?
    /// Warns on its own, whatever the score: a threat of self-harm, violence that happened.
    let decisive: Bool?
    let explanation: String
    /// What the factor is in Chinese (有自伤、自杀言行): what every push written for people
    /// says, since centre staff read Chinese; `explanation` stays for the assessment's record
    /// and the webhook's `reasons`. Required in the catalogue, which is refused without it.
    var label: String = ""
}

/// The model of one dispute category (智能风险预警模型): a base and weighted factors.
struct RiskModel: Codable, Sendable, Equatable {
    let category: String
    let title: String
    let base: Int
    let factors: [RiskFactor]
}

/// Every category's model, versioned as one document (`Data/risk-models.json`); an
/// assessment records the version, each factor's contribution and the level the version's
/// bands gave, so any score can be explained and re-checked later.
struct RiskModelCatalogue: Codable, Sendable {
    let version: String
    let threshold: Int
    /// The bands of this version (一般, 较大, 重大), shared by its category models.
    let levels: RiskBands
    let models: [RiskModel]

    /// The model for a category; `other` for anything without its own.
    func model(for category: Pingan_Grid_V1_IncidentCategory) -> RiskModel {
        let name = Self.names[category] ?? "other"
        return models.first { $0.category == name } ?? models.first { $0.category == "other" } ?? RiskModel(category: "other", title: "其他", base: 0, factors: [])
    }

    /// Scores a case's facts at `now` with its category's model.
    func score(_ facts: CaseFacts, now: Date) -> RiskScore {
        model(for: facts.category).score(facts, now: now, catalogueVersion: version, bands: levels)
    }

    /// Scores a case at `now`, with when time alone will next change its score: a closed
    /// case's score no longer grows.
    func scored(_ assessed: AssessedCase, now: Date) -> ScoredCase {
        ScoredCase(
            assessed: assessed, score: score(assessed.facts, now: now), at: now,
            rescoreAt: assessed.facts.closed ? nil : RiskModel.nextChange(assessed.facts, after: now)
        )
    }

    static let names: [Pingan_Grid_V1_IncidentCategory: String] = [
        .neighbour: "neighbour", .marriageFamily: "marriage_family", .economicDebt: "economic_debt", .land: "land",
        .demolitionCompensation: "demolition_compensation", .propertyManagement: "property_management", .other: "other",
    ]

    /// The factor names a model may weigh; a catalogue naming another is refused.
    static let knownFactors: Set<String> = [
        "repeat_incident", "threat_of_violence", "violence_occurred", "threat_of_self_harm", "minors_involved",
        "many_parties", "prior_police_calls", "months_open", "failed_rungs", "escalations", "overdue_summons",
    ]

    /// Parses and checks a catalogue: every category modelled once, known factors, sane weights.
    static func parse(_ data: Data) throws(RiskModelError) -> RiskModelCatalogue {
        let catalogue: RiskModelCatalogue
        do {
            catalogue = try JSONDecoder().decode(RiskModelCatalogue.self, from: data)
        } catch {
            throw .malformed("\(error)")
        }
        guard (1...100).contains(catalogue.threshold) else { throw .malformed("threshold must be 1 to 100") }
        if let problem = catalogue.levels.problem { throw .malformed(problem) }
        for name in names.values where catalogue.models.filter({ $0.category == name }).count != 1 {
            throw .malformed("category \(name) must have exactly one model")
        }
        for model in catalogue.models {
            for factor in model.factors where !knownFactors.contains(factor.name) || factor.points < 0 {
                throw .malformed("\(model.category): factor \(factor.name) is unknown or negative")
            }
            // People read the label in Chinese: a missing one, or one in Latin letters (a
            // factor's English name pasted in), would reach them as model text.
            for factor in model.factors where factor.label.isEmpty || factor.label.contains(where: { $0.isASCII && $0.isLetter }) {
                throw .malformed("\(model.category): factor \(factor.name) needs a label in Chinese")
            }
        }
        return catalogue
    }
}

/// A catalogue of models that cannot be used; risk-service does not start with it.
enum RiskModelError: Error, CustomStringConvertible {
    case malformed(String)
    var description: String {
        switch self {
        case .malformed(let problem): "risk models: \(problem)"
        }
    }
}

/// A score with every contribution, whether a decisive factor was present, and its level
/// under the bands of the version that scored it: whether it warns is ``WarningRules``' to say.
struct RiskScore: Sendable, Equatable {
    let score: Int
    let reasons: [Reason]
    let modelVersion: String
    /// A decisive factor was present: warn whatever the score.
    let decisive: Bool
    /// What the model version's bands make of the score and the decisive factor.
    let level: RiskLevel
}

extension RiskModel {
    /// Scores a case's facts at `now` (for the time it has been open), its level from the
    /// catalogue version's `bands`.
    func score(_ facts: CaseFacts, now: Date, catalogueVersion: String, bands: RiskBands) -> RiskScore {
        var reasons: [Reason] = []
        func add(_ rule: String, _ points: Int, _ explanation: String, label: String, decisive: Bool = false) {
            guard points > 0 || decisive else { return }
            reasons.append(Reason(rule: rule, points: points, explanation: explanation, decisive: decisive, label: label))
        }
        add("category", base, "\(title) (\(category)) disputes start at \(base)", label: "\(title)纠纷基础分")
        var decisive = false
        for factor in factors {
            let occurrences = Self.occurrences(of: factor.name, in: facts, now: now)
            guard occurrences > 0 else { continue }
            let points = min(factor.cap ?? Int.max, factor.points * occurrences)
            let isDecisive = factor.decisive ?? false
            decisive = decisive || isDecisive
            add(
                factor.name, points, occurrences > 1 ? "\(factor.explanation) (\(occurrences))" : factor.explanation,
                label: occurrences > 1 ? "\(factor.label)（\(occurrences)）" : factor.label, decisive: isDecisive
            )
        }
        let total = min(100, reasons.reduce(0) { $0 + $1.points })
        return RiskScore(
            score: total, reasons: reasons, modelVersion: "\(catalogueVersion)/\(category)", decisive: decisive,
            level: bands.level(of: total, decisive: decisive)
        )
    }

    /// How many times a factor is present in the facts.
    static func occurrences(of factor: String, in facts: CaseFacts, now: Date) -> Int {
        switch factor {
        case "repeat_incident": max(facts.incidents - 1, facts.repeatIncident ? 1 : 0)
        case "threat_of_violence": facts.threatOfViolence ? 1 : 0
        case "violence_occurred": facts.violenceOccurred ? 1 : 0
        case "threat_of_self_harm": facts.threatOfSelfHarm ? 1 : 0
        case "minors_involved": facts.minorsInvolved ? 1 : 0
        case "many_parties": facts.partyCount > 5 ? 1 : 0
        case "prior_police_calls": max(0, facts.priorPoliceCalls)
        case "months_open": monthsOpen(facts, now: now)
        case "failed_rungs": max(0, facts.failedRungs)
        case "escalations": max(0, facts.escalations)
        case "overdue_summons": max(0, facts.overdueSummons)
        default: 0
        }
    }

    static let month: TimeInterval = 30 * 24 * 3600

    static func monthsOpen(_ facts: CaseFacts, now: Date) -> Int {
        guard let opened = facts.openedAt else { return 0 }
        return max(0, Int(now.timeIntervalSince(opened) / month))
    }

    /// When time alone next changes the case's score: the next whole month it has been open.
    static func nextChange(_ facts: CaseFacts, after now: Date) -> Date? {
        guard let opened = facts.openedAt else { return nil }
        return opened.addingTimeInterval(Double(monthsOpen(facts, now: now) + 1) * month)
    }
}
