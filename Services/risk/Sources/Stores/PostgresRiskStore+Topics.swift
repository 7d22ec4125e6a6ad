import Foundation
import PinganContracts
import PinganDomain
import PinganPostgres

/// An open topic (专题): a matter a centre follows across cases, with the cases attached.
struct Topic: Sendable, Equatable {
    let id: UUID
    /// The centre that follows it; its cases lie under it.
    let centre: DivisionCode
    let title: String
    let category: Pingan_Grid_V1_IncidentCategory
    let openedAt: Date
    let closedAt: Date?
    let outcome: String?
    /// In the order they were attached.
    let cases: [UUID]
}

extension PostgresRiskStore {
    static let topicColumns = """
        t.id, t.centre_code, t.title, t.category, t.opened_at, t.closed_at, t.outcome,
        ARRAY(SELECT c.case_id::text FROM risk.topic_cases c WHERE c.topic_id = t.id ORDER BY c.attached_at, c.case_id)
        """

    static func decodeTopic(_ row: PostgresRow) throws -> Topic {
        Topic(
            id: try row.decode(UUID.self, at: 0), centre: try RiskRows.division(row, at: 1), title: try row.decode(String.self, at: 2),
            category: Pingan_Grid_V1_IncidentCategory(rawValue: try row.decode(Int.self, at: 3)) ?? .unspecified,
            openedAt: try row.decode(Date.self, at: 4), closedAt: try row.decode(Date?.self, at: 5), outcome: try row.decode(String?.self, at: 6),
            cases: try row.decode([String].self, at: 7).compactMap(UUID.init(uuidString:))
        )
    }

    func openTopic(centre: DivisionCode, title: String, category: Pingan_Grid_V1_IncidentCategory, by actor: String, at now: Date) async throws -> Topic {
        let id = UUID.random()
        _ = try await pool.query(
            "INSERT INTO risk.topics (id, centre_code, title, category, opened_at, opened_by) VALUES ($1, $2, $3, $4, $5, $6)",
            [id, centre.rawValue, title, category.rawValue, now, actor]
        )
        return Topic(id: id, centre: centre, title: title, category: category, openedAt: now, closedAt: nil, outcome: nil, cases: [])
    }

    func topic(_ id: UUID) async throws -> Topic? {
        try await pool.query("SELECT \(Self.topicColumns) FROM risk.topics t WHERE t.id = $1", [id]).first.map(Self.decodeTopic)
    }

    func attach(_ caseID: UUID, to topic: UUID, by actor: String, at now: Date) async throws -> Bool {
        // Only while open: the insert selects the topic's row, so a closed one attaches nothing.
        let rows = try await pool.query(
            """
            WITH open AS (SELECT id FROM risk.topics WHERE id = $1 AND closed_at IS NULL FOR SHARE)
            INSERT INTO risk.topic_cases (topic_id, case_id, attached_at, attached_by)
            SELECT id, $2, $3, $4 FROM open
            ON CONFLICT DO NOTHING RETURNING 1
            """,
            [topic, caseID, now, actor]
        )
        if rows.count == 1 { return true }
        // Attached already: as asked, whether or not it has closed since.
        return try await pool.query("SELECT 1 FROM risk.topic_cases WHERE topic_id = $1 AND case_id = $2", [topic, caseID]).count == 1
    }

    func closeTopic(_ id: UUID, outcome: String, at now: Date) async throws -> Bool {
        try await pool.query(
            "UPDATE risk.topics SET closed_at = $2, outcome = $3 WHERE id = $1 AND closed_at IS NULL RETURNING 1", [id, now, outcome]
        ).count == 1
    }

    func topics(under root: DivisionCode, openOnly: Bool, limit: Int) async throws -> [Topic] {
        try await pool.query(
            """
            SELECT \(Self.topicColumns) FROM risk.topics t
            WHERE t.centre_code BETWEEN $1 AND $2 AND (NOT $3 OR t.closed_at IS NULL)
            ORDER BY t.opened_at DESC, t.id DESC LIMIT $4
            """,
            [root.rawValue, root.lastInSubtree, openOnly, limit]
        ).map(Self.decodeTopic)
    }
}

extension Topic {
    var wire: Pingan_Risk_V1_Topic {
        var topic = Pingan_Risk_V1_Topic()
        topic.id = id.wire
        topic.centreCode = centre.rawValue
        topic.title = title
        topic.category = category
        topic.openedAt = openedAt.wireTimestamp
        topic.closedAt = closedAt?.wireTimestamp ?? ""
        topic.outcome = outcome ?? ""
        topic.caseIds = cases.map(\.wire)
        return topic
    }
}
