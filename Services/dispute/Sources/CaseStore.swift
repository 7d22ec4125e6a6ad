import Foundation
import PinganAccess
import PinganContracts
import PinganDomain
import PinganOutbox
import PinganPostgres

/// Where cases, their timelines and the audit of personal-data reads live.
protocol CaseStore: Sendable {
    /// Opens the case for an incident once. Applying the same event again, or another event
    /// for the same incident, returns the case already open.
    func open(_ newCase: NewCase, applying event: EventDelivery) async throws -> DisputeCase
    func find(_ id: UUID) async throws -> DisputeCase?
    func timeline(of id: UUID) async throws -> [TimelineEntry]
    /// Records that `principal` saw the case's personal data, and why that was allowed.
    func auditPersonalDataRead(case id: UUID, by principal: Principal, rule: String) async throws
    /// Cases under `root`, newest first, after `cursor`, each with its own cursor.
    func list(under root: DivisionCode, after cursor: CaseCursor?, limit: Int) async throws -> [(case: DisputeCase, cursor: CaseCursor)]
    /// Resolves an open case with `outcome`; a resolved one is returned unchanged.
    func resolve(_ id: UUID, outcome: String, actor: String) async throws -> DisputeCase?
    /// Cases opened and resolved per village under `root` during `month`.
    func facts(under root: DivisionCode, in month: Month) async throws -> [(village: String, opened: Int, resolved: Int)]
}

/// Cases and their timeline in schema `dispute`.
struct PostgresCaseStore: CaseStore {
    static let columns = """
        id, incident_id, village_code, category, source, status, description, parties,
        threat_of_violence, threat_of_self_harm, repeat_incident, prior_police_calls, opened_at
        """

    let pool: PostgresPool
    let outbox: Outbox
    var inbox: EventInbox { EventInbox(pool: pool, outbox: outbox) }

    func open(_ newCase: NewCase, applying event: EventDelivery) async throws -> DisputeCase {
        try await inbox.apply(event) { transaction, firstDelivery in
            if firstDelivery {
                let json = String(decoding: try JSONEncoder().encode(newCase.parties), as: UTF8.self)
                let facts = newCase.facts
                let inserted = try await transaction.query(
                    """
                    INSERT INTO dispute.cases (id, incident_id, village_code, category, source, description, parties,
                        threat_of_violence, threat_of_self_harm, repeat_incident, prior_police_calls)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                    ON CONFLICT (incident_id) DO NOTHING
                    RETURNING \(Self.columns)
                    """,
                    [UUID(), newCase.incidentID, newCase.village.rawValue, newCase.category.rawValue, newCase.source.rawValue,
                     newCase.description, PostgresJSON(json), facts.threatOfViolence, facts.threatOfSelfHarm,
                     facts.repeatIncident, facts.priorPoliceCalls]
                )
                if let row = inserted.first {
                    let opened = try Self.decodeCase(row)
                    try await appendTimeline(transaction, case: opened.id, kind: "opened", note: "opened from incident \(newCase.incidentID.wire)", actor: "grid-service")
                    try await outbox.enqueue(transaction, topic: CaseEvents.opened, opened.assessment)
                    return opened
                }
            }
            let rows = try await transaction.query("SELECT \(Self.columns) FROM dispute.cases WHERE incident_id = $1", [newCase.incidentID])
            guard let row = rows.first else { throw CaseStoreError.vanished(newCase.incidentID) }
            return try Self.decodeCase(row)
        }
    }

    func find(_ id: UUID) async throws -> DisputeCase? {
        try await pool.query("SELECT \(Self.columns) FROM dispute.cases WHERE id = $1", [id]).first.map(Self.decodeCase)
    }

    func timeline(of id: UUID) async throws -> [TimelineEntry] {
        try await pool.query("SELECT at, kind, note, actor FROM dispute.timeline WHERE case_id = $1 ORDER BY id", [id]).map { row in
            TimelineEntry(at: try row.decode(Date.self, at: 0), kind: try row.decode(String.self, at: 1),
                          note: try row.decode(String.self, at: 2), actor: try row.decode(String.self, at: 3))
        }
    }

    func auditPersonalDataRead(case id: UUID, by principal: Principal, rule: String) async throws {
        try await pool.query(
            "INSERT INTO dispute.personal_data_reads (subject, centre, case_id, rule) VALUES ($1, $2, $3, $4)",
            [principal.subject, principal.centre.rawValue, id, rule]
        )
    }

    /// Pages by `(opened_at, id)` at the database's microsecond precision, so no case is skipped.
    func list(under root: DivisionCode, after cursor: CaseCursor?, limit: Int) async throws -> [(case: DisputeCase, cursor: CaseCursor)] {
        let rows = try await pool.query(
            """
            SELECT \(Self.columns) FROM dispute.cases
            WHERE village_code BETWEEN $1 AND $2 AND ($3::timestamptz IS NULL OR (opened_at, id) < ($3, $4))
            ORDER BY opened_at DESC, id DESC LIMIT $5
            """,
            [root.rawValue, root.lastInSubtree, cursor?.openedAt, cursor?.id, limit]
        )
        return try rows.map { row in
            let found = try Self.decodeCase(row)
            return (found, CaseCursor(openedAt: found.openedAt, id: found.id))
        }
    }

    func resolve(_ id: UUID, outcome: String, actor: String) async throws -> DisputeCase? {
        try await pool.transaction { transaction in
            let updated = try await transaction.query(
                "UPDATE dispute.cases SET status = 'resolved', resolved_at = clock_timestamp(), outcome = $2 WHERE id = $1 AND status = 'open'",
                [id, outcome]
            )
            if updated.affectedRows == 1 {
                try await appendTimeline(transaction, case: id, kind: "resolved", note: outcome, actor: actor)
            }
            return try await transaction.query("SELECT \(Self.columns) FROM dispute.cases WHERE id = $1", [id]).first.map(Self.decodeCase)
        }
    }

    func facts(under root: DivisionCode, in month: Month) async throws -> [(village: String, opened: Int, resolved: Int)] {
        let (start, end) = month.range
        return try await pool.query(
            """
            SELECT village_code,
                   count(*) FILTER (WHERE opened_at >= $3 AND opened_at < $4),
                   count(*) FILTER (WHERE resolved_at >= $3 AND resolved_at < $4)
            FROM dispute.cases
            WHERE village_code BETWEEN $1 AND $2 AND (opened_at < $4) AND (resolved_at IS NULL OR resolved_at >= $3 OR opened_at >= $3)
            GROUP BY village_code ORDER BY village_code
            """,
            [root.rawValue, root.lastInSubtree, start, end]
        ).map { (try $0.decode(String.self, at: 0), try $0.decode(Int.self, at: 1), try $0.decode(Int.self, at: 2)) }
    }

    private func appendTimeline(_ transaction: PostgresConnection, case id: UUID, kind: String, note: String, actor: String) async throws {
        try await transaction.query(
            "INSERT INTO dispute.timeline (case_id, kind, note, actor) VALUES ($1, $2, $3, $4)", [id, kind, note, actor]
        )
    }

    static func decodeCase(_ row: PostgresRow) throws -> DisputeCase {
        DisputeCase(
            id: try row.decode(UUID.self, at: 0),
            incidentID: try row.decode(UUID?.self, at: 1),
            village: try DivisionCode(validating: try row.decode(String.self, at: 2)),
            category: Pingan_Grid_V1_IncidentCategory(rawValue: try row.decode(Int.self, at: 3)) ?? .other,
            source: Pingan_Dispute_V1_CaseSource(rawValue: try row.decode(Int.self, at: 4)) ?? .unspecified,
            status: DisputeCase.Status(rawValue: try row.decode(String.self, at: 5)) ?? .open,
            description: try row.decode(String.self, at: 6),
            parties: try JSONDecoder().decode([Party].self, from: Data(try row.decode(PostgresJSON.self, at: 7).text.utf8)),
            facts: CaseFacts(
                threatOfViolence: try row.decode(Bool.self, at: 8), threatOfSelfHarm: try row.decode(Bool.self, at: 9),
                repeatIncident: try row.decode(Bool.self, at: 10), priorPoliceCalls: try row.decode(Int.self, at: 11)
            ),
            openedAt: try row.decode(Date.self, at: 12)
        )
    }
}

/// A store invariant that did not hold; a bug, answered `internal`.
enum CaseStoreError: Error, CustomStringConvertible {
    case vanished(UUID)

    var description: String {
        switch self {
        case .vanished(let incident): "the case for incident \(incident.wire) vanished inside its transaction"
        }
    }
}
