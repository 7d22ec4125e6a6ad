import PinganAccess
import PinganDomain
import PinganContracts

/// The monthly governance index (社会治理指数): three indicator categories, each a rate
/// computed from facts the other services own, weighted into a score out of 100.
///
/// | category | indicator | weight | value |
/// |---|---|---|---|
/// | social safety (社会安全) | `low_risk_share` | 40 | 1 − warnings raised ÷ cases opened |
/// | risk prevention (风险防控) | `warning_ack_rate` | 30 | warnings acknowledged ÷ raised |
/// | co-governance (共建共治) | `resolution_rate` | 30 | cases resolved ÷ cases opened |
///
/// A rate with nothing to measure (no cases, no warnings) counts as 1: a quiet village is
/// not penalised. Facts of a division are the sums over its whole subtree, so a township's
/// score reflects all its villages. Siblings are ranked by score, ties by code. The seed's
/// township rule reads the result: 98 or more shares its experience, below 80 gets a
/// reminder talk, below 60 a summons.
struct GovernanceIndex {
    struct Facts: Sendable, Equatable {
        var incidents = 0
        var opened = 0
        var resolved = 0
        var raised = 0
        var acknowledged = 0

        static func + (lhs: Facts, rhs: Facts) -> Facts {
            Facts(
                incidents: lhs.incidents + rhs.incidents, opened: lhs.opened + rhs.opened,
                resolved: lhs.resolved + rhs.resolved, raised: lhs.raised + rhs.raised,
                acknowledged: lhs.acknowledged + rhs.acknowledged
            )
        }
    }

    struct Scored: Sendable {
        let code: String
        let name: String
        let parent: String?
        let score: Double
        var rank: Int
        let indicators: [Pingan_Index_V1_IndicatorValue]
    }

    static func score(_ facts: Facts) -> (Double, [Pingan_Index_V1_IndicatorValue]) {
        func rate(_ part: Int, _ whole: Int) -> Double { whole == 0 ? 1 : min(1, Double(part) / Double(whole)) }
        let rows: [(String, Double, Double)] = [
            ("low_risk_share", 1 - (facts.opened == 0 ? 0 : min(1, Double(facts.raised) / Double(facts.opened))), 40),
            ("warning_ack_rate", rate(facts.acknowledged, facts.raised), 30),
            ("resolution_rate", rate(facts.resolved, facts.opened), 30),
        ]
        var indicators = rows.map { name, value, weight in
            var indicator = Pingan_Index_V1_IndicatorValue()
            indicator.indicator = name
            indicator.value = value
            indicator.points = (value * weight * 100).rounded() / 100
            return indicator
        }
        var incidents = Pingan_Index_V1_IndicatorValue()
        incidents.indicator = "incidents_reported"
        incidents.value = Double(facts.incidents)
        indicators.append(incidents)
        return ((indicators.reduce(0) { $0 + $1.points } * 100).rounded() / 100, indicators)
    }

    /// Scores every division from per-village facts, summing each subtree, and ranks siblings.
    static func compute(divisions: [(code: DivisionCode, name: String)], villageFacts: [String: Facts]) -> [Scored] {
        var totals: [String: Facts] = [:]
        for (village, facts) in villageFacts {
            guard var code = try? DivisionCode(validating: village) else { continue }
            while true {
                totals[code.rawValue, default: Facts()] = totals[code.rawValue, default: Facts()] + facts
                guard let parent = code.parent else { break }
                code = parent
            }
        }
        var scored = divisions.map { division in
            let (score, indicators) = score(totals[division.code.rawValue] ?? Facts())
            return Scored(code: division.code.rawValue, name: division.name, parent: division.code.parent?.rawValue, score: score, rank: 0, indicators: indicators)
        }
        let groups = Dictionary(grouping: scored.indices, by: { scored[$0].parent ?? "" })
        for indices in groups.values {
            let ordered = indices.sorted { scored[$0].score != scored[$1].score ? scored[$0].score > scored[$1].score : scored[$0].code < scored[$1].code }
            for (position, index) in ordered.enumerated() { scored[index].rank = position + 1 }
        }
        return scored
    }
}
