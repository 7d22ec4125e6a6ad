import Foundation
import PinganDomain
import PinganOutbox
import PinganPostgres

extension PostgresMonthStore {
    func publish(_ publication: Publication) async throws -> MonthVersion {
        let month = publication.month
        return try await outbox.transaction(pool) { transaction in
            try await transaction.query("SELECT pg_advisory_xact_lock(hashtext('index.months ' || $1))", [month.description])
            let latest = try await transaction.query(
                "SELECT \(IndexRows.versionColumns) FROM index.months WHERE month = $1 ORDER BY version DESC LIMIT 1", [month.description]
            ).first.map(IndexRows.decodeVersion)
            let decision = try MonthVersioning.decide(publication, latest: latest)
            if case .replace(let version) = decision {
                try await transaction.query("DELETE FROM index.scores WHERE month = $1 AND version = $2", [month.description, version])
                try await transaction.query("DELETE FROM index.months WHERE month = $1 AND version = $2", [month.description, version])
            }
            let stored = MonthVersion(
                month: month, version: decision.version, status: publication.status, catalogueVersion: publication.catalogueVersion,
                computedAt: publication.now, computedBy: publication.computedBy, reason: publication.reason
            )
            try await insert(transaction, stored, scores: publication.scored)
            if stored.status == .frozen {
                let decisions = ThresholdActions.decide(
                    month: month, scored: publication.scored, rules: try await Self.rules(transaction),
                    existing: try await transaction.query(
                        "SELECT id, division_code, kind, status FROM index.actions WHERE month = $1 AND status <> 'withdrawn'", [month.description]
                    ).map(IndexRows.decodeExisting),
                    today: Day(containing: publication.now)
                )
                try await apply(transaction, decisions, version: stored.version, now: publication.now)
                for notice in IndexEvents.published(publication) {
                    try await outbox.enqueue(transaction, IndexEvents.notice, notice)
                }
            }
            return stored
        }
    }

    /// Writes the month's version and its scores.
    private func insert(_ transaction: PostgresConnection, _ version: MonthVersion, scores: [GovernanceIndex.Scored]) async throws {
        let month = version.month.description
        try await transaction.query(
            "INSERT INTO index.months (\(IndexRows.versionColumns)) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            [month, version.version, version.status.rawValue, version.catalogueVersion, version.computedAt, version.computedBy, version.reason]
        )
        try await transaction.copy(
            into: "index.scores",
            columns: ["month", "version", "code", "name", "parent_code", "score", "rank", "rank_low", "rank_high", "enough_data", "indicators", "computed_at"],
            rows: try scores.map { score in
                [month, version.version, score.code, score.name, score.parent, score.score, score.rank, score.rankLow, score.rankHigh,
                 score.enoughData, try IndexRows.indicatorsJSON(score.indicators), version.computedAt]
            }
        )
    }

    /// Applies what ``ThresholdActions`` decided, in order; each action created is
    /// announced to its centre in the same transaction.
    private func apply(_ transaction: PostgresConnection, _ decisions: [ThresholdActions.Decision], version: Int, now: Date) async throws {
        for decision in decisions {
            switch decision {
            case .withdraw(let id):
                try await transaction.query("UPDATE index.actions SET status = 'withdrawn' WHERE id = $1", [id])
            case .create(let action):
                try await transaction.query(
                    """
                    INSERT INTO index.actions (id, month, version, division_code, division_name, centre_code, kind, owner, due_on, score, created_at)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::date, $10, $11)
                    """,
                    [UUID.random(), action.month.description, version, action.division, action.divisionName, action.centre.rawValue,
                     action.kind.rawValue, action.owner, action.dueOn.description, action.score, now]
                )
                try await outbox.enqueue(transaction, IndexEvents.notice, IndexEvents.action(action))
            }
        }
    }

    /// The centres' own threshold rules, by centre.
    static func rules(_ connection: PostgresConnection) async throws -> [DivisionCode: ThresholdRule] {
        var rules: [DivisionCode: ThresholdRule] = [:]
        for row in try await connection.query("SELECT \(IndexRows.ruleColumns) FROM index.threshold_rules") {
            let (centre, rule) = try IndexRows.decodeRule(row)
            rules[centre] = rule
        }
        return rules
    }
}
