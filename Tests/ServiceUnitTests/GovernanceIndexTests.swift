@testable import IndexService
import PinganAccess
import PinganDomain
import Testing

@Suite("governance index")
struct GovernanceIndexTests {
    let divisions: [(code: DivisionCode, name: String)] = [
        "430723000000", "430723102000", "430723102201", "430723102202", "430723103000", "430723103201",
    ].map { (try! DivisionCode(validating: $0), $0) }

    @Test func quietDivisionsScoreFullMarks() {
        let scored = GovernanceIndex.compute(divisions: divisions, villageFacts: [:])
        #expect(scored.allSatisfy { $0.score == 100 })
    }

    @Test func factsAddUpTheTreeAndSiblingsAreRanked() throws {
        let facts: [String: GovernanceIndex.Facts] = [
            // Four cases, two warnings (one acknowledged), one resolved.
            "430723102201": .init(incidents: 4, opened: 4, resolved: 1, raised: 2, acknowledged: 1),
            "430723103201": .init(incidents: 1, opened: 1, resolved: 1, raised: 0, acknowledged: 0),
        ]
        let scored = Dictionary(uniqueKeysWithValues: GovernanceIndex.compute(divisions: divisions, villageFacts: facts).map { ($0.code, $0) })
        let village = try #require(scored["430723102201"])
        // 40 × (1 − 2/4) + 30 × 1/2 + 30 × 1/4
        #expect(village.score == 20 + 15 + 7.5)
        #expect(village.rank == 2)
        #expect(scored["430723102202"]?.rank == 1)
        // The township sums its villages; its sibling township had one resolved case.
        #expect(scored["430723102000"]?.score == 42.5)
        #expect(scored["430723102000"]?.rank == 2)
        #expect(scored["430723103000"]?.score == 100)
        #expect(scored["430723103000"]?.rank == 1)
        let county = try #require(scored["430723000000"])
        // Five cases, two warnings, one acknowledged, two resolved.
        #expect(county.score == 40 * (1 - 2.0 / 5) + 15 + 30 * 2.0 / 5)
        #expect(county.indicators.first { $0.indicator == "incidents_reported" }?.value == 5)
    }
}
