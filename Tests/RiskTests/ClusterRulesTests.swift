import Foundation
import PinganDomain
@testable import RiskService
import Testing

/// The cluster rules as pure values: which version is in force at its edge, what a book may
/// not say, and whom a cluster warns.
@Suite("cluster rules")
struct ClusterRulesTests {
    static func book(_ versions: String) throws -> ClusterRuleBook {
        try ClusterRuleBook.parse(Data(#"{"versions": [\#(versions)]}"#.utf8))
    }

    static let rule = #"{"id": "r", "kind": "incidents_in_place", "label": "l", "category": "land", "scope": "village", "count": 6, "windowDays": 14, "warns": "township"}"#

    @Test func aVersionAppliesFromTheFirstInstantOfItsDayInChina() throws {
        let book = try Self.book(#"{"version": "1", "from": "2026-01-01", "rules": [\#(Self.rule)]}, {"version": "2", "from": "2027-03-01", "rules": []}"#)
        let start = try #require(Day(parsing: "2027-03-01")).start
        #expect(book.inForce(at: start)?.version == "2")
        #expect(book.inForce(at: start.addingTimeInterval(-0.000_001))?.version == "1")
        #expect(book.inForce(at: try #require(Day(parsing: "2025-12-31")).start) == nil)
    }

    @Test func theShippedRulesParseAndABookThatCannotBeAppliedIsRefused() throws {
        #expect(try RiskApp.clusterRules(nil).versions.first?.rules.count == 5)
        #expect(throws: ClusterRuleError.self) { try Self.book(#"{"version": "2", "from": "2027-03-01", "rules": []}, {"version": "1", "from": "2026-01-01", "rules": []}"#) }
        #expect(throws: ClusterRuleError.self) { try Self.book(#"{"version": "1", "from": "2026-01-01", "rules": [\#(Self.rule), \#(Self.rule)]}"#) }
        let unknown = Self.rule.replacingOccurrences(of: "\"land\"", with: "\"weather\"")
        #expect(throws: ClusterRuleError.self) { try Self.book(#"{"version": "1", "from": "2026-01-01", "rules": [\#(unknown)]}"#) }
        let one = Self.rule.replacingOccurrences(of: "\"count\": 6", with: "\"count\": 1")
        #expect(throws: ClusterRuleError.self) { try Self.book(#"{"version": "1", "from": "2026-01-01", "rules": [\#(one)]}"#) }
        #expect(throws: ClusterRuleError.self) { try Self.book("") }
    }

    @Test func aClusterWarnsTheSmallestCentreCoveringItsCasesOrTheCountyAbove() throws {
        let a = try DivisionCode(validating: "430723102201"), b = try DivisionCode(validating: "430723103201"), a2 = try DivisionCode(validating: "430723102202")
        #expect(ClusterRuleSet.scope(of: [a], around: a) == a)
        #expect(ClusterRuleSet.scope(of: [a, a2], around: a).rawValue == "430723102000")
        #expect(ClusterRuleSet.scope(of: [a, b], around: a).rawValue == "430723000000")
        #expect(ClusterRuleSet.owner(.township, scope: a).rawValue == "430723102000")
        #expect(ClusterRuleSet.owner(.county, scope: a).rawValue == "430723000000")
        #expect(ClusterRuleSet.owner(.township, scope: try DivisionCode(validating: "430723000000")).rawValue == "430723000000")
    }

    /// Inhibition with the centre as its `equal` label: a cluster holds back a case's push only
    /// when it warns the centre the case's own warning warns.
    @Test func aClusterHoldsBackACasesPushOnlyWhenItWarnsTheSameCentre() throws {
        let township = try DivisionCode(validating: "430781103000"), county = try DivisionCode(validating: "430781000000")
        let countyCluster = ClusterHold(warning: UUID(), centre: county), townshipCluster = ClusterHold(warning: UUID(), centre: township)
        let raise = WarningDecision.raise(owner: township, notify: township, escalatesAt: Date())
        #expect(raise.heldBy([]) == nil)
        #expect(raise.heldBy([countyCluster]) == nil)
        #expect(raise.heldBy([countyCluster, townshipCluster]) == townshipCluster.warning)
        let regroup = { (owner: DivisionCode) in WarningDecision.regroup(id: UUID(), score: 70, rose: true, owner: owner, level: .serious) }
        #expect(regroup(township).heldBy([countyCluster]) == nil)
        #expect(regroup(township).heldBy([townshipCluster]) == townshipCluster.warning)
        // A case warning escalated to the county is held by the county's cluster, not the township's.
        #expect(regroup(county).heldBy([townshipCluster, countyCluster]) == countyCluster.warning)
        #expect(WarningDecision.none.heldBy([townshipCluster]) == nil)
    }

    @Test func aSeasonalRuleFiresOnlyAboveItsFactorTimesThePastMean() throws {
        let seasonal = try #require(try RiskApp.clusterRules(nil).versions.first?.rules.first { $0.kind == .seasonalRise })
        #expect(ClusterRuleSet.fires(seasonal, members: 10, past: [2, 2, 2]))
        #expect(!ClusterRuleSet.fires(seasonal, members: 10, past: [5, 5, 5]))  // 10 is not more than 2 × 5
        #expect(!ClusterRuleSet.fires(seasonal, members: 9, past: [0, 0, 0]))  // under its minimum of 10
        #expect(ClusterRuleSet.fires(seasonal, members: 10, past: []))
    }
}
