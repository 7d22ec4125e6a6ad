import Foundation
import PinganDomain
import PinganOutbox
import PinganPostgres

extension PostgresCaseStore {
    func apply(_ changes: [CaseChange], to file: CaseFile, now: Date) async throws -> CaseFile {
        guard !changes.isEmpty else { return file }
        let id = file.record.id
        return try await outbox.transaction(pool) { transaction in
            // Claims the case at the revision the changes were decided on; the row stays
            // locked to this transaction, so nothing changes it before the commit.
            let claimed = try await transaction.query(
                "UPDATE dispute.cases SET revision = revision + 1 WHERE id = $1 AND revision = $2 AND federated_from IS NULL", [id, file.revision]
            )
            guard claimed.affectedRows == 1 else {
                // A county's case is changed only in the county's mesh; here it is a copy.
                let owner = try await transaction.query("SELECT federated_from FROM dispute.cases WHERE id = $1", [id]).first?.decode(String?.self, at: 0)
                if let owner { throw CaseStoreError.copyOfCounty(id, owner) }
                throw CaseStoreError.stale(id)
            }
            var agreement = file.agreement?.id
            var tellRisk = false
            for change in changes {
                switch change {
                case let .agreementSigned(signed, _):
                    agreement = signed.id
                case .returnVisitDone:
                    // The residents who filed into the case are asked how it went.
                    try await ResidentStore.askForRatings(transaction, outbox: outbox, case: id)
                case .status, .tellRisk:
                    // Risk re-scores open cases as time passes; it must know when one stops being open.
                    tellRisk = true
                case let .notice(type, centre, summary, text, due):
                    try await outbox.enqueue(
                        transaction, CaseEvents.notice, file.record.notice(type: type, centre: centre, summary: summary, text: text, due: due)
                    )
                default:
                    break
                }
                for statement in Self.statements(change, case: id, agreement: agreement, now: now) {
                    try await transaction.queue(statement.sql, statement.parameters)
                }
            }
            guard let updated = try await CaseRows.loadFile(transaction, id) else { throw CaseStoreError.vanished(id) }
            if tellRisk { try await outbox.enqueue(transaction, CaseEvents.changed, updated.assessment(now: now)) }
            return updated
        }
    }

    /// The writes that record `change` to case `id`; `agreement` is the case's agreement as
    /// the changes before it left it.
    static func statements(_ change: CaseChange, case id: UUID, agreement: UUID?, now: Date) -> [PostgresStatement] {
        switch change {
        case let .attemptStarted(attempt, skipped, reason):
            return [
                (
                    """
                    INSERT INTO dispute.rung_attempts (id, case_id, rung, kind, lead, participants, bodies, centre_code,
                        started_by, started_at, due_at, beyond_calendar, start_entered_at)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                    """,
                    [attempt.id, id, attempt.rung.rawValue, attempt.kind.rawValue, attempt.lead, attempt.participants, attempt.bodies,
                     attempt.centre.rawValue, attempt.startedBy, attempt.startedAt, attempt.deadline.dueAt, attempt.deadline.beyondCalendar,
                     attempt.startEnteredAt]
                ),
                ("UPDATE dispute.cases SET current_rung = $2 WHERE id = $1", [id, attempt.rung.rawValue]),
            ] + skipped.map { rung in
                ("INSERT INTO dispute.rung_skips (case_id, rung, reason, by, at) VALUES ($1, $2, $3, $4, $5)",
                 [id, rung.rawValue, reason ?? "", attempt.startedBy, now])
            }
        case let .attemptEnded(attempt, outcome, note, at, by):
            return [(
                "UPDATE dispute.rung_attempts SET outcome = $2, outcome_note = $3, ended_at = $4, ended_by = $5, end_entered_at = $6 WHERE id = $1",
                [attempt, outcome.rawValue, note, at, by, now]
            )]
        case let .agreementSigned(signed, attempt):
            return [(
                """
                INSERT INTO dispute.agreements (id, case_id, attempt_id, terms, signed_on, signatories, created_at)
                VALUES ($1, $2, $3, $4, $5::date, $6, $7)
                """,
                [signed.id, id, attempt, signed.terms, signed.signedOn.description, signed.signatories, now]
            )]
        case let .returnVisitDue(visit):
            return [(
                """
                INSERT INTO dispute.return_visits (id, case_id, agreement_id, due_at, beyond_calendar, created_at)
                VALUES ($1, $2, $3, $4, $5, $6)
                """,
                [visit.id, id, agreement, visit.deadline.dueAt, visit.deadline.beyondCalendar, now]
            )]
        case let .returnVisitDone(visit, outcome, note, at, by):
            return [(
                "UPDATE dispute.return_visits SET outcome = $2, note = $3, visited_at = $4, visited_by = $5, entered_at = $6 WHERE id = $1",
                [visit, outcome.rawValue, note, at, by, now]
            )]
        case let .status(status, at):
            return [(
                """
                UPDATE dispute.cases SET status = $2,
                    settled_at = CASE WHEN $2 = 'settled' THEN $3::timestamptz ELSE settled_at END,
                    closed_at = CASE WHEN $2 = 'closed' THEN $3::timestamptz ELSE NULL END
                WHERE id = $1
                """,
                [id, status.rawValue, at]
            )]
        case let .summoned(summons):
            return summons.map { one in
                (
                    """
                    INSERT INTO dispute.summons (id, case_id, department_id, summoned_by, report_due, report_beyond_calendar,
                        feedback_due, feedback_beyond_calendar, created_at)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                    """,
                    [one.id, id, one.department.id, one.summonedBy.rawValue, one.reportDeadline.dueAt, one.reportDeadline.beyondCalendar,
                     one.feedbackDeadline.dueAt, one.feedbackDeadline.beyondCalendar, now]
                )
            }
        case let .summonsReported(summons, at):
            return [("UPDATE dispute.summons SET reported_at = $2 WHERE id = $1 AND reported_at IS NULL", [summons, at])]
        case let .summonsFedBack(summons, feedback, at):
            return [("UPDATE dispute.summons SET feedback = $2, fed_back_at = $3 WHERE id = $1", [summons, feedback, at])]
        case let .coordinator(centre):
            return [("UPDATE dispute.cases SET coordinator_code = $2 WHERE id = $1", [id, centre.rawValue])]
        case let .federationOrderApplied(order):
            return [FederationOrders.applied(order, at: now)]
        case let .major(major):
            return [("UPDATE dispute.cases SET major_departments = $2, resident_representatives = $3 WHERE id = $1", [id, major.departments, major.residentRepresentatives])]
        case let .reclassified(category):
            return [("UPDATE dispute.cases SET category = $2 WHERE id = $1", [id, category.rawValue])]
        case let .timeline(kind, note, actor):
            return [("INSERT INTO dispute.timeline (case_id, at, kind, note, actor) VALUES ($1, $2, $3, $4, $5)", [id, now, kind, note, actor])]
        case .notice, .tellRisk:
            return []
        }
    }
}
