import Foundation
import PinganDomain
@testable import RiskService
import Testing

/// The warning ladder without a database: what a score means for a case's warning, when an
/// unacknowledged warning escalates and to whom, and what a step of the loop does.
@Suite("warning rules")
struct WarningRulesTests {
    let rules = WarningRules(threshold: 60, acknowledgeWithin: .seconds(1800))
    let now = Date(timeIntervalSince1970: 1_790_000_000)
    let village: DivisionCode
    let township: DivisionCode
    let county: DivisionCode
    let city: DivisionCode

    init() throws {
        village = try DivisionCode(validating: "430724001201")
        township = try DivisionCode(validating: "430724001000")
        county = try DivisionCode(validating: "430724000000")
        city = try DivisionCode(validating: "430700000000")
    }

    static let bands = RiskBands(serious: 60, major: 80, decisive: .major)

    func score(_ points: Int, decisive: Bool = false) -> RiskScore {
        RiskScore(score: points, reasons: [], modelVersion: "test/neighbour", decisive: decisive, level: Self.bands.level(of: points, decisive: decisive))
    }

    func open(score: Int, level: RiskLevel? = nil) -> OpenWarning {
        OpenWarning(id: UUID(), score: score, centre: county, level: level ?? Self.bands.level(of: score, decisive: false))
    }

    // MARK: A new score

    @Test func aScoreBelowTheThresholdRaisesNothing() {
        #expect(rules.decision(for: score(59), village: village, open: nil, closed: false, now: now) == .none)
    }

    @Test func aScoreAtTheThresholdWarnsTheTownshipAndEscalatesAfterTheWindow() {
        #expect(rules.decision(for: score(60), village: village, open: nil, closed: false, now: now)
                == .raise(owner: township, notify: township, escalatesAt: now.addingTimeInterval(1800)))
    }

    @Test func aDecisiveFactorWarnsTheVillageItselfWhateverTheScore() {
        #expect(rules.decision(for: score(30, decisive: true), village: village, open: nil, closed: false, now: now)
                == .raise(owner: township, notify: village, escalatesAt: now.addingTimeInterval(1800)))
    }

    @Test func aClosedCaseRaisesNothingEvenWithADecisiveFactorOrAnOpenWarning() {
        #expect(rules.decision(for: score(100, decisive: true), village: village, open: nil, closed: true, now: now) == .none)
        #expect(rules.decision(for: score(100), village: village, open: open(score: 60), closed: true, now: now) == .none)
    }

    @Test func aRegroupKeepsTheHigherScoreAndPushesOnlyARise() {
        let warning = open(score: 80)
        #expect(rules.decision(for: score(60), village: village, open: warning, closed: false, now: now)
                == .regroup(id: warning.id, score: 80, rose: false, owner: county, level: .major))
        #expect(rules.decision(for: score(80), village: village, open: warning, closed: false, now: now)
                == .regroup(id: warning.id, score: 80, rose: false, owner: county, level: .major))
        #expect(rules.decision(for: score(95), village: village, open: warning, closed: false, now: now)
                == .regroup(id: warning.id, score: 95, rose: true, owner: county, level: .major))
    }

    /// A warning says the gravest level its case reached while it was open: a lower score
    /// does not make it milder, and a decisive fact makes it 重大 without a higher score.
    @Test func aRegroupKeepsTheGravestLevel() {
        let serious = open(score: 70)
        #expect(rules.decision(for: score(62), village: village, open: serious, closed: false, now: now)
                == .regroup(id: serious.id, score: 70, rose: false, owner: county, level: .serious))
        #expect(rules.decision(for: score(65, decisive: true), village: village, open: serious, closed: false, now: now)
                == .regroup(id: serious.id, score: 70, rose: false, owner: county, level: .major))
        let major = open(score: 65, level: .major)
        #expect(rules.decision(for: score(75), village: village, open: major, closed: false, now: now)
                == .regroup(id: major.id, score: 75, rose: true, owner: county, level: .major))
    }

    @Test func aScoreThatNoLongerWarnsLeavesTheOpenWarningAlone() {
        #expect(rules.decision(for: score(20), village: village, open: open(score: 80), closed: false, now: now) == .none)
    }

    // MARK: Escalation

    func raised(at centre: DivisionCode, escalatesAt: Date) -> RaisedWarning {
        RaisedWarning(id: UUID(), caseID: UUID(), centre: centre, village: village, escalatesAt: escalatesAt, level: .serious)
    }

    @Test func aWarningEscalatesExactlyAtItsTimeToTheLevelAbove() {
        let warning = raised(at: township, escalatesAt: now)
        #expect(rules.escalations(of: [warning], now: now) == [WarningEscalation(
            warning: warning.id, caseID: warning.caseID, village: village, from: township, to: county, nextEscalationAt: now.addingTimeInterval(1800),
            level: .serious
        )])
    }

    @Test func aWarningDoesNotEscalateAMicrosecondBeforeItsTime() {
        let warning = raised(at: township, escalatesAt: now)
        #expect(rules.escalations(of: [warning], now: now.addingTimeInterval(-0.000_001)).isEmpty)
    }

    @Test func theLadderRunsTownshipCountyCityAndTheCityIsPushedAgainEachWindow() {
        let late = now.addingTimeInterval(-60)
        let escalated = rules.escalations(of: [raised(at: township, escalatesAt: late), raised(at: county, escalatesAt: late), raised(at: city, escalatesAt: late)], now: now)
        #expect(escalated.map(\.from) == [township, county, city])
        #expect(escalated.map(\.to) == [county, city, city])
        // The next escalation counts from now, not from when it was due.
        #expect(escalated.allSatisfy { $0.nextEscalationAt == now.addingTimeInterval(1800) })
    }

    @Test func onlyTheWarningsWhoseTimeHasComeEscalate() {
        let due = raised(at: township, escalatesAt: now.addingTimeInterval(-1))
        let notYet = raised(at: township, escalatesAt: now.addingTimeInterval(1))
        #expect(rules.escalations(of: [notYet, due], now: now).map(\.warning) == [due.id])
    }

    @Test func theWindowIsTheAcknowledgementIntervalWhateverItIs() {
        let quick = WarningRules(threshold: 60, acknowledgeWithin: .milliseconds(1500))
        #expect(quick.escalationTime(after: now) == now.addingTimeInterval(1.5))
        guard case let .raise(_, _, escalatesAt) = quick.decision(for: score(70), village: village, open: nil, closed: false, now: now) else {
            Issue.record("a score over the threshold must warn")
            return
        }
        #expect(escalatesAt == now.addingTimeInterval(1.5))
    }

    // MARK: The loop

    @Test func everyStepOfTheLoopEndsTheEscalationAndOnlyClosingClosesIt() {
        for step in LoopStep.allCases {
            let transition = rules.transition(step, note: "note", now: now)
            #expect(transition.escalatesAt == nil)
            #expect(transition.closedAt == (step == .close ? now : nil))
            #expect(transition.at == now)
            #expect(transition.from == step.from && transition.to == step.to)
        }
    }

    @Test func theLoopRunsInOrderFromRaisedToClosed() {
        var status = WarningStatus.raised
        for step in LoopStep.allCases {
            #expect(step.from.contains(status), "\(step) follows \(step.from), not \(status)")
            status = step.to
        }
        #expect(status == .closed)
        #expect(LoopStep.allCases.filter(\.needsOwningLevel) == [.evaluate, .close])
    }
}
