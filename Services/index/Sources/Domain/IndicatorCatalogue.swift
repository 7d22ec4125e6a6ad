import Foundation

/// The facts an indicator may be built from, per village and month, summed up the tree.
enum FactName {
    static let all: Set<String> = [
        // grid-service
        "grids", "grid_days", "grid_days_screened", "nothing_found_days", "households_visited", "incidents",
        // dispute-service
        "opened", "resolved", "rungs_ended", "rungs_settled", "rungs_on_time", "summons_answered", "summons_on_time",
        "return_visits_done", "return_visits_confirmed", "overdue_steps", "repeat_incidents", "reopened_after_settlement",
        "violent_cases", "resident_ratings", "resident_satisfied",
        // risk-service
        "warnings_raised", "warnings_acknowledged", "warnings_acknowledged_in_time",
        // survey results loaded into index-service
        "survey_respondents", "survey_satisfied",
    ]
}

/// The three indicator categories of the seed's governance index.
enum IndicatorCategory: String, Codable, Sendable, CaseIterable {
    case socialSafety = "social_safety"
    case riskPrevention = "risk_prevention"
    case coGovernance = "co_governance"

    var title: String {
        switch self {
        case .socialSafety: "社会安全"
        case .riskPrevention: "风险防控"
        case .coGovernance: "共建共治"
        }
    }
}

/// One indicator: a ratio of summed facts, normalised to [0, 1] and weighted.
struct Indicator: Codable, Sendable, Equatable {
    enum Direction: String, Codable, Sendable {
        /// More is better.
        case positive
        /// More is worse: the normalised value is one minus the share of the target reached.
        case negative
    }

    enum Normalisation: String, Codable, Sendable {
        /// The ratio itself, which is already a share in [0, 1].
        case rate
        /// Distance to a target: the ratio divided by `target`, capped at 1.
        case target
    }

    let id: String
    let name: String
    let category: IndicatorCategory
    let weight: Double
    /// Relative: weights are drawn from weight × [1 − u, 1 + u] when the ranks' robustness
    /// is tested.
    let weightUncertainty: Double
    let direction: Direction
    let source: String
    let numerator: [String]
    let denominator: [String]
    let normalisation: Normalisation
    let target: Double?
    /// The least denominator that is enough data: below it the indicator is not measured.
    let minimum: Double
    let note: String

    /// The raw ratio and whether there was enough activity to measure it.
    func measure(_ facts: FactSheet) -> (value: Double, enough: Bool) {
        measure(numerator: facts.sum(numerator), denominator: facts.sum(denominator))
    }

    /// The same from the summed numerator and denominator.
    func measure(numerator: Double, denominator: Double) -> (value: Double, enough: Bool) {
        guard denominator >= max(minimum, 1) else { return (0, false) }
        return (numerator / denominator, true)
    }

    /// The catalogued normalisation of a measured value.
    func normalise(_ value: Double) -> Double {
        let share = switch normalisation {
        case .rate: value
        case .target: value / (target ?? 1)
        }
        let clamped = min(1, max(0, share))
        return direction == .positive ? clamped : 1 - clamped
    }
}

/// The versioned indicator catalogue (`Data/indicator-catalogue.json`). Scores record the
/// version they were computed with, so a published month can always be explained.
struct IndicatorCatalogue: Codable, Sendable, Equatable {
    let version: String
    /// A unit whose measured indicators carry less than this share of the total weight has
    /// "not enough data" and is not ranked.
    let minimumWeightShare: Double
    let monteCarloDraws: Int
    let indicators: [Indicator]

    var totalWeight: Double { indicators.reduce(0) { $0 + $1.weight } }

    enum Problem: Error, CustomStringConvertible, Equatable {
        case invalid(String)
        var description: String {
            switch self {
            case .invalid(let text): "the indicator catalogue is invalid: \(text)"
            }
        }
    }

    /// Decodes and checks a catalogue: known facts, positive weights summing to 100, targets
    /// where the normalisation needs one, unique ids.
    static func parse(_ data: Data) throws -> IndicatorCatalogue {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let catalogue: IndicatorCatalogue
        do {
            catalogue = try decoder.decode(IndicatorCatalogue.self, from: data)
        } catch {
            throw Problem.invalid("\(error)")
        }
        try catalogue.validate()
        return catalogue
    }

    func validate() throws(Problem) {
        guard !version.isEmpty else { throw .invalid("version is empty") }
        guard Set(indicators.map(\.id)).count == indicators.count else { throw .invalid("indicator ids repeat") }
        guard (0...1).contains(minimumWeightShare) else { throw .invalid("minimum_weight_share must be in [0, 1]") }
        guard (10...100_000).contains(monteCarloDraws) else { throw .invalid("monte_carlo_draws must be 10 to 100000") }
        for indicator in indicators {
            guard indicator.weight > 0 else { throw .invalid("\(indicator.id): weight must be positive") }
            guard (0..<1).contains(indicator.weightUncertainty) else { throw .invalid("\(indicator.id): weight_uncertainty must be in [0, 1)") }
            guard !indicator.numerator.isEmpty, !indicator.denominator.isEmpty else { throw .invalid("\(indicator.id): needs a numerator and a denominator") }
            for fact in indicator.numerator + indicator.denominator where !FactName.all.contains(fact) {
                throw .invalid("\(indicator.id): unknown fact \(fact)")
            }
            if indicator.normalisation == .target, (indicator.target ?? 0) <= 0 {
                throw .invalid("\(indicator.id): a target normalisation needs a positive target")
            }
        }
        guard abs(totalWeight - 100) < 1e-9 else { throw .invalid("weights sum to \(totalWeight), not 100") }
    }
}

/// Named facts of one division for one month.
struct FactSheet: Sendable, Equatable {
    var values: [String: Double] = [:]

    subscript(_ name: String) -> Double {
        get { values[name] ?? 0 }
        set { values[name] = newValue }
    }

    func sum(_ names: [String]) -> Double { names.reduce(0) { $0 + self[$1] } }

    static func + (lhs: FactSheet, rhs: FactSheet) -> FactSheet {
        FactSheet(values: lhs.values.merging(rhs.values, uniquingKeysWith: +))
    }
}
