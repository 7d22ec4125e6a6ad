@testable import DisputeService
import Foundation
import PinganConnect
import PinganDomain
import PinganRuntime
import PinganTestSupport
import Testing

/// 补录: how far back a step may be recorded, decided without a database.
@Suite("recording a step after the fact (补录)")
struct BackdatingTests {
    let now = ManualClock(morningOf: "2026-10-09").now
    let rule = Backdating()
    let day: TimeInterval = 86_400

    @Test func anEmptyTimeIsNowAndNotRecordedLater() throws {
        let stamp = try rule.stamp(nil, field: "started_at", now: now, notBefore: nil)
        #expect(stamp.at == now && stamp.enteredAt == now && !stamp.recordedLater)
        #expect(stamp.timelineNote.isEmpty)
    }

    @Test func aTimeUpToTheLimitBackIsKeptBesideWhenItWasEntered() throws {
        let stamp = try rule.stamp(now.addingTimeInterval(-30 * day), field: "started_at", now: now, notBefore: nil)
        #expect(stamp.at == now.addingTimeInterval(-30 * day) && stamp.enteredAt == now && stamp.recordedLater)
        #expect(stamp.timelineNote == "; 补录: happened 2026-09-09 09:00 China time")
        #expect(try rule.stamp(now, field: "started_at", now: now, notBefore: nil).at == now)
    }

    @Test func aTimeInTheFutureIsRefusedEvenByASecond() {
        #expect(throws: Backdating.Refusal.inTheFuture(field: "ended_at", now: now)) {
            try rule.stamp(now.addingTimeInterval(1), field: "ended_at", now: now, notBefore: nil)
        }
        let refusal = Backdating.Refusal.inTheFuture(field: "ended_at", now: now)
        #expect(refusal.description == "is in the future (after 2026-10-09 09:00 China time); a step is recorded once it has happened")
    }

    @Test func aTimeBeyondTheLimitIsRefusedSayingTheLimit() throws {
        do throws(Backdating.Refusal) {
            _ = try rule.stamp(now.addingTimeInterval(-31 * day), field: "started_at", now: now, notBefore: nil)
            Issue.record("31 days back was taken")
        } catch {
            let message = MediationRefusal.backdated(error).connectError
            #expect(message?.code == .invalidArgument)
            #expect(message?.message == "started_at: is 31 days ago; steps may be recorded at most 30 days after they happened")
        }
        // A second past the limit is refused too, and says so without rounding the days down to the limit.
        #expect(throws: Backdating.Refusal.self) {
            try rule.stamp(now.addingTimeInterval(-30 * day - 1), field: "visited_at", now: now, notBefore: nil)
        }
        let justOver = Backdating.Refusal.beyondLimit(field: "visited_at", ago: 30 * day + 1, limitDays: 30)
        #expect(justOver.description.hasPrefix("is more than 30 days ago;"))
    }

    @Test func aLimitOfZeroAllowsOnlyNow() throws {
        let none = Backdating(limitDays: 0)
        #expect(try none.stamp(nil, field: "started_at", now: now, notBefore: nil).at == now)
        #expect(throws: Backdating.Refusal.self) { try none.stamp(now.addingTimeInterval(-1), field: "started_at", now: now, notBefore: nil) }
    }

    @Test func aTimeBeforeTheStepItFollowsIsRefusedToTheMillisecond() throws {
        let start = Backdating.Bound(at: now.addingTimeInterval(-5 * day + 0.000_456), what: "the attempt's start")
        #expect(throws: Backdating.Refusal.beforeEarlierStep(field: "ended_at", start)) {
            try rule.stamp(now.addingTimeInterval(-6 * day), field: "ended_at", now: now, notBefore: start)
        }
        // The start as an answer carried it (to the millisecond) is not before the start.
        let carried = try #require(Date(wireTimestamp: start.at.wireTimestamp))
        #expect(try rule.stamp(carried, field: "ended_at", now: now, notBefore: start).at == carried)
        // Entered now, a step is never refused for order: replicas' clocks differ a little.
        let later = Backdating.Bound(at: now.addingTimeInterval(0.005), what: "the previous attempt's end")
        #expect(try rule.stamp(nil, field: "started_at", now: now, notBefore: later).at == now)
    }

    @Test func theLimitIsADisputeServiceSetting() throws {
        let base = ["MESH_SECRET": TestMesh.secret]
        #expect(try DisputeSettings(SettingsReader(base)).backdating.limitDays == 30)
        #expect(try DisputeSettings(SettingsReader(base.merging(["BACKDATE_LIMIT_DAYS": "7"]) { $1 })).backdating.limitDays == 7)
        expectRefused("BACKDATE_LIMIT_DAYS", ["-1", "366"], over: base) { try DisputeSettings($0) }
    }

    @Test func theRulesRefuseAnEndBeforeItsStartAndCountTheVisitFromTheRealSettlement() throws {
        let rules = MediationRules(calendar: WorkdayCalendar(exceptions: [], years: Set(2020...2030)), deadlines: StepDeadlines())
        let tests = MediationRulesTests()
        var file = try tests.file(after: [])
        let township = try tests.township()
        // Entered ten days after the case opened, the attempt began the day it opened.
        let now = tests.now.addingTimeInterval(10 * day), startedAt = tests.now
        #expect(throws: MediationRefusal.backdated(.beforeEarlierStep(field: "started_at", .init(at: startedAt, what: "the case was opened")))) {
            try rules.startRung(file, rung: .finder, kind: .peoples, lead: "x", participants: [], bodies: [], skipReason: nil,
                                startedAt: startedAt.addingTimeInterval(-60), by: township, now: now)
        }
        let changes = try rules.startRung(file, rung: .finder, kind: .peoples, lead: "x", participants: [], bodies: [], skipReason: nil,
                                          startedAt: startedAt, by: township, now: now)
        guard case let .attemptStarted(attempt, _, _) = changes[0] else { Issue.record("no attempt started"); return }
        #expect(attempt.startedAt == startedAt && attempt.startEnteredAt == now)
        #expect(attempt.deadline == rules.calendar.deadline(after: startedAt, workingDays: 3))
        file.attempts = [attempt]
        #expect(throws: MediationRefusal.backdated(.beforeEarlierStep(field: "ended_at", .init(at: startedAt, what: "the attempt's start")))) {
            try rules.endRung(file, attempt: attempt.id, outcome: .eased, note: "x", agreement: nil, endedAt: startedAt.addingTimeInterval(-1),
                              by: township, now: now)
        }
        let agreement = Agreement(id: UUID(), terms: "x", signedOn: Day(containing: startedAt), signatories: ["甲"])
        let endedAt = startedAt.addingTimeInterval(3600)
        let settled = try rules.endRung(file, attempt: attempt.id, outcome: .settled, note: "x", agreement: agreement, endedAt: endedAt,
                                        by: township, now: now)
        let visit = settled.compactMap { if case let .returnVisitDue(visit) = $0 { visit } else { nil } }.first
        #expect(visit?.deadline == rules.calendar.deadline(after: endedAt, workingDays: 10))
        #expect(settled.contains { if case let .attemptEnded(_, _, _, at, by) = $0 { at == endedAt && by == "user:t" } else { false } })
    }
}
