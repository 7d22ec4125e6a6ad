import Foundation
@testable import IndexService
import PinganDomain
import Testing

/// What a frozen month's scores call for, without a database: the seed's thresholds at
/// their edges, a centre's own rule, and what a recomputation does to the month's actions.
@Suite("threshold actions")
struct ThresholdActionsTests {
    static let county = "430725000000"
    static let township = "430725202000"
    static let village = "430725202201"

    let month = Month(year: 2026, month: 10)
    let today: Day
    let township: DivisionCode

    init() throws {
        today = try #require(Day(parsing: "2026-11-02"))
        township = try DivisionCode(validating: Self.township)
    }

    func unit(_ code: String = Self.village, score: Double, enoughData: Bool = true, parent: String? = Self.township) -> GovernanceIndex.Scored {
        GovernanceIndex.Scored(code: code, name: "村\(code.suffix(3))", parent: parent, score: score, enoughData: enoughData, indicators: [])
    }

    func decide(_ scored: [GovernanceIndex.Scored], rules: [DivisionCode: ThresholdRule] = [:], existing: [ThresholdActions.Existing] = []) -> [ThresholdActions.Decision] {
        ThresholdActions.decide(month: month, scored: scored, rules: rules, existing: existing, today: today)
    }

    /// The kind of the one action `score` calls for under the seed's rule, if any.
    func kind(_ score: Double, enoughData: Bool = true) -> ThresholdRule.Kind? {
        let decisions = decide([unit(score: score, enoughData: enoughData)])
        guard case .create(let action)? = decisions.first else { return nil }
        return action.kind
    }

    @Test func theSeedsThresholdsAtTheirEdges() {
        #expect(kind(100) == .shareExperience)
        #expect(kind(98) == .shareExperience)
        #expect(kind(97.99) == nil)
        #expect(kind(80) == nil)
        #expect(kind(79.99) == .reminderTalk)
        #expect(kind(60) == .reminderTalk)
        #expect(kind(59.99) == .summons)
        // Grids that screened nothing score 0 and are summoned; no data at all is no action.
        #expect(kind(0) == .summons)
        #expect(kind(0, enoughData: false) == nil)
        #expect(kind(99, enoughData: false) == nil)
    }

    @Test func theSeedsRuleNamesTheOwnerAndTheDueDayFromTheDayOfFreezing() throws {
        let decisions = decide([unit("430725202201", score: 98), unit("430725202202", score: 79.5), unit("430725202203", score: 59)])
        #expect(decisions == [
            .create(.init(month: month, division: "430725202201", divisionName: "村201", centre: township, kind: .shareExperience,
                          owner: "被评单位负责人", dueOn: try #require(Day(parsing: "2026-12-02")), score: 98)),
            .create(.init(month: month, division: "430725202202", divisionName: "村202", centre: township, kind: .reminderTalk,
                          owner: "政法委员", dueOn: try #require(Day(parsing: "2026-11-17")), score: 79.5)),
            .create(.init(month: month, division: "430725202203", divisionName: "村203", centre: township, kind: .summons,
                          owner: "党委书记", dueOn: try #require(Day(parsing: "2026-11-09")), score: 59)),
        ])
    }

    @Test func aCentresOwnRuleJudgesTheUnitsItReviewsAndNoOthers() throws {
        var strict = ThresholdRule.seedDefault
        strict.remindBelow = 90
        strict.remindDays = 10
        strict.remindOwner = "乡长"
        let other = "430725203201"
        let decisions = decide([unit(score: 85), unit(other, score: 85, parent: "430725203000")], rules: [township: strict])
        #expect(decisions == [
            .create(.init(month: month, division: Self.village, divisionName: "村201", centre: township, kind: .reminderTalk,
                          owner: "乡长", dueOn: try #require(Day(parsing: "2026-11-12")), score: 85)),
        ])
    }

    @Test func theRootHasNoCentreToReviewIt() {
        #expect(decide([unit("430700000000", score: 10, parent: nil)]).isEmpty)
    }

    @Test func aRecomputationWithdrawsWhatItNoLongerCallsForKeepsWhatIsDoneAndNeverDoubles() throws {
        let open = ThresholdActions.Existing(id: UUID(), division: Self.village, kind: .reminderTalk, status: .open)
        let done = ThresholdActions.Existing(id: UUID(), division: Self.village, kind: .summons, status: .done)
        let gone = ThresholdActions.Existing(id: UUID(), division: Self.village, kind: .shareExperience, status: .withdrawn)
        // Still a reminder talk: nothing changes.
        #expect(decide([unit(score: 70)], existing: [open, done]).isEmpty)
        // Now 98: the open talk is withdrawn, the done summons stays, and the withdrawn share
        // does not stop a new one.
        #expect(decide([unit(score: 98)], existing: [open, done, gone]) == [
            .withdraw(open.id),
            .create(.init(month: month, division: Self.village, divisionName: "村201", centre: township, kind: .shareExperience,
                          owner: "被评单位负责人", dueOn: try #require(Day(parsing: "2026-12-02")), score: 98)),
        ])
        // Now 50: the summons was done already, so only the talk is withdrawn.
        #expect(decide([unit(score: 50)], existing: [open, done]) == [.withdraw(open.id)])
        // Not enough data any more: the open action is withdrawn, none is created.
        #expect(decide([unit(score: 0, enoughData: false)], existing: [open]) == [.withdraw(open.id)])
    }

    @Test func aRuleACentreSetsIsCheckedFieldByField() {
        var wrong = ThresholdRule.seedDefault
        wrong.summonBelow = 85
        #expect(throws: FieldProblem(field: "rule.summon_below", problem: "must not be above remind_below (80.0)")) { try wrong.validate() }
        wrong = .seedDefault
        wrong.shareAt = 100.5
        #expect(throws: FieldProblem(field: "rule.share_at", problem: "must be between 0 and 100")) { try wrong.validate() }
        wrong = .seedDefault
        wrong.remindDays = 0
        #expect(throws: FieldProblem(field: "rule.remind_days", problem: "must be 1 to 365 days")) { try wrong.validate() }
        var edges = ThresholdRule.seedDefault
        edges.shareAt = 100
        edges.remindBelow = 100
        edges.summonBelow = 0
        edges.summonDays = 365
        #expect(throws: Never.self) { try edges.validate() }
    }
}
