import PinganDomain

/// The monthly dispute screening-and-resolution index (矛盾纠纷排查化解指数), scored with an
/// ``IndicatorCatalogue``.
///
/// Following the OECD/JRC handbook on composite indicators:
/// - **Normalisation**: each indicator is a ratio of facts, mapped to [0, 1] as a rate or as
///   the distance to a stated target; negative indicators count against the unit.
/// - **Missing data**: an indicator whose denominator is below its minimum is "not enough
///   data"; it earns nothing and costs nothing, and the remaining weights are rescaled. A
///   unit whose measured indicators carry less than the catalogue's minimum share of the
///   weight is not ranked at all: reporting nothing is never full marks.
/// - **Aggregation**: a weighted arithmetic mean, so a strength in one indicator can make up
///   for a weakness in another, as the seed's point-based review does.
/// - **Robustness**: ranks come with the 5th–95th percentile interval of a Monte Carlo over
///   the stated weight uncertainty and an alternative (min–max) normalisation.
///
/// Facts of a division are the sums over its subtree, so a township's score reflects all its
/// villages.
struct GovernanceIndex: Sendable {
    let catalogue: IndicatorCatalogue

    /// One division's month as computed, before it is stored as a version of the month.
    struct Scored: Sendable, Equatable {
        let code: String
        let name: String
        let parent: String?
        let score: Double
        let enoughData: Bool
        var rank = 0
        var rankLow = 0
        var rankHigh = 0
        let indicators: [IndicatorValue]
    }

    /// The score of one unit's facts, out of 100, and each indicator behind it.
    func score(_ facts: FactSheet) -> (score: Double, enoughData: Bool, indicators: [IndicatorValue]) {
        let measured = catalogue.indicators.map { $0.measure(facts) }
        let weightWithData = zip(catalogue.indicators, measured).reduce(0) { $0 + ($1.1.enough ? $1.0.weight : 0) }
        let enoughData = weightWithData > 0 && weightWithData >= catalogue.minimumWeightShare * catalogue.totalWeight
        var total = 0.0
        let indicators = zip(catalogue.indicators, measured).map { indicator, measurement in
            var value = IndicatorValue(
                indicator: indicator.id, name: indicator.name, category: indicator.category.rawValue, weight: indicator.weight,
                enoughData: measurement.enough, value: Self.rounded(measurement.value, 4)
            )
            if measurement.enough {
                let normalised = indicator.normalise(measurement.value)
                value.normalised = Self.rounded(normalised, 4)
                let points = enoughData ? normalised * indicator.weight * 100 / weightWithData : 0
                value.points = Self.rounded(points, 2)
                total += points
            }
            return value
        }
        return (enoughData ? Self.rounded(total, 2) : 0, enoughData, indicators)
    }

    /// Scores every division from per-village facts, summing each subtree, ranks siblings and
    /// tests each ranking's robustness.
    /// - Parameter seed: makes the Monte Carlo repeatable for the same month.
    func compute(divisions: [(code: DivisionCode, name: String)], villageFacts: [String: FactSheet], seed: String) -> [Scored] {
        var totals: [String: FactSheet] = [:]
        for (village, facts) in villageFacts {
            guard var code = try? DivisionCode(validating: village) else { continue }
            while true {
                totals[code.rawValue, default: FactSheet()] = totals[code.rawValue, default: FactSheet()] + facts
                guard let parent = code.parent else { break }
                code = parent
            }
        }
        var scored = divisions.map { division in
            let result = score(totals[division.code.rawValue] ?? FactSheet())
            return Scored(
                code: division.code.rawValue, name: division.name, parent: division.code.parent?.rawValue,
                score: result.score, enoughData: result.enoughData, indicators: result.indicators
            )
        }
        let groups = Dictionary(grouping: scored.indices, by: { scored[$0].parent ?? "" })
        for (parent, indices) in groups {
            let ranked = indices.filter { scored[$0].enoughData }.sorted { Self.before(scored[$0], scored[$1]) }
            for (position, index) in ranked.enumerated() { scored[index].rank = position + 1 }
            let intervals = RankIntervals(catalogue: catalogue, seed: "\(seed)|\(parent)").intervals(
                for: ranked.map { (scored[$0].code, totals[scored[$0].code] ?? FactSheet()) }
            )
            for (index, interval) in zip(ranked, intervals) {
                scored[index].rankLow = interval.low
                scored[index].rankHigh = interval.high
            }
        }
        return scored
    }

    /// Higher scores first; ties by code, so a ranking never depends on arrival order.
    static func before(_ lhs: Scored, _ rhs: Scored) -> Bool {
        lhs.score != rhs.score ? lhs.score > rhs.score : lhs.code < rhs.code
    }

    static func rounded(_ value: Double, _ places: Int) -> Double {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        return (value * scale).rounded() / scale
    }
}
