/// How sure a ranking is: each unit's rank under many plausible versions of the index.
///
/// Each draw takes every weight from weight × [1 − u, 1 + u] (the catalogue's stated
/// uncertainty) and, with even odds, normalises every indicator by min–max across the
/// siblings instead of the catalogued rate or target. The interval is the 5th to the 95th
/// percentile of the ranks a unit got, so a review meeting can see whether 3rd against 4th
/// is a real difference or a matter of how the index was built.
struct RankIntervals: Sendable {
    let catalogue: IndicatorCatalogue
    let seed: String

    /// The interval of each unit, in the order given; units should be ranked siblings.
    func intervals(for units: [(code: String, facts: FactSheet)]) -> [(low: Int, high: Int)] {
        intervals(codes: units.map(\.code), measured: units.map { unit in catalogue.indicators.map { $0.measure(unit.facts) } })
    }

    /// The same from each unit's code and its indicators as measured, in the catalogue's order.
    ///
    /// Written for speed (it is most of a month's computation): the measurements and both
    /// normalisations sit in flat tables, each draw sorts one array of unit numbers (codes
    /// compared as their precomputed order), and the ranks a unit got are counted rather than
    /// kept and sorted. The arithmetic and the draws are the same as the plain version's, in
    /// the same order, so the intervals are the same.
    func intervals(codes: [String], measured: [[(value: Double, enough: Bool)]]) -> [(low: Int, high: Int)] {
        let units = codes.count
        guard units > 1 else { return codes.map { _ in (1, 1) } }
        let indicators = catalogue.indicators
        let columns = indicators.count
        // Flat tables, a row per unit: the value of (unit, column) is at unit * columns +
        // column, so a draw sums each unit's row in the catalogue's order, as the plain version
        // does. A unit's indicator without enough data has weight share 0 and value 0 there,
        // so adding its term adds exactly +0.0 and every sum is the plain version's, bit for
        // bit (all terms are ≥ 0).
        var enough = [Double](repeating: 0, count: units * columns)
        var catalogued = [Double](repeating: 0, count: units * columns)
        var alternative = [Double](repeating: 0, count: units * columns)
        for unit in 0..<units {
            for column in 0..<columns where measured[unit][column].enough {
                enough[unit * columns + column] = 1
                catalogued[unit * columns + column] = indicators[column].normalise(measured[unit][column].value)
            }
        }
        // The min–max alternative, per indicator, over the siblings that measured it.
        for column in 0..<columns {
            let values = measured.compactMap { $0[column].enough ? $0[column].value : nil }
            let low = values.min() ?? 0
            let high = values.max() ?? 0
            for unit in 0..<units where measured[unit][column].enough {
                let value = measured[unit][column].value
                guard high > low else {
                    alternative[unit * columns + column] = indicators[column].normalise(value)
                    continue
                }
                let share = (value - low) / (high - low)
                alternative[unit * columns + column] = indicators[column].direction == .positive ? share : 1 - share
            }
        }
        // Ties go to the lower code: each unit's place among its siblings' codes.
        var codeOrder = [Int](repeating: 0, count: units)
        for (place, unit) in codes.indices.sorted(by: { codes[$0] < codes[$1] }).enumerated() { codeOrder[unit] = place }

        let draws = catalogue.monteCarloDraws
        let baseWeights = indicators.map(\.weight)
        let uncertainty = indicators.map(\.weightUncertainty)
        let share = catalogue.minimumWeightShare
        var generator = SplitMix64(seed: seed)
        var weights = [Double](repeating: 0, count: columns)
        var scores = [Double](repeating: 0, count: units)
        var order = Array(0..<units)
        // drawn[unit * draws + draw]: the rank the unit got in that draw.
        var drawn = [Int32](repeating: 0, count: units * draws)
        for draw in 0..<draws {
            for column in 0..<columns {
                weights[column] = baseWeights[column] * (1 + uncertainty[column] * (2 * generator.unit() - 1))
            }
            var total = 0.0
            for column in 0..<columns { total += weights[column] }
            let normalised = generator.unit() < 0.5 ? alternative : catalogued
            let needed = share * total
            for unit in 0..<units {
                var sum = 0.0
                var withData = 0.0
                let row = unit &* columns
                for column in 0..<columns {
                    sum += weights[column] * normalised[row &+ column]
                    withData += weights[column] * enough[row &+ column]
                }
                scores[unit] = withData > 0 && withData >= needed ? sum / withData : -1
            }
            // Higher scores first, then lower codes: a strict order, so the result does not
            // depend on where the sort starts; starting from the last draw's order, few units
            // move.
            Self.sort(&order, scores: scores, codeOrder: codeOrder)
            for position in 0..<units { drawn[order[position] &* draws &+ draw] = Int32(position + 1) }
        }
        // The 5th and 95th percentiles of each unit's ranks, read from a count of each rank.
        let last = Double(draws - 1)
        let lowAt = Int((0.05 * last).rounded(.down))
        let highAt = Int((0.95 * last).rounded(.up))
        var counts = [Int](repeating: 0, count: units + 1)
        return (0..<units).map { unit in
            for rank in counts.indices { counts[rank] = 0 }
            for draw in 0..<draws { counts[Int(drawn[unit * draws + draw])] += 1 }
            var seen = 0
            var low = 0
            var high = 0
            for rank in 1...units {
                let below = seen
                seen += counts[rank]
                if below <= lowAt, lowAt < seen { low = rank }
                if below <= highAt, highAt < seen { high = rank; break }
            }
            return (low, high)
        }
    }

    /// Sorts unit numbers by score, highest first, then by code: by insertion for a family of
    /// a few dozen, already nearly in order from the draw before; otherwise by the library.
    private static func sort(_ order: inout [Int], scores: [Double], codeOrder: [Int]) {
        if order.count <= 64 {
            for next in 1..<order.count {
                let unit = order[next]
                var at = next
                while at > 0 {
                    let other = order[at - 1]
                    guard scores[unit] != scores[other] ? scores[unit] > scores[other] : codeOrder[unit] < codeOrder[other] else { break }
                    order[at] = other
                    at -= 1
                }
                order[at] = unit
            }
        } else {
            order.sort { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : codeOrder[$0] < codeOrder[$1] }
        }
    }
}

/// A small, fast, seedable generator (SplitMix64): the same month always gets the same
/// intervals, which a published review needs.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: String) {
        // FNV-1a: Swift's own hashing is randomised per process.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in seed.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        state = hash
    }

    mutating func next() -> UInt64 {
        state = state &+ 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
