import Foundation
import PinganAccess
import PinganDomain
import PinganPostgres
import PinganRuntime

/// What mediation did, read for others: the monthly facts the governance index scores and a
/// centre's export of its cases.
protocol CaseReports: Sendable {
    /// What mediation did per village under `root` during `month`, for the governance index.
    func facts(under root: DivisionCode, in month: Month) async throws -> [String: MediationFacts]
    /// Cases opened under `root` during `month`, each with whether it has a step overdue at `now`.
    func export(under root: DivisionCode, in month: Month, now: Date) async throws -> [(case: DisputeCase, overdue: Bool)]
    /// The steps the open and settled cases under `root` wait for, soonest deadline first, at
    /// most `limit`, from after `cursor` (a step's deadline and id).
    func dueSteps(under root: DivisionCode, after cursor: PageCursor?, limit: Int) async throws -> [DueStep]
}

/// The reports, read from schema `dispute`.
struct PostgresCaseReports: CaseReports {
    let pool: PostgresPool

    /// The statements read different tables and need nothing from one another, so each runs
    /// on a connection of its own and PostgreSQL works on them side by side: the city's twelve
    /// months were recomputed in 5.7–7.1 s instead of 9.0–11.9 s one statement after another
    /// (docs/performance.md). A single month on two cores gains little, each statement there
    /// already using PostgreSQL's parallel workers.
    func facts(under root: DivisionCode, in month: Month) async throws -> [String: MediationFacts] {
        let (start, end) = month.range
        let window: [any PostgresEncodable] = [root.rawValue, root.lastInSubtree, start, end]
        let pool = self.pool
        let answers = try await MediationFactStatement.all.concurrentMap { try await pool.query($0.sql, window) }
        var facts: [String: MediationFacts] = [:]
        for (statement, rows) in zip(MediationFactStatement.all, answers) {
            for row in rows {
                try statement.add(row, &facts[try row.decode(String.self, at: 0), default: .init()])
            }
        }
        return facts
    }

    /// Each kind of pending step is read in deadline order, joined to its case, up to a page,
    /// and the four merged: a county or the city walks the pending steps' indexes and stops at
    /// the page (migration 17); a township or village starts from its cases still waiting
    /// (`cases_waiting`, migration 16), as PostgreSQL judges for the division at hand, so each
    /// call is planned for its division (a plan made once for any division read the city's in
    /// 150 ms instead of 5). A later page starts each walk at the cursor's deadline.
    func dueSteps(under root: DivisionCode, after cursor: PageCursor?, limit: Int) async throws -> [DueStep] {
        let waiting = "c.village_code BETWEEN $1 AND $2 AND c.status IN ('open', 'settled')"
        func after(_ due: String, _ id: String) -> String {
            "($4::timestamptz IS NULL OR (\(due) >= $4 AND (\(due), \(id)) > ($4, $5::uuid)))"
        }
        let rows = try await pool.queryPlannedEachTime(
            """
            SELECT * FROM (
                (SELECT a.id AS step, c.id, c.village_code, 'rung' AS kind, a.rung, '' AS department, a.due_at AS due, a.beyond_calendar
                 FROM dispute.rung_attempts a JOIN dispute.cases c ON c.id = a.case_id
                 WHERE a.ended_at IS NULL AND \(waiting) AND \(after("a.due_at", "a.id")) ORDER BY a.due_at, a.id LIMIT $3)
                UNION ALL
                (SELECT s.id, c.id, c.village_code, 'summons_report', NULL, d.name, s.report_due, s.report_beyond_calendar
                 FROM dispute.summons s JOIN dispute.cases c ON c.id = s.case_id JOIN dispute.departments d ON d.id = s.department_id
                 WHERE s.reported_at IS NULL AND \(waiting) AND \(after("s.report_due", "s.id")) ORDER BY s.report_due, s.id LIMIT $3)
                UNION ALL
                (SELECT s.id, c.id, c.village_code, 'summons_feedback', NULL, d.name, s.feedback_due, s.feedback_beyond_calendar
                 FROM dispute.summons s JOIN dispute.cases c ON c.id = s.case_id JOIN dispute.departments d ON d.id = s.department_id
                 WHERE s.reported_at IS NOT NULL AND s.fed_back_at IS NULL AND \(waiting) AND \(after("s.feedback_due", "s.id"))
                 ORDER BY s.feedback_due, s.id LIMIT $3)
                UNION ALL
                (SELECT v.id, c.id, c.village_code, 'return_visit', NULL, '', v.due_at, v.beyond_calendar
                 FROM dispute.return_visits v JOIN dispute.cases c ON c.id = v.case_id
                 WHERE v.visited_at IS NULL AND \(waiting) AND \(after("v.due_at", "v.id")) ORDER BY v.due_at, v.id LIMIT $3)
            ) steps
            ORDER BY due, step
            LIMIT $3
            """,
            [root.rawValue, root.lastInSubtree, limit, cursor?.time, cursor?.id]
        )
        return try rows.map { row in
            DueStep(
                id: try row.decode(UUID.self, at: 0), caseID: try row.decode(UUID.self, at: 1),
                village: try DivisionCode(validating: try row.decode(String.self, at: 2)),
                kind: try CaseRows.decode(DueStep.Kind.self, try row.decode(String.self, at: 3), "due step kind"),
                rung: try row.decode(Int?.self, at: 4).map { try CaseRows.decode(LadderRung.self, $0, "rung_attempts.rung") },
                department: try row.decode(String.self, at: 5),
                deadline: WorkingDeadline(dueAt: try row.decode(Date.self, at: 6), beyondCalendar: try row.decode(Bool.self, at: 7))
            )
        }
    }

    func export(under root: DivisionCode, in month: Month, now: Date) async throws -> [(case: DisputeCase, overdue: Bool)] {
        let (start, end) = month.range
        return try await pool.query(
            """
            SELECT \(CaseRows.columns), \(OverdueStep.sqlCaseHasOverdueStep(now: "$5")) FROM dispute.cases c
            WHERE c.village_code BETWEEN $1 AND $2 AND c.opened_at >= $3 AND c.opened_at < $4
            ORDER BY c.opened_at, c.id
            """,
            [root.rawValue, root.lastInSubtree, start, end, now]
        ).map { row in
            (try CaseRows.decodeCase(row), try row.decode(Bool.self, at: CaseRows.count))
        }
    }
}

/// One statement of a month's mediation facts, grouped by village (its first column), and what
/// each of its rows adds to that village's facts. `$1`/`$2` bound the subtree's village codes,
/// `$3`/`$4` the month.
private struct MediationFactStatement: Sendable {
    let sql: String
    let add: @Sendable (PostgresRow, inout MediationFacts) throws -> Void

    static let all: [MediationFactStatement] = [
        MediationFactStatement(sql: """
            SELECT village_code,
                   count(*) FILTER (WHERE opened_at >= $3 AND opened_at < $4),
                   count(*) FILTER (WHERE resolved_at >= $3 AND resolved_at < $4),
                   count(*) FILTER (WHERE opened_at >= $3 AND opened_at < $4 AND violence_occurred)
            FROM dispute.cases
            WHERE village_code BETWEEN $1 AND $2 AND opened_at < $4 AND (resolved_at IS NULL OR resolved_at >= $3 OR opened_at >= $3)
            GROUP BY village_code
            """) { row, facts in
            facts.opened = try row.decode(Int.self, at: 1)
            facts.resolved = try row.decode(Int.self, at: 2)
            facts.violentCases = try row.decode(Int.self, at: 3)
        },
        MediationFactStatement(sql: """
            SELECT c.village_code, count(*), count(*) FILTER (WHERE a.outcome = 'settled'), count(*) FILTER (WHERE a.ended_at <= a.due_at)
            FROM dispute.rung_attempts a JOIN dispute.cases c ON c.id = a.case_id
            WHERE c.village_code BETWEEN $1 AND $2 AND a.ended_at >= $3 AND a.ended_at < $4
            GROUP BY c.village_code
            """) { row, facts in
            facts.rungsEnded = try row.decode(Int.self, at: 1)
            facts.rungsSettled = try row.decode(Int.self, at: 2)
            facts.rungsOnTime = try row.decode(Int.self, at: 3)
        },
        MediationFactStatement(sql: """
            SELECT c.village_code,
                   count(*) FILTER (WHERE s.fed_back_at >= $3 AND s.fed_back_at < $4),
                   count(*) FILTER (WHERE (s.reported_at >= $3 AND s.reported_at < $4 AND s.reported_at > s.report_due)
                                      OR (s.fed_back_at >= $3 AND s.fed_back_at < $4 AND s.fed_back_at > s.feedback_due))
            FROM dispute.summons s JOIN dispute.cases c ON c.id = s.case_id
            WHERE c.village_code BETWEEN $1 AND $2
              AND ((s.reported_at >= $3 AND s.reported_at < $4) OR (s.fed_back_at >= $3 AND s.fed_back_at < $4))
            GROUP BY c.village_code
            """) { row, facts in
            facts.summonsAnswered = try row.decode(Int.self, at: 1)
            facts.summonsLate = try row.decode(Int.self, at: 2)
        },
        MediationFactStatement(sql: """
            SELECT c.village_code, count(*), count(*) FILTER (WHERE v.outcome = 'confirmed')
            FROM dispute.return_visits v JOIN dispute.cases c ON c.id = v.case_id
            WHERE c.village_code BETWEEN $1 AND $2 AND v.visited_at >= $3 AND v.visited_at < $4 AND v.visited_by <> 'dispute-service'
            GROUP BY c.village_code
            """) { row, facts in
            facts.returnVisitsDone = try row.decode(Int.self, at: 1)
            facts.returnVisitsConfirmed = try row.decode(Int.self, at: 2)
        },
        MediationFactStatement(sql: """
            SELECT c.village_code, count(*) FILTER (WHERE t.kind = 'overdue'), count(*) FILTER (WHERE t.kind IN ('incident_joined', 'reopened')),
                   count(*) FILTER (WHERE t.kind = 'reopened')
            FROM dispute.timeline t JOIN dispute.cases c ON c.id = t.case_id
            WHERE c.village_code BETWEEN $1 AND $2 AND t.at >= $3 AND t.at < $4 AND t.kind IN ('overdue', 'incident_joined', 'reopened')
            GROUP BY c.village_code
            """) { row, facts in
            facts.overdueSteps = try row.decode(Int.self, at: 1)
            facts.repeatIncidents = try row.decode(Int.self, at: 2)
            facts.reopenedAfterSettlement = try row.decode(Int.self, at: 3)
        },
        // Residents' ratings count in the month they were given; the partial index on
        // (village_code, rated_at) holds rated requests only.
        MediationFactStatement(sql: """
            SELECT village_code, count(*), count(*) FILTER (WHERE rating >= 4)
            FROM dispute.resident_requests
            WHERE village_code BETWEEN $1 AND $2 AND rated_at >= $3 AND rated_at < $4
            GROUP BY village_code
            """) { row, facts in
            facts.residentRatings = try row.decode(Int.self, at: 1)
            facts.residentSatisfied = try row.decode(Int.self, at: 2)
        },
    ]
}
