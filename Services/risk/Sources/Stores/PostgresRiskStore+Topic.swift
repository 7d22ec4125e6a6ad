import Foundation
import PinganContracts
import PinganDomain
import PinganOutbox
import PinganPostgres

/// A cluster warning whose group wait is over, as its push says it.
struct DueCluster: Sendable, Equatable {
    let id: UUID
    let centre: DivisionCode
    /// The division the cluster lies in.
    let scope: DivisionCode
    let score: Int
    let level: RiskLevel
    let rule: String
    let label: String
    let rulesVersion: String
    let category: Pingan_Grid_V1_IncidentCategory?
    /// How many cases it holds (the warning's `count`).
    let count: Int
    /// Oldest first, at its first push, which lists them; at a push again only the one that
    /// joined last, which the push names: a cluster of thousands is not read whole again.
    let members: [UUID]
    /// When it escalates unless acknowledged; `nil` once someone has it in hand.
    let escalatesAt: Date?
    /// How many cases it held when last pushed; `nil` before its first push.
    let pushedCount: Int?
}

/// A case as the topic database keeps it, for the reads that show it.
struct IncidentRecord: Sendable, Equatable {
    let caseID: UUID
    let village: DivisionCode
    let category: Pingan_Grid_V1_IncidentCategory
    let source: Pingan_Dispute_V1_CaseSource
    let openedAt: Date
    let closed: Bool
}

/// Another case naming a party of a case, with the kinds of key that matched.
struct CaseLink: Sendable, Equatable {
    let incident: IncidentRecord
    let matchedOn: [PartyKey.Kind]

    /// The surest of the kinds that matched.
    var confidence: Int { matchedOn.map(\.confidence).max() ?? 0 }
}

/// Incidents of one category opened in one village in one week.
struct IncidentCount: Sendable, Equatable {
    let village: DivisionCode
    let category: Pingan_Grid_V1_IncidentCategory
    /// The Monday the week starts on (China time).
    let week: String
    let count: Int
}

extension PostgresRiskStore {
    func pushDueClusters(now: Date, limit: Int, rules book: ClusterRuleBook) async throws -> Int {
        try await outbox.transaction(pool) { transaction in
            let due = try await transaction.query(
                """
                SELECT w.id, w.centre_code, w.village_code, w.score, w.level, w.rule, w.rules_version, w.escalates_at,
                       CASE WHEN w.pushed_count IS NULL
                            THEN ARRAY(SELECT m.case_id::text FROM risk.cluster_members m JOIN risk.incidents i ON i.case_id = m.case_id WHERE m.warning_id = w.id ORDER BY i.opened_at, m.case_id)
                            ELSE ARRAY(SELECT m.case_id::text FROM risk.cluster_members m WHERE m.warning_id = w.id ORDER BY m.joined_at DESC, m.case_id DESC LIMIT 1)
                       END,
                       w.pushed_count, w.count
                FROM risk.warnings w WHERE w.push_due_at <= $1 ORDER BY w.push_due_at LIMIT $2 FOR UPDATE OF w SKIP LOCKED
                """,
                [now, limit]
            )
            var pushed = 0
            for row in due {
                let id = try row.decode(UUID.self, at: 0)
                let ruleID = try row.decode(String?.self, at: 5) ?? ""
                let version = try row.decode(String?.self, at: 6) ?? ""
                let rule = book.versions.first { $0.version == version }?.rules.first { $0.id == ruleID }
                let cluster = DueCluster(
                    id: id, centre: try RiskRows.division(row, at: 1), scope: try RiskRows.division(row, at: 2), score: try row.decode(Int.self, at: 3),
                    level: try RiskRows.level(row, at: 4, column: "warnings.level"), rule: ruleID, label: rule?.label ?? ruleID, rulesVersion: version,
                    category: rule?.incidentCategory, count: try row.decode(Int.self, at: 10),
                    members: try row.decode([String].self, at: 8).compactMap(UUID.init(uuidString:)),
                    escalatesAt: try row.decode(Date?.self, at: 7), pushedCount: try row.decode(Int?.self, at: 9)
                )
                // The joins count `count` against twice this: the same counter, not the member list.
                try await transaction.queue("UPDATE risk.warnings SET push_due_at = NULL, pushed_count = count WHERE id = $1", [id])
                if let before = cluster.pushedCount {
                    try await RiskRows.queueStep(
                        transaction, id, .pushed, note: "pushed again to \(cluster.centre): \(cluster.count) cases, \(before) at the push before",
                        actor: PostgresRiskWrites.actor, at: now
                    )
                    try await outbox.enqueue(transaction, WarningEvents.notice, WarningEvents.clusterGrew(cluster, from: before))
                } else {
                    try await RiskRows.queueStep(
                        transaction, id, .pushed, note: "pushed to \(cluster.centre) with \(cluster.count) cases", actor: PostgresRiskWrites.actor, at: now
                    )
                    try await outbox.enqueue(transaction, WarningEvents.raised, WarningEvents.clusterRaised(cluster))
                }
                pushed += 1
            }
            return pushed
        }
    }

    func incident(_ id: UUID) async throws -> IncidentRecord? {
        try await pool.query("SELECT \(Self.incidentColumns) FROM risk.incidents i WHERE i.case_id = $1", [id]).first.map(Self.decodeIncident)
    }

    func links(of id: UUID) async throws -> [CaseLink] {
        try await pool.query(
            """
            SELECT \(Self.incidentColumns), array_agg(DISTINCT split_part(other.key, ':', 1))
            FROM risk.party_keys mine
            JOIN risk.party_keys other ON other.key = mine.key AND other.case_id <> mine.case_id
            JOIN risk.incidents i ON i.case_id = other.case_id
            WHERE mine.case_id = $1
            GROUP BY i.case_id ORDER BY min(i.opened_at), i.case_id LIMIT 500
            """,
            [id]
        ).map { row in
            CaseLink(incident: try Self.decodeIncident(row), matchedOn: try row.decode([String].self, at: 6).compactMap(PartyKey.Kind.init(rawValue:)).sorted { $0.confidence > $1.confidence })
        }
    }

    func trend(under root: DivisionCode, from start: Date, to end: Date, category: Pingan_Grid_V1_IncidentCategory?) async throws -> [IncidentCount] {
        try await pool.query(
            """
            SELECT to_char(date_trunc('week', (opened_at AT TIME ZONE 'UTC') + interval '8 hours'), 'YYYY-MM-DD') AS week,
                   village_code, category, count(*)
            FROM risk.incidents
            WHERE village_code BETWEEN $1 AND $2 AND opened_at >= $3 AND opened_at < $4 AND ($5::integer IS NULL OR category = $5)
            GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
            """,
            [root.rawValue, root.lastInSubtree, start, end, category?.rawValue]
        ).map { row in
            IncidentCount(
                village: try RiskRows.division(row, at: 1), category: Pingan_Grid_V1_IncidentCategory(rawValue: try row.decode(Int.self, at: 2)) ?? .unspecified,
                week: try row.decode(String.self, at: 0), count: try row.decode(Int.self, at: 3)
            )
        }
    }

    static let incidentColumns = "i.case_id, i.village_code, i.category, i.source, i.opened_at, i.closed"

    static func decodeIncident(_ row: PostgresRow) throws -> IncidentRecord {
        IncidentRecord(
            caseID: try row.decode(UUID.self, at: 0), village: try RiskRows.division(row, at: 1),
            category: Pingan_Grid_V1_IncidentCategory(rawValue: try row.decode(Int.self, at: 2)) ?? .unspecified,
            source: Pingan_Dispute_V1_CaseSource(rawValue: try row.decode(Int.self, at: 3)) ?? .unspecified,
            openedAt: try row.decode(Date.self, at: 4), closed: try row.decode(Bool.self, at: 5)
        )
    }
}
