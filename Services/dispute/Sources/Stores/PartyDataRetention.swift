import Foundation
import PinganOutbox
import PinganPostgres

/// Keeps the parties' personal data only for a term after a case ends: once a case has been
/// resolved or closed for ``keep``, the names and phones of its parties and every free text
/// written about them (descriptions, reports, notes, agreement terms and signatories, the
/// resolution's words) are erased, in one transaction with the event that tells risk-service
/// to drop the parties' keyed hashes.
///
/// What stays is what the index and the centres' statistics read: the village, category,
/// source, facts, rungs with their outcomes and deadlines, dates, who acted, and how many
/// parties there were and whether a minor was among them. Every erasure leaves a line on the
/// case's timeline, so the record says when its people left it and why.
///
/// Cases are taken oldest ending first, a batch at a time, rows locked with `SKIP LOCKED`, so
/// replicas running the job at once erase different cases and none twice.
struct PartyDataRetention: Sendable {
    let pool: PostgresPool
    let outbox: Outbox
    /// How long after a case was resolved or closed its parties' data is kept.
    let keep: TimeInterval

    /// Three years: the limitation period for bringing a civil claim (民法典 art. 188), within
    /// which a party may still go to court over the dispute or the agreement.
    static let defaultDays = 1095
    /// Cases erased per transaction: a batch's rows stay locked only briefly.
    static let batch = 500
    /// The line the erasure leaves on the timeline.
    static let timelineKind = "personal_data_erased"

    /// Erases up to `limit` cases whose term ended before `now`.
    /// - Returns: how many were erased; fewer than `limit` means none is left for now.
    func run(now: Date, limit: Int) async throws -> Int {
        try await outbox.transaction(pool) { transaction in
            let due = try await transaction.query(
                """
                SELECT id, federated_from IS NULL FROM dispute.cases
                WHERE personal_data_erased_at IS NULL AND status IN ('resolved', 'closed')
                  AND coalesce(closed_at, resolved_at) < $1
                ORDER BY coalesce(closed_at, resolved_at) LIMIT $2 FOR UPDATE SKIP LOCKED
                """,
                [now.addingTimeInterval(-keep), limit]
            )
            let cases = try due.map { (id: try $0.decode(UUID.self, at: 0), own: try $0.decode(Bool.self, at: 1)) }
            guard !cases.isEmpty else { return 0 }
            let days = Int((keep / 86_400).rounded())
            // A copy of a county's case gets its line from the county, with the county's erasure.
            let own = cases.filter(\.own).map(\.id)
            var statements = Self.erasing(cases.map(\.id), at: now)
            statements.append((
                """
                INSERT INTO dispute.timeline (case_id, at, kind, note, actor)
                SELECT id, $2, $3, $4, 'dispute-service' FROM unnest($1::uuid[]) AS erased (id)
                """,
                [own.map(\.uuidString), now, Self.timelineKind, "结案满 \(days) 天，当事人姓名、电话及各项记述已按保存期限删除"]
            ))
            // Risk-service holds the parties' keys of the mesh's own cases only: their files,
            // as erased, are read in the same round trip for the events.
            let files = try await transaction.pipeline(
                statements + own.map { ("SELECT \(CaseRows.fileColumns) FROM dispute.cases c WHERE c.id = $1", [$0]) }
            ).suffix(own.count)
            for (id, rows) in zip(own, files) {
                guard let file = try CaseRows.decodeFile(rows.first) else { throw CaseStoreError.vanished(id) }
                try await outbox.enqueue(transaction, CaseEvents.changed, file.assessment(now: now))
            }
            return cases.count
        }
    }

    /// The writes that erase the parties' data from `cases`, marking them erased at `at`
    /// (unless they already were): for the job, and for a county's copy at the city that a
    /// snapshot brought back. Each may run again and change nothing more.
    static func erasing(_ cases: [UUID], at: Date) -> [PostgresStatement] {
        let ids = cases.map(\.uuidString)
        return [
            (
                // How many parties there were and which were minors stay: the facts count them.
                """
                UPDATE dispute.cases SET description = '', outcome = CASE WHEN outcome IS NULL THEN NULL ELSE '' END,
                    parties = coalesce((SELECT jsonb_agg(jsonb_build_object('name', '', 'phone', '', 'minor', coalesce(p->'minor', 'false'::jsonb)) ORDER BY n)
                                        FROM jsonb_array_elements(parties) WITH ORDINALITY AS e (p, n)), '[]'::jsonb),
                    party_names = '{}', personal_data_erased_at = coalesce(personal_data_erased_at, $2)
                WHERE id = ANY($1::uuid[])
                """,
                [ids, at]
            ),
            ("UPDATE dispute.case_reports SET description = '' WHERE case_id = ANY($1::uuid[]) AND description <> ''", [ids]),
            ("UPDATE dispute.timeline SET note = '' WHERE case_id = ANY($1::uuid[]) AND note <> '' AND kind <> $2", [ids, timelineKind]),
            (
                """
                UPDATE dispute.rung_attempts SET participants = '{}', outcome_note = CASE WHEN outcome_note IS NULL THEN NULL ELSE '' END
                WHERE case_id = ANY($1::uuid[]) AND (participants <> '{}' OR outcome_note <> '')
                """,
                [ids]
            ),
            ("UPDATE dispute.rung_skips SET reason = '' WHERE case_id = ANY($1::uuid[]) AND reason <> ''", [ids]),
            ("UPDATE dispute.agreements SET terms = '', signatories = '{}' WHERE case_id = ANY($1::uuid[]) AND (terms <> '' OR signatories <> '{}')", [ids]),
            ("UPDATE dispute.return_visits SET note = '' WHERE case_id = ANY($1::uuid[]) AND note <> ''", [ids]),
            ("UPDATE dispute.summons SET feedback = '' WHERE case_id = ANY($1::uuid[]) AND feedback <> ''", [ids]),
            (
                // A resident's own request into the case, if its own (shorter) term has not yet erased it.
                "UPDATE dispute.resident_requests SET \(ResidentStore.erasedColumns), erased_at = $2 WHERE case_id = ANY($1::uuid[]) AND erased_at IS NULL",
                [ids, at]
            ),
        ]
    }
}
