import Foundation
import PinganAccess
import PinganDomain
import PinganOutbox
import PinganPostgres

/// Everything in schema `risk`.
struct PostgresRiskStore: RiskStore {
    let pool: PostgresPool
    let outbox: Outbox
    var inbox: EventInbox { EventInbox(pool: pool, outbox: outbox) }

    // MARK: Loads that a decision is made on

    func assess(_ scored: ScoredCase, incident: TopicIncident, rules: WarningRules, clusters: ClusterPolicy, applying event: EventDelivery) async throws -> Assessment {
        let id = scored.assessed.id
        // The assessment's row is locked before the warning's (``RiskRows/lockedAssessment(of:)``).
        // With its history, that is all an assessment reads, in the round trip that records the
        // event: the answer is built from what is written, and the writes go with COMMIT.
        let reads = [RiskRows.lockedAssessment(of: id), RiskRows.openWarning(of: id), RiskRows.history(of: id)]
        return try await inbox.apply(event, reading: reads) { change in
            guard change.firstDelivery else {
                guard let assessment = try await Self.assessment(change.transaction, case: id) else { throw RiskStoreError.vanished(id) }
                return assessment
            }
            let prior = PriorAssessment(
                openWarning: try RiskRows.decodeOpenWarnings(change.read[1])[id],
                warningID: try change.read[0].first?.decode(UUID?.self, at: 0),
                history: try RiskRows.decodeHistory(change.read[2])
            )
            // The topic database first: the open clusters the case is in, one of which may hold
            // back the case's own push once the decision says whom that push would warn.
            let holds = try await PostgresTopicWrites(transaction: change.transaction)
                .record(incident, rules: clusters.book, grouping: clusters.grouping, warnings: rules, now: scored.at)
            let decision = rules.decision(
                for: scored.score, village: scored.assessed.village, open: prior.openWarning, closed: scored.assessed.facts.closed, now: scored.at
            )
            let warning = try await PostgresRiskWrites(transaction: change.transaction, outbox: outbox)
                .record(scored, threshold: rules.threshold, decision: decision, heldBy: decision.heldBy(holds))
            return prior.assessment(after: scored, threshold: rules.threshold, warning: warning)
        }
    }

    func rescoreDue(now: Date, limit: Int, models: RiskModelCatalogue, rules: WarningRules) async throws -> Int {
        try await outbox.transaction(pool) { transaction in
            let due = try await transaction.query(
                """
                SELECT case_id, village_code, facts FROM risk.assessments
                WHERE rescore_at <= $1 AND NOT closed AND facts IS NOT NULL
                ORDER BY rescore_at LIMIT $2 FOR UPDATE SKIP LOCKED
                """,
                [now, limit]
            )
            let cases = try due.map { row in
                AssessedCase(id: try row.decode(UUID.self, at: 0), village: try RiskRows.division(row, at: 1), facts: try RiskRows.decodeFacts(try row.decode(Data.self, at: 2)))
            }
            guard !cases.isEmpty else { return 0 }
            // Their open warnings, locked after the assessments (as an assessment takes them),
            // and the open clusters they are members of, in one round trip.
            let read = try await transaction.pipeline([RiskRows.openWarnings(of: cases.map(\.id)), RiskRows.clusterHolds(of: cases.map(\.id))])
            let open = try RiskRows.decodeOpenWarnings(read[0])
            let holds = try RiskRows.decodeClusterHolds(read[1])
            let writes = PostgresRiskWrites(transaction: transaction, outbox: outbox)
            for var assessed in cases {
                assessed.facts.asOf = now
                let scored = models.scored(assessed, now: now)
                let decision = rules.decision(for: scored.score, village: assessed.village, open: open[assessed.id], closed: assessed.facts.closed, now: now)
                // As in an assessment: a case in an open cluster that warns the same centre stays
                // held back as time raises its score, or raises its warning held back.
                try await writes.record(scored, threshold: rules.threshold, decision: decision, heldBy: decision.heldBy(holds[assessed.id] ?? []))
            }
            return cases.count
        }
    }

    func escalateDue(now: Date, limit: Int, rules: WarningRules) async throws -> Int {
        try await outbox.transaction(pool) { transaction in
            // Candidates only: ``WarningRules/escalations(of:now:)`` says which escalate, and to whom.
            let raised = try await transaction.query(
                """
                SELECT id, coalesce(case_id, (SELECT m.case_id FROM risk.cluster_members m JOIN risk.incidents i ON i.case_id = m.case_id WHERE m.warning_id = w.id ORDER BY i.opened_at, m.case_id LIMIT 1)),
                       centre_code, village_code, escalates_at, level FROM risk.warnings w
                WHERE status = 'raised' AND escalates_at <= $1 ORDER BY escalates_at LIMIT $2 FOR UPDATE OF w SKIP LOCKED
                """,
                [now, limit]
            ).map { row in
                RaisedWarning(
                    id: try row.decode(UUID.self, at: 0), caseID: try row.decode(UUID.self, at: 1), centre: try RiskRows.division(row, at: 2),
                    // Read back to the microsecond as `now` was sent: the rules then see the
                    // instants the query compared, not a decoding a rounding step apart.
                    village: try RiskRows.division(row, at: 3), escalatesAt: try row.decode(Date.self, at: 4).atPostgresPrecision,
                    level: try RiskRows.level(row, at: 5, column: "warnings.level")
                )
            }
            let escalations = rules.escalations(of: raised, now: now)
            try await PostgresRiskWrites(transaction: transaction, outbox: outbox).escalate(escalations, at: now)
            return escalations.count
        }
    }

    // MARK: Reads

    func assessment(of id: UUID) async throws -> Assessment? {
        try await pool.withConnection { try await Self.assessment($0, case: id) }
    }

    /// The case's assessment and its history, read in one round trip.
    private static func assessment(_ connection: PostgresConnection, case id: UUID) async throws -> Assessment? {
        let reads = try await connection.pipeline([RiskRows.assessment(of: id), RiskRows.history(of: id)])
        return try reads[0].first.map { try RiskRows.decodeAssessment($0, history: reads[1]) }
    }

    func warnings(under root: DivisionCode, openOnly: Bool, after cursor: PageCursor?, limit: Int) async throws -> [Warning] {
        try await pool.query(
            """
            SELECT \(RiskRows.warningColumns) FROM risk.warnings w
            WHERE w.village_code BETWEEN $1 AND $2 AND (NOT $3 OR w.status <> 'closed')
              AND ($4::timestamptz IS NULL OR (w.raised_at, w.id) < ($4, $5))
            ORDER BY w.raised_at DESC, w.id DESC LIMIT $6
            """,
            [root.rawValue, root.lastInSubtree, openOnly, cursor?.time, cursor?.id, limit]
        ).map(RiskRows.decodeWarning)
    }

    func warning(_ id: UUID) async throws -> Warning? {
        try await pool.withConnection { connection in
            guard var warning = try await connection.query("SELECT \(RiskRows.warningColumns) FROM risk.warnings w WHERE w.id = $1", [id]).first
                .map(RiskRows.decodeWarning)
            else { return nil }
            let steps = RiskRows.steps(of: id)
            warning.steps = try await connection.query(steps.sql, steps.parameters).map(RiskRows.decodeStep)
            return warning
        }
    }

    func facts(under root: DivisionCode, in month: Month) async throws -> [VillageWarningFacts] {
        let (start, end) = month.range
        return try await pool.query(
            """
            SELECT village_code, count(*), count(*) FILTER (WHERE status <> 'raised'),
                   count(*) FILTER (WHERE status <> 'raised' AND NOT EXISTS (
                       SELECT 1 FROM risk.warning_steps s WHERE s.warning_id = w.id AND s.kind = 'escalated'))
            FROM risk.warnings w
            WHERE village_code BETWEEN $1 AND $2 AND raised_at >= $3 AND raised_at < $4 AND case_id IS NOT NULL
            GROUP BY village_code ORDER BY village_code
            """,
            [root.rawValue, root.lastInSubtree, start, end]
        ).map { row in
            VillageWarningFacts(
                village: try RiskRows.division(row, at: 0), raised: try row.decode(Int.self, at: 1),
                acknowledged: try row.decode(Int.self, at: 2), acknowledgedInTime: try row.decode(Int.self, at: 3)
            )
        }
    }

    // MARK: The loop

    func advance(_ id: UUID, _ transition: WarningTransition, by actor: String) async throws -> Warning? {
        let moved = try await pool.transaction { transaction in
            let said = transition.step.column.map { ", \($0) = $5" } ?? ""
            let rows = try await transaction.query(
                // A closed cluster is not pushed, whatever push its last cases made due.
                """
                UPDATE risk.warnings SET status = $2, escalates_at = $3, closed_at = $4,
                    push_due_at = CASE WHEN $4::timestamptz IS NULL THEN push_due_at END\(said)
                WHERE id = $1 AND status = ANY($6)
                """,
                [id, transition.to.rawValue, transition.escalatesAt, transition.closedAt, transition.note ?? "", transition.from.map(\.rawValue)]
            )
            guard rows.affectedRows == 1 else { return false }
            try await RiskRows.queueStep(transaction, id, WarningStepKind(transition.step), note: transition.note ?? "", actor: actor, at: transition.at)
            return true
        }
        return moved ? try await warning(id) : nil
    }
}

extension LoopStep {
    /// The column of `risk.warnings` that records what the step said, if any.
    fileprivate var column: String? {
        switch self {
        case .acknowledge: nil
        case .assign: "assignee"
        case .feedBack: "feedback"
        case .evaluate: "evaluation"
        case .close: "outcome"
        }
    }
}
