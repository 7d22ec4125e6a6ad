import Foundation
import PinganContracts
import PinganDomain
import PinganOutbox
import PinganPostgres

/// The social-risk topic database's part of an `AssessCase` event, inside its transaction:
/// keeps the incident and its parties' keys, and applies what the cluster rules decide about
/// them. Two round trips at most: one that records the incident, one (only when a rule
/// applies) that locks the clusters' keys and reads what the rules count.
struct PostgresTopicWrites: Sendable {
    let transaction: PostgresConnection

    /// Records `incident` and decides on its clusters with the rules in force at `now`;
    /// returns every open cluster warning the case is a member of afterwards, each with the
    /// centre it warns. Which of them, if any, holds back the case's own pushes
    /// depends on whom the case's own warning warns (``WarningDecision/heldBy(_:)``).
    func record(_ incident: TopicIncident, rules book: ClusterRuleBook, grouping: ClusterGrouping, warnings: WarningRules, now: Date) async throws -> [ClusterHold] {
        let keys = incident.partyKeys.map(\.text)
        let recorded = try await transaction.pipeline([
            (
                // xmax is 0 only for a row this statement inserted: the incident is new to the
                // topic database, so the place rules count it (a change to the case never twice).
                """
                INSERT INTO risk.incidents (case_id, village_code, category, source, opened_at, closed, recorded_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7)
                ON CONFLICT (case_id) DO UPDATE SET village_code = $2, category = $3, closed = $6,
                    source = CASE WHEN risk.incidents.source = 0 THEN $4 ELSE risk.incidents.source END
                RETURNING xmax = 0
                """,
                [incident.caseID, incident.village.rawValue, incident.category.rawValue, incident.source.rawValue, incident.openedAt, incident.closed, now]
            ),
            incident.partiesErased
                // Its people are gone from the case: no later case is matched to it by them, and
                // what staff wrote on its warning's loop goes with the rest of its words.
                ? (
                    """
                    WITH forgotten AS (DELETE FROM risk.party_keys WHERE case_id = $1)
                    UPDATE risk.warning_steps SET note = '' WHERE note <> '' AND warning_id IN (SELECT id FROM risk.warnings WHERE case_id = $1)
                    """,
                    [incident.caseID]
                )
                : (
                    "INSERT INTO risk.party_keys (key, case_id) SELECT unnest($1::text[]), $2 ON CONFLICT DO NOTHING RETURNING key",
                    [keys, incident.caseID]
                ),
            RiskRows.clusterHolds(of: [incident.caseID]),
        ])
        let isNew = try recorded[0].first?.decode(Bool.self, at: 0) ?? false
        let newKeys = try recorded[1].compactMap { PartyKey(try $0.decode(String.self, at: 0)) }
        let already = try RiskRows.decodeClusterHolds(recorded[2])[incident.caseID] ?? []
        guard let rules = book.inForce(at: now) else { return already }
        let probes = rules.probes(for: incident, isNew: isNew, newKeys: newKeys, now: now)
        guard !probes.isEmpty else { return already }

        // The clusters' keys are locked, in one order, before anything is counted: of two
        // incidents in one village committed at once, the second counts the first.
        let clusterKeys = Array(Set(probes.map(\.key))).sorted()
        var statements: [PostgresStatement] = [
            ("SELECT pg_advisory_xact_lock(hashtextextended(k, 28)) FROM unnest($1::text[]) k ORDER BY k", [clusterKeys]),
            ("SELECT id FROM risk.warnings WHERE cluster_key = ANY($1::text[]) AND status <> 'closed' ORDER BY id FOR UPDATE", [clusterKeys]),
            (
                // Whether the incident is a member already, by the members' key: a cluster of
                // thousands is not read for every report in its place.
                """
                SELECT w.id, w.cluster_key, EXISTS (SELECT FROM risk.cluster_members m WHERE m.warning_id = w.id AND m.case_id = $2), w.centre_code
                FROM risk.warnings w WHERE w.cluster_key = ANY($1::text[]) AND w.status <> 'closed'
                """,
                [clusterKeys, incident.caseID]
            ),
        ]
        for probe in probes { statements += Self.reads(probe) }
        let rows = try await transaction.pipeline(statements)
        var open: [String: OpenCluster] = [:]
        for row in rows[2] {
            let cluster = OpenCluster(
                id: try row.decode(UUID.self, at: 0), key: try row.decode(String.self, at: 1),
                holdsIncident: try row.decode(Bool.self, at: 2), centre: try RiskRows.division(row, at: 3)
            )
            open[cluster.key] = cluster
        }
        var observations: [ClusterObservation] = []
        var next = 3
        for probe in probes {
            let members = try rows[next].map { ClusterMember(id: try $0.decode(UUID.self, at: 0), village: try RiskRows.division($0, at: 1)) }
            next += 1
            var past: [Int] = []
            if case .seasonal = probe.look {
                past = try rows[next].map { try $0.decode(Int.self, at: 0) }
                next += 1
            }
            observations.append(ClusterObservation(probe: probe, members: members, pastCounts: past))
        }
        let decisions = rules.decide(incident, observations: observations, open: open, grouping: grouping, warnings: warnings, now: now)
        var holds = already
        for decision in decisions {
            let hold = try await apply(decision, now: now, threshold: warnings.threshold)
            if !holds.contains(where: { $0.warning == hold.warning }) { holds.append(hold) }
        }
        return holds
    }

    /// What a probe reads: the incidents it counts, oldest first (at most 500, more than any
    /// rule counts), and for a seasonal rule the same days' counts in the years before.
    ///
    /// Each read finds nothing while a cluster of the probe's key is open: the incident then
    /// only joins it (``ClusterRuleSet/decide(_:observations:open:grouping:warnings:now:)``),
    /// and a busy township's week of incidents is not read again for every report that joins
    /// its open cluster.
    private static func reads(_ probe: ClusterProbe) -> [PostgresStatement] {
        /// The condition, with the probe's key as parameter `n`.
        func unclaimed(_ n: Int) -> String {
            "NOT EXISTS (SELECT FROM risk.warnings open WHERE open.cluster_key = $\(n) AND open.status <> 'closed')"
        }
        // Two texts rather than `$1 IS NULL OR category = $1`: a prepared statement's generic
        // plan could not use incidents_place for the category it is given.
        func members(_ category: Pingan_Grid_V1_IncidentCategory?, _ scope: DivisionCode, _ since: Date, _ until: Date) -> PostgresStatement {
            let window = "village_code BETWEEN $1 AND $2 AND opened_at > $3 AND opened_at <= $4"
            guard let category else {
                return (
                    "SELECT case_id, village_code FROM risk.incidents WHERE \(window) AND \(unclaimed(5)) ORDER BY opened_at, case_id LIMIT 500",
                    [scope.rawValue, scope.lastInSubtree, since, until, probe.key]
                )
            }
            return (
                "SELECT case_id, village_code FROM risk.incidents WHERE category = $5 AND \(window) AND \(unclaimed(6)) ORDER BY opened_at, case_id LIMIT 500",
                [scope.rawValue, scope.lastInSubtree, since, until, category.rawValue, probe.key]
            )
        }
        switch probe.look {
        case let .place(category, scope, since, until):
            return [members(category, scope, since, until)]
        case let .seasonal(category, scope, since, until, years):
            let filter = category == nil ? "" : "i.category = $7 AND"
            var parameters: [any PostgresEncodable] = [scope.rawValue, scope.lastInSubtree, since, until, years, probe.key]
            if let category { parameters.append(category.rawValue) }
            return [
                members(category, scope, since, until),
                (
                    """
                    SELECT (SELECT count(*) FROM risk.incidents i
                            WHERE \(filter) i.village_code BETWEEN $1 AND $2
                              AND i.opened_at > $3::timestamptz - make_interval(years => y) AND i.opened_at <= $4::timestamptz - make_interval(years => y))
                    FROM generate_series(1, $5::integer) y WHERE \(unclaimed(6)) ORDER BY y
                    """,
                    parameters
                ),
            ]
        case let .person(key):
            return [(
                """
                SELECT i.case_id, i.village_code FROM risk.party_keys k JOIN risk.incidents i ON i.case_id = k.case_id
                WHERE k.key = $1 AND NOT i.closed AND \(unclaimed(2)) ORDER BY i.opened_at, i.case_id LIMIT 500
                """,
                [key.text, probe.key]
            )]
        }
    }

    /// Applies one decision (queued: it travels with the next statement or COMMIT); returns
    /// the cluster warning the case is now a member of, with the centre it warns.
    private func apply(_ decision: ClusterDecision, now: Date, threshold: Int) async throws -> ClusterHold {
        switch decision {
        case let .raise(key, rule, version, owner, scope, members, pushAt, escalatesAt):
            let id = UUID.random()
            // A cluster is 较大 (serious) at the threshold's score: every subscription that
            // takes ordinary warnings takes it; a rule for the county is 重大 (major).
            let level: RiskLevel = rule.warns == .county ? .major : .serious
            try await transaction.queue(
                """
                INSERT INTO risk.warnings (id, case_id, cluster_key, centre_code, village_code, score, raised_at, escalates_at, level, rule, rules_version, push_due_at, count)
                VALUES ($1, NULL, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                """,
                [id, key, owner.rawValue, scope.rawValue, threshold, now, escalatesAt, level.rawValue, rule.id, version, pushAt, members.count]
            )
            try await transaction.queue(
                "INSERT INTO risk.cluster_members (warning_id, case_id, joined_at) SELECT $1, m, $2 FROM unnest($3::text[]::uuid[]) m",
                [id, now, members.map(\.uuidString)]
            )
            try await RiskRows.queueStep(
                transaction, id, .raised, note: "\(rule.id) (\(version)): \(members.count) cases under \(scope); \(rule.label); warned \(owner)",
                actor: PostgresRiskWrites.actor, at: now
            )
            return ClusterHold(warning: id, centre: owner)
        case let .join(warning, centre, member, pushAt):
            try await transaction.queue(
                "INSERT INTO risk.cluster_members (warning_id, case_id, joined_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", [warning, member, now]
            )
            // Twice the cases of its last push: pushed again once the group wait is over, so a
            // burst of joins makes one push. Before its first push, the first push takes them.
            try await transaction.queue(
                """
                UPDATE risk.warnings SET count = count + 1,
                    push_due_at = CASE WHEN push_due_at IS NULL AND pushed_count IS NOT NULL AND count + 1 >= 2 * pushed_count THEN $2 ELSE push_due_at END
                WHERE id = $1
                """,
                [warning, pushAt]
            )
            try await RiskRows.queueStep(transaction, warning, .memberJoined, note: "case \(member.wire) joined", actor: PostgresRiskWrites.actor, at: now)
            return ClusterHold(warning: warning, centre: centre)
        }
    }
}
