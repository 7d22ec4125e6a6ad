@testable import DisputeService
import Foundation
import PinganDomain
import Testing

/// The one definition of overdue, asked of a case file, at the edges of a deadline.
@Suite("overdue steps")
struct OverdueTests {
    static let official = try! WorkdayCalendar.parse(csv: try! DisputeApp.bundledCalendarCSV())
    let calendar = WorkdayCalendar(exceptions: official, years: Set(official.map(\.day.year)))
    let village = try! DivisionCode(validating: "430723102201")

    func file(attempt deadline: WorkingDeadline, endedAt: Date? = nil, summons: [Summons] = []) -> CaseFile {
        let record = DisputeCase(
            id: UUID(), incidentID: nil, village: village, category: .neighbour, source: .walkIn, status: .open, description: "x",
            parties: [], facts: CaseFacts(threatOfViolence: false, threatOfSelfHarm: false, repeatIncident: false, priorPoliceCalls: 0),
            openedAt: deadline.dueAt.addingTimeInterval(-86_400), coordinator: village.owningCentre, major: nil, incidents: 1
        )
        let attempt = RungAttempt(
            id: UUID(), rung: .finder, kind: .peoples, lead: "x", participants: [], bodies: [], centre: village.owningCentre,
            startedBy: "user:x", startedAt: record.openedAt, deadline: deadline, outcome: endedAt == nil ? nil : .eased, endedAt: endedAt
        )
        return CaseFile(record: record, attempts: [attempt], agreement: nil, returnVisit: nil, summons: summons)
    }

    @Test func aStepIsOverdueFromTheInstantItsDeadlineIsReached() {
        let due = Date(timeIntervalSince1970: 1_780_000_000)
        #expect(!OverdueStep.isOverdue(due: due, done: nil, at: due.addingTimeInterval(-0.000_001)))
        #expect(OverdueStep.isOverdue(due: due, done: nil, at: due))
        #expect(!OverdueStep.isOverdue(due: due, done: due.addingTimeInterval(60), at: due.addingTimeInterval(3600)))
    }

    /// 2026-02-28 was a Saturday made a working day (调休上班) after the Spring Festival: a
    /// rung started on Friday 27 February with one working day is due at the end of that
    /// Saturday, and overdue from 00:00 on Sunday 1 March, not on Monday.
    @Test func aDeadlineOnAMakeUpWorkdayIsOverdueWhenThatSaturdayEnds() throws {
        let friday = try #require(Day(parsing: "2026-02-27")).start.addingTimeInterval(15 * 3600)
        let deadline = calendar.deadline(after: friday, workingDays: 1)
        let sunday = try #require(Day(parsing: "2026-03-01")).start
        #expect(deadline.dueAt == sunday)
        let open = file(attempt: deadline)
        #expect(open.overdueSteps(at: sunday.addingTimeInterval(-1)).isEmpty)
        #expect(open.overdueSteps(at: sunday).map(\.step) == [.rung])
        #expect(file(attempt: deadline, endedAt: sunday.addingTimeInterval(-60)).overdueSteps(at: sunday).isEmpty)
    }

    @Test func aSummonsIsOverdueToReportThenToFeedBackAndRiskCountsItOnce() throws {
        let start = try #require(Day(parsing: "2026-06-01")).start.addingTimeInterval(9 * 3600)
        let department = Department(id: UUID(), centre: village.owningCentre, name: "派出所", apiKeyName: "police")
        let report = calendar.deadline(after: start, workingDays: 1), feedback = calendar.deadline(after: start, workingDays: 5)
        let late = Summons(id: UUID(), department: department, summonedBy: village.owningCentre, reportDeadline: report, feedbackDeadline: feedback)
        let open = file(attempt: calendar.deadline(after: start, workingDays: 30), summons: [late])
        #expect(open.overdueSteps(at: report.dueAt).map(\.step) == [.summonsReport])
        #expect(open.overdueSummons(at: report.dueAt) == 1)
        #expect(open.overdueSteps(at: feedback.dueAt).map(\.step) == [.summonsReport, .summonsFeedback])
        #expect(open.overdueSummons(at: feedback.dueAt) == 1)
        var reported = late
        reported.reportedAt = start.addingTimeInterval(3600)
        #expect(file(attempt: calendar.deadline(after: start, workingDays: 30), summons: [reported]).overdueSteps(at: feedback.dueAt).map(\.step) == [.summonsFeedback])
    }

    @Test func theSQLConditionIsBuiltFromTheSameColumnsForEveryKindOfStep() {
        let condition = OverdueStep.sqlCaseHasOverdueStep(now: "$9")
        for step in OverdueStep.allCases {
            #expect(condition.contains(step.sqlCondition(row: "t", now: "$9")), "\(step)")
            #expect(condition.contains(step.table))
        }
        #expect(OverdueStep.rung.sqlCondition(row: "t", now: "$1") == "t.ended_at IS NULL AND t.due_at <= $1")
    }
}
