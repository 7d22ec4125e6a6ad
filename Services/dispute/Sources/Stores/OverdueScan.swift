import Foundation
import PinganDomain
import PinganOutbox
import PinganPostgres

/// Marks steps that ran past their deadline (``OverdueStep``), once each: appends them to
/// their case's timeline and pushes a notice to the coordinating centre and the levels above.
/// Nothing expires silently.
struct OverdueScan: Sendable {
    let pool: PostgresPool
    let outbox: Outbox

    /// Marks up to `limit` steps of each kind overdue at `now`; returns how many it marked.
    func run(now: Date, limit: Int) async throws -> Int {
        try await outbox.transaction(pool) { transaction in
            var marked = 0
            for step in OverdueStep.allCases {
                for row in try await transaction.query(Self.mark(step), [now, limit]) {
                    marked += 1
                    let caseID = try row.decode(UUID.self, at: 0)
                    let what = try row.decode(String.self, at: 3)
                    let summary = step.summary(what)
                    try await PostgresCaseStore.appendTimeline(transaction, case: caseID, kind: "overdue", note: summary, actor: "dispute-service", at: now)
                    let notice = CaseEvents.notice(
                        type: "case.overdue", case: caseID, village: try DivisionCode(validating: try row.decode(String.self, at: 1)),
                        centre: try DivisionCode(validating: try row.decode(String.self, at: 2)), summary: summary,
                        text: step.text(what, due: try row.decode(Date.self, at: 4)), due: try row.decode(Date.self, at: 4)
                    )
                    try await outbox.enqueue(transaction, CaseEvents.notice, notice)
                }
            }
            return marked
        }
    }

    /// Marks up to `$2` steps of `step`'s kind overdue at `$1` and not marked yet; returns
    /// each one's case id, village, coordinator, what it is, and its deadline.
    static func mark(_ step: OverdueStep) -> String {
        let (due, _) = step.columns
        return """
            WITH due AS (
                SELECT t.id FROM \(step.table) t
                WHERE \(step.sqlCondition(row: "t", now: "$1")) AND t.\(step.markedColumn) IS NULL
                    -- A county's case copied here is its mesh's to mark (its snapshot brings the mark).
                    AND NOT EXISTS (SELECT 1 FROM dispute.cases f WHERE f.id = t.case_id AND f.federated_from IS NOT NULL)
                ORDER BY t.\(due) LIMIT $2 FOR UPDATE SKIP LOCKED
            )
            UPDATE \(step.table) t SET \(step.markedColumn) = $1 FROM due, dispute.cases c
            WHERE t.id = due.id AND c.id = t.case_id
            RETURNING t.case_id, c.village_code, c.coordinator_code, \(step.what), t.\(due)
            """
    }
}

extension OverdueStep {
    /// The column that records when the step was marked overdue, so it is marked once.
    var markedColumn: String {
        switch self {
        case .rung, .returnVisit: "overdue_notified_at"
        case .summonsReport: "report_overdue_notified_at"
        case .summonsFeedback: "feedback_overdue_notified_at"
        }
    }

    /// What the step is, as SQL over the step's row `t`, for the notice.
    var what: String {
        switch self {
        case .rung: "t.rung::text"
        case .summonsReport, .summonsFeedback: "(SELECT name FROM dispute.departments d WHERE d.id = t.department_id)"
        case .returnVisit: "'return visit'"
        }
    }

    /// What the timeline and the notice say of the step.
    func summary(_ what: String) -> String {
        switch self {
        case .rung: "rung \(what) is past its deadline"
        case .summonsReport: "\(what) has not reported to the summons by its deadline"
        case .summonsFeedback: "\(what) has not fed back on the summons by its deadline"
        case .returnVisit: "the return visit is past its deadline"
        }
    }

    /// What the push says of the step to people, in Chinese: the rung by its name, the
    /// department by its own, and the deadline missed in China time.
    func text(_ what: String, due: Date) -> String {
        let deadline = ChinaTime.minute(due)
        return switch self {
        case .rung: "\(Int(what).flatMap(LadderRung.init(rawValue:))?.chineseTitle ?? "调解") 已超过期限（\(deadline)）"
        case .summonsReport: "\(what) 未在期限（\(deadline)）前报到"
        case .summonsFeedback: "\(what) 未在期限（\(deadline)）前反馈"
        case .returnVisit: "回访已超过期限（\(deadline)）"
        }
    }
}
