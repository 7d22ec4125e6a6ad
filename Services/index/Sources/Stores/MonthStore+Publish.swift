import Foundation
import PinganDomain
import PinganOutbox
import PinganPostgres

extension PostgresMonthStore {
    func publish(_ publication: Publication, scores: AsyncThrowingStream<[GovernanceIndex.Scored], any Error>) async throws -> MonthVersion {
        let month = publication.month
        return try await outbox.transaction(pool) { transaction in
            // The lock, then the latest version under it, in one round trip.
            let locked = try await transaction.pipeline([
                (sql: "SELECT pg_advisory_xact_lock(hashtext('index.months ' || $1))", parameters: [month.description]),
                (sql: "SELECT \(IndexRows.versionColumns) FROM index.months WHERE month = $1 ORDER BY version DESC LIMIT 1", parameters: [month.description]),
            ])
            let latest = try locked[1].first.map(IndexRows.decodeVersion)
            let decision = try MonthVersioning.decide(publication, latest: latest)
            // Writes whose rows nobody reads are queued: they travel with the next statement.
            if case .replace(let version) = decision {
                try await transaction.queue("DELETE FROM index.scores WHERE month = $1 AND version = $2", [month.description, version])
                try await transaction.queue("DELETE FROM index.months WHERE month = $1 AND version = $2", [month.description, version])
            }
            let stored = MonthVersion(
                month: month, version: decision.version, status: publication.status, catalogueVersion: publication.catalogueVersion,
                computedAt: publication.now, computedBy: publication.computedBy, reason: publication.reason
            )
            try await transaction.queue(
                "INSERT INTO index.months (\(IndexRows.versionColumns)) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                [month.description, stored.version, stored.status.rawValue, stored.catalogueVersion, stored.computedAt, stored.computedBy, stored.reason]
            )
            let scored = try await write(transaction, scores, of: stored)
            if stored.status == .frozen {
                let read = try await transaction.pipeline([
                    (sql: "SELECT \(IndexRows.ruleColumns) FROM index.threshold_rules", parameters: []),
                    (sql: "SELECT id, division_code, kind, status FROM index.actions WHERE month = $1 AND status <> 'withdrawn'", parameters: [month.description]),
                ])
                let decisions = ThresholdActions.decide(
                    month: month, scored: scored, rules: try Self.rules(read[0]),
                    existing: try read[1].map(IndexRows.decodeExisting), today: Day(containing: publication.now)
                )
                try await apply(transaction, decisions, version: stored.version, now: publication.now)
                for notice in IndexEvents.published(month, scored) {
                    try await outbox.enqueue(transaction, IndexEvents.notice, notice)
                }
            }
            return stored
        }
    }

    /// Writes the version's scores with one `COPY`, each family's lines sent as soon as they
    /// are written, so that PostgreSQL loads the first families while the last are still drawn;
    /// the indicators as `json` (migration 5: parsing them into `jsonb` was most of the
    /// `COPY`), `indicators` taking its default.
    /// - Returns: every score, by code, so that what follows from them is in the same order
    ///   however the families arrived.
    private func write(
        _ transaction: PostgresConnection, _ scores: AsyncThrowingStream<[GovernanceIndex.Scored], any Error>, of version: MonthVersion
    ) async throws -> [GovernanceIndex.Scored] {
        let month = version.month.description
        var written: [GovernanceIndex.Scored] = []
        try await transaction.copy(
            into: "index.scores",
            columns: ["month", "version", "code", "name", "parent_code", "score", "rank", "rank_low", "rank_high", "enough_data", "indicators_json", "computed_at"]
        ) { copy in
            var lines: [UInt8] = []
            for try await family in scores {
                for score in family {
                    PostgresConnection.appendCopyRow(
                        [month, version.version, score.code, score.name, score.parent, score.score, score.rank, score.rankLow, score.rankHigh,
                         score.enoughData, try IndexRows.indicatorsJSON(score.indicators), version.computedAt],
                        to: &lines
                    )
                }
                written += family
                // A thread hop per send: families of a dozen are gathered into fewer, larger ones.
                if lines.count >= Self.copySendSize {
                    try await copy.send(lines)
                    lines.removeAll(keepingCapacity: true)
                }
            }
            try await copy.send(lines)
        }
        return written.sorted { $0.code < $1.code }
    }

    /// About 40 scores' lines.
    static let copySendSize = 64 << 10

    /// Applies what ``ThresholdActions`` decided: the withdrawals in one statement, the new
    /// actions in another, each created action announced to its centre in the decided order,
    /// all queued to travel with `COMMIT`. A withdrawal and a creation never touch the same
    /// kind of one unit's actions (the rule withdraws only kinds it no longer calls for), so
    /// applying the withdrawals first leaves what applying them one by one in order would.
    private func apply(_ transaction: PostgresConnection, _ decisions: [ThresholdActions.Decision], version: Int, now: Date) async throws {
        var withdrawn: [String] = []
        var created: [ThresholdActions.NewAction] = []
        for decision in decisions {
            switch decision {
            case .withdraw(let id): withdrawn.append(id.uuidString)
            case .create(let action): created.append(action)
            }
        }
        if !withdrawn.isEmpty {
            try await transaction.queue("UPDATE index.actions SET status = 'withdrawn' WHERE id = ANY($1::uuid[])", [withdrawn])
        }
        guard !created.isEmpty else { return }
        try await transaction.queue(
            """
            INSERT INTO index.actions (id, month, version, division_code, division_name, centre_code, kind, owner, due_on, score, created_at)
            SELECT id::uuid, $2, $3, division_code, division_name, centre_code, kind, owner, due_on::date, score::double precision, $4
            FROM unnest($1::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
                AS a (id, division_code, division_name, centre_code, kind, owner, due_on, score)
            """,
            // Every action decided for a publication is of its month.
            [created.map { _ in UUID.random().uuidString }, created[0].month.description, version, now,
             created.map(\.division), created.map(\.divisionName), created.map(\.centre.rawValue), created.map(\.kind.rawValue),
             created.map(\.owner), created.map(\.dueOn.description), created.map { String($0.score) }]
        )
        for action in created {
            try await outbox.enqueue(transaction, IndexEvents.notice, IndexEvents.action(action))
        }
    }

    /// The centres' own threshold rules, by centre, from the rows of ``IndexRows/ruleColumns``.
    static func rules(_ rows: PostgresRows) throws -> [DivisionCode: ThresholdRule] {
        var rules: [DivisionCode: ThresholdRule] = [:]
        for row in rows {
            let (centre, rule) = try IndexRows.decodeRule(row)
            rules[centre] = rule
        }
        return rules
    }
}
