import PinganDomain

/// A unit's place among its siblings in a month's current version, as rankings and the
/// monthly review show it: the stored score with last month's beside it, so the change is
/// worked out here and not in SQL.
struct RankedScore: Sendable, Equatable {
    let code: String
    let name: String
    /// Out of 100; 0 and meaningless when ``enoughData`` is false.
    let score: Double
    let enoughData: Bool
    /// 1 is best among siblings; 0 when the unit has not enough data to be ranked.
    let rank: Int
    let rankLow: Int
    let rankHigh: Int
    let indicators: [IndicatorValue]
    /// The unit's score in the previous month's current version, when it had enough data.
    let previousScore: Double?

    /// Score minus last month's, to two places; known only when both months have a score.
    var change: Double? {
        guard enoughData, let previousScore else { return nil }
        return GovernanceIndex.rounded(score - previousScore, 2)
    }
}

/// A month's ranking of one parent's children: the version it comes from (`nil` when the
/// month was never computed) and the units, ranked ones first.
struct Ranking: Sendable {
    let version: MonthVersion?
    let scores: [RankedScore]
}

/// One unit's frozen monthly scores of a year, as ``AnnualGrading`` grades them.
struct ScoredYear: Sendable, Equatable {
    let code: String
    let name: String
    /// The frozen months' scores with enough data, in month order.
    let scores: [Double]
}
