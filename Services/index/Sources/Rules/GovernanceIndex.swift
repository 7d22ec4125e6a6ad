import Dispatch
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
        score(measured: catalogue.indicators.map { $0.measure(facts) })
    }

    /// The score of one unit from each indicator's measurement, in the catalogue's order.
    func score(measured: [(value: Double, enough: Bool)]) -> (score: Double, enoughData: Bool, indicators: [IndicatorValue]) {
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

    /// The month's divisions scored and ranked among their siblings, before the rank
    /// intervals: the Monte Carlo behind those is most of the computation, so it is drawn
    /// family by family (``finished(_:of:seed:)``), on every core, while the families done
    /// are written.
    struct RankedMonth: Sendable {
        /// Every division, in the order given, ranked but without its interval.
        let scored: [Scored]
        /// The children of each parent, the largest families first.
        let families: [Family]
    }

    /// One parent's children: those with enough data in rank order with their indicators as
    /// measured, then the others.
    struct Family: Sendable {
        let parent: String
        /// Indices into ``RankedMonth/scored``, ranked units first, in rank order.
        let members: [Int]
        /// How many of `members` are ranked.
        let rankedCount: Int
        /// The ranked units' indicators as measured, in rank order.
        let measured: [[(value: Double, enough: Bool)]]
    }

    /// Scores every division from per-village facts, summing each subtree, and ranks siblings.
    ///
    /// The facts are summed as a table with a row per division and a column per fact the
    /// catalogue reads (every fact is a count, so the sums do not depend on their order), and
    /// each division's indicators are measured once, for its score and its rank interval.
    func rank(divisions: [(code: DivisionCode, name: String)], villageFacts: [String: FactSheet]) -> RankedMonth {
        let columns = FactColumns(catalogue)
        // A row per distinct code; rowOf[i] is divisions[i]'s.
        var row: [String: Int] = [:]
        row.reserveCapacity(divisions.count)
        let rowOf = divisions.map { division in
            if let at = row[division.code.rawValue] { return at }
            row[division.code.rawValue] = row.count
            return row.count - 1
        }
        var totals = [Double](repeating: 0, count: row.count * columns.count)
        for (village, facts) in villageFacts {
            guard var code = try? DivisionCode(validating: village) else { continue }
            let values = columns.values(of: facts)
            while true {
                if let at = row[code.rawValue] {
                    for column in values.indices { totals[at * columns.count + column] += values[column] }
                }
                guard let parent = code.parent else { break }
                code = parent
            }
        }
        let measured: [[(value: Double, enough: Bool)]] = (0..<row.count).map { at in
            columns.measure(catalogue.indicators, totals[(at * columns.count)..<((at + 1) * columns.count)])
        }
        var scored = zip(divisions, rowOf).map { division, at in
            let result = score(measured: measured[at])
            return Scored(
                code: division.code.rawValue, name: division.name, parent: division.code.parent?.rawValue,
                score: result.score, enoughData: result.enoughData, indicators: result.indicators
            )
        }
        // Each parent's children are ranked on their own, the largest families first, so
        // that the families' draws spread evenly over the cores.
        let families = Dictionary(grouping: scored.indices, by: { scored[$0].parent ?? "" })
            .map { parent, members in
                let ranked = members.filter { scored[$0].enoughData }.sorted { Self.before(scored[$0], scored[$1]) }
                return Family(
                    parent: parent, members: ranked + members.filter { !scored[$0].enoughData }, rankedCount: ranked.count,
                    measured: ranked.map { measured[rowOf[$0]] }
                )
            }
            .sorted { $0.rankedCount > $1.rankedCount }
        for family in families {
            for (position, index) in family.members.prefix(family.rankedCount).enumerated() { scored[index].rank = position + 1 }
        }
        return RankedMonth(scored: scored, families: families)
    }

    /// A family's members as published, each ranked unit with its rank interval. Each family
    /// draws from its own seed, so the intervals do not depend on which thread draws them or
    /// when.
    /// - Parameter seed: makes the Monte Carlo repeatable for the same month.
    func finished(_ family: Family, of ranking: RankedMonth, seed: String) -> [Scored] {
        let intervals = RankIntervals(catalogue: catalogue, seed: "\(seed)|\(family.parent)")
            .intervals(codes: family.members.prefix(family.rankedCount).map { ranking.scored[$0].code }, measured: family.measured)
        return family.members.enumerated().map { position, index in
            var unit = ranking.scored[index]
            if position < intervals.count {
                unit.rankLow = intervals[position].low
                unit.rankHigh = intervals[position].high
            }
            return unit
        }
    }

    /// The ranking's families as their intervals are drawn, on every core, each family's
    /// members as one element: a month is written while its last families are still drawn.
    /// The draws run on Dispatch's threads, not Swift's, so the writing is never short of a
    /// thread; a reader that stops early (a refused recomputation) leaves them to finish on
    /// their own, holding nothing.
    func finishedFamilies(of ranking: RankedMonth, seed: String) -> AsyncThrowingStream<[Scored], any Error> {
        let (families, continuation) = AsyncThrowingStream<[Scored], any Error>.makeStream()
        let index = self
        DispatchQueue.global().async {
            DispatchQueue.concurrentPerform(iterations: ranking.families.count) { at in
                continuation.yield(index.finished(ranking.families[at], of: ranking, seed: seed))
            }
            continuation.finish()
        }
        return families
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

/// The facts the catalogue's indicators read, as columns of a table: each indicator's
/// numerator and denominator become lists of column numbers, summed in the catalogue's order
/// as ``Indicator/measure(_:)`` sums them by name.
struct FactColumns {
    let names: [String]
    private let numerators: [[Int]]
    private let denominators: [[Int]]

    init(_ catalogue: IndicatorCatalogue) {
        var names: [String] = []
        var column: [String: Int] = [:]
        for name in catalogue.indicators.flatMap({ $0.numerator + $0.denominator }) where column[name] == nil {
            column[name] = names.count
            names.append(name)
        }
        self.names = names
        // Every name has its column by now.
        numerators = catalogue.indicators.map { $0.numerator.compactMap { column[$0] } }
        denominators = catalogue.indicators.map { $0.denominator.compactMap { column[$0] } }
    }

    var count: Int { names.count }

    /// A sheet's values of these columns; a fact the sheet lacks is 0.
    func values(of facts: FactSheet) -> [Double] { names.map { facts[$0] } }

    /// Each indicator measured from one row of the table.
    func measure(_ indicators: [Indicator], _ row: ArraySlice<Double>) -> [(value: Double, enough: Bool)] {
        let base = row.startIndex
        return indicators.indices.map { at in
            indicators[at].measure(
                numerator: numerators[at].reduce(0) { $0 + row[base + $1] },
                denominator: denominators[at].reduce(0) { $0 + row[base + $1] }
            )
        }
    }
}
