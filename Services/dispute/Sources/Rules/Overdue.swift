import Foundation

/// The one definition of "overdue" (逾期): a step with a deadline that is still pending once
/// its deadline is reached. A deadline is 24:00 China time of its last working day, so a step
/// due then is overdue from that instant on, not a moment later.
///
/// Each kind of step says where its deadline and its completion are kept, so the same rule
/// is asked of a loaded ``CaseFile`` (``CaseFile/overdueSteps(at:)``) and, as SQL, of the
/// tables (``sqlCondition(row:now:)``), for listing and exporting cases at city size.
enum OverdueStep: String, CaseIterable, Sendable {
    /// A rung attempt not ended.
    case rung
    /// A summoned department that has not reported (报到).
    case summonsReport
    /// A summoned department that has not fed back (反馈).
    case summonsFeedback
    /// A return visit not made.
    case returnVisit

    /// The rule itself.
    static func isOverdue(due: Date, done: Date?, at now: Date) -> Bool {
        done == nil && due <= now
    }

    /// The table that holds the step, one row per step.
    var table: String {
        switch self {
        case .rung: "dispute.rung_attempts"
        case .summonsReport, .summonsFeedback: "dispute.summons"
        case .returnVisit: "dispute.return_visits"
        }
    }

    /// The column of its deadline and the one set when it is done.
    var columns: (due: String, done: String) {
        switch self {
        case .rung: ("due_at", "ended_at")
        case .summonsReport: ("report_due", "reported_at")
        case .summonsFeedback: ("feedback_due", "fed_back_at")
        case .returnVisit: ("due_at", "visited_at")
        }
    }

    /// ``isOverdue(due:done:at:)`` as SQL, for the row aliased `row` at the SQL expression `now`.
    func sqlCondition(row: String, now: String) -> String {
        "\(row).\(columns.done) IS NULL AND \(row).\(columns.due) <= \(now)"
    }

    /// The SQL condition "case `c` has an overdue step at `now`", from every kind of step.
    static func sqlCaseHasOverdueStep(now: String) -> String {
        let kinds = Dictionary(grouping: allCases, by: \.table).sorted { $0.key < $1.key }
        let exists = kinds.map { table, steps in
            let conditions = steps.map { "(\($0.sqlCondition(row: "t", now: now)))" }.joined(separator: " OR ")
            return "EXISTS (SELECT 1 FROM \(table) t WHERE t.case_id = c.id AND (\(conditions)))"
        }
        return "(" + exists.joined(separator: " OR ") + ")"
    }
}

extension CaseFile {
    /// The case's steps overdue at `now`, each with the kind of step and its deadline.
    func overdueSteps(at now: Date) -> [(step: OverdueStep, due: Date)] {
        var found: [(OverdueStep, Date)] = []
        for attempt in attempts where OverdueStep.isOverdue(due: attempt.deadline.dueAt, done: attempt.endedAt, at: now) {
            found.append((.rung, attempt.deadline.dueAt))
        }
        for summons in summons {
            if OverdueStep.isOverdue(due: summons.reportDeadline.dueAt, done: summons.reportedAt, at: now) {
                found.append((.summonsReport, summons.reportDeadline.dueAt))
            }
            if OverdueStep.isOverdue(due: summons.feedbackDeadline.dueAt, done: summons.fedBackAt, at: now) {
                found.append((.summonsFeedback, summons.feedbackDeadline.dueAt))
            }
        }
        if let visit = returnVisit, OverdueStep.isOverdue(due: visit.deadline.dueAt, done: visit.visitedAt, at: now) {
            found.append((.returnVisit, visit.deadline.dueAt))
        }
        return found
    }

    /// Summons with a report or a feedback overdue at `now`: what risk weighs.
    func overdueSummons(at now: Date) -> Int {
        summons.filter {
            OverdueStep.isOverdue(due: $0.reportDeadline.dueAt, done: $0.reportedAt, at: now)
                || OverdueStep.isOverdue(due: $0.feedbackDeadline.dueAt, done: $0.fedBackAt, at: now)
        }.count
    }
}
