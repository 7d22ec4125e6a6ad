@testable import IndexService
import PinganDomain

extension GovernanceIndex {
    /// Every division scored, ranked and given its rank interval, in the order given: the
    /// month whole, from the same ranking and families the handler streams, one family after
    /// another.
    func compute(divisions: [(code: DivisionCode, name: String)], villageFacts: [String: FactSheet], seed: String) -> [Scored] {
        let ranking = rank(divisions: divisions, villageFacts: villageFacts)
        var scored = ranking.scored
        for family in ranking.families {
            for (index, unit) in zip(family.members, finished(family, of: ranking, seed: seed)) { scored[index] = unit }
        }
        return scored
    }
}
