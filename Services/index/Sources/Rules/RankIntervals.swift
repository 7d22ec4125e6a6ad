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
        guard units.count > 1 else { return units.map { _ in (1, 1) } }
        let indicators = catalogue.indicators
        let measured = units.map { unit in indicators.map { $0.measure(unit.facts) } }
        // The min–max alternative, per indicator, over the siblings that measured it.
        let alternative: [[Double]] = indicators.indices.map { column in
            let values = measured.compactMap { $0[column].enough ? $0[column].value : nil }
            let low = values.min() ?? 0
            let high = values.max() ?? 0
            return measured.map { row in
                guard row[column].enough else { return 0 }
                guard high > low else { return indicators[column].normalise(row[column].value) }
                let share = (row[column].value - low) / (high - low)
                return indicators[column].direction == .positive ? share : 1 - share
            }
        }
        let catalogued = measured.map { row in zip(indicators, row).map { $1.enough ? $0.normalise($1.value) : 0 } }
        var generator = SplitMix64(seed: seed)
        var ranks = Array(repeating: [Int](), count: units.count)
        for _ in 0..<catalogue.monteCarloDraws {
            let weights = indicators.map { indicator in
                indicator.weight * (1 + indicator.weightUncertainty * (2 * generator.unit() - 1))
            }
            let minMax = generator.unit() < 0.5
            let total = weights.reduce(0, +)
            let scores = units.indices.map { unit -> Double in
                var sum = 0.0
                var withData = 0.0
                for column in indicators.indices where measured[unit][column].enough {
                    sum += weights[column] * (minMax ? alternative[column][unit] : catalogued[unit][column])
                    withData += weights[column]
                }
                return withData > 0 && withData >= catalogue.minimumWeightShare * total ? sum / withData : -1
            }
            let ranked = units.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : units[$0].code < units[$1].code }
            for (position, unit) in ranked.enumerated() { ranks[unit].append(position + 1) }
        }
        return ranks.map { drawn in
            let sorted = drawn.sorted()
            let last = Double(sorted.count - 1)
            return (sorted[Int((0.05 * last).rounded(.down))], sorted[Int((0.95 * last).rounded(.up))])
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
