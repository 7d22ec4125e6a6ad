import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganOutbox
import PinganPostgres

/// A party as stored in `dispute.cases.parties`.
struct StoredParty: Codable, Sendable {
    var name: String
    var phone: String
    var minor: Bool
}

/// Cases and their timeline in schema `dispute`.
struct CaseStore: Sendable {
    static let openedTopic = "case.opened"
    static let columns = """
        id, incident_id, village_code, category, source, status, description, parties,
        threat_of_violence, threat_of_self_harm, repeat_incident, prior_police_calls, opened_at
        """

    let pool: PostgresPool
    let wakeup: OutboxWakeup

    /// Opens the case for an incident once. Applying the same event again, or another event
    /// for the same incident, returns the case already open.
    func open(_ request: Pingan_Dispute_V1_OpenCaseRequest, incident: UUID, village: DivisionCode, eventID: UUID) async throws -> Pingan_Dispute_V1_Case {
        defer { wakeup.signal() }
        return try await pool.transaction { transaction in
            if try await Inbox.markApplied(transaction, schema: "dispute", eventID: eventID) {
                let parties = request.parties.map { StoredParty(name: $0.name, phone: $0.phone, minor: $0.minor) }
                let json = String(decoding: try JSONEncoder().encode(parties), as: UTF8.self)
                let id = UUID()
                let inserted = try await transaction.query(
                    """
                    INSERT INTO dispute.cases (id, incident_id, village_code, category, source, description, parties,
                        threat_of_violence, threat_of_self_harm, repeat_incident, prior_police_calls)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                    ON CONFLICT (incident_id) DO NOTHING
                    """,
                    [id, incident, village.rawValue, request.category.rawValue, request.source.rawValue, request.description_p,
                     PostgresJSON(json), request.threatOfViolence, request.threatOfSelfHarm, request.repeatIncident,
                     Int(request.priorPoliceCalls)]
                )
                if inserted.affectedRows == 1 {
                    try await appendTimeline(transaction, case: id, kind: "opened", note: "opened from incident \(incident)", actor: "grid-service")
                    var assess = Pingan_Risk_V1_AssessCaseRequest()
                    assess.caseID = id.uuidString
                    assess.villageCode = village.rawValue
                    assess.category = request.category
                    assess.partyCount = Int32(request.parties.count)
                    assess.minorsInvolved = request.parties.contains(where: \.minor)
                    assess.threatOfViolence = request.threatOfViolence
                    assess.threatOfSelfHarm = request.threatOfSelfHarm
                    assess.repeatIncident = request.repeatIncident
                    assess.priorPoliceCalls = request.priorPoliceCalls
                    assess.incidentID = incident.uuidString
                    try await Outbox.enqueue(transaction, schema: "dispute", topic: Self.openedTopic, assess)
                }
            }
            let rows = try await transaction.query("SELECT \(Self.columns) FROM dispute.cases WHERE incident_id = $1", [incident])
            guard let row = rows.first else { throw ConnectError(.internal, "case for incident \(incident) vanished") }
            return try Self.decodeCase(row)
        }
    }

    func find(_ id: UUID) async throws -> Pingan_Dispute_V1_Case? {
        try await pool.query("SELECT \(Self.columns) FROM dispute.cases WHERE id = $1", [id]).first.map(Self.decodeCase)
    }

    func timeline(of id: UUID) async throws -> [Pingan_Dispute_V1_TimelineEntry] {
        try await pool.query("SELECT at, kind, note, actor FROM dispute.timeline WHERE case_id = $1 ORDER BY id", [id]).map { row in
            var entry = Pingan_Dispute_V1_TimelineEntry()
            entry.at = try row.decode(Date.self, at: 0).wireTimestamp
            entry.kind = try row.decode(String.self, at: 1)
            entry.note = try row.decode(String.self, at: 2)
            entry.actor = try row.decode(String.self, at: 3)
            return entry
        }
    }

    /// Records that `principal` saw the case's personal data, and why that was allowed.
    func auditPersonalDataRead(case id: UUID, by principal: Principal, rule: String) async throws {
        try await pool.query(
            "INSERT INTO dispute.personal_data_reads (subject, centre, case_id, rule) VALUES ($1, $2, $3, $4)",
            [principal.subject, principal.centre.rawValue, id, rule]
        )
    }

    /// Cases under `root`, newest first, after the `(opened_at, id)` of a previous page, each
    /// with its own cursor at the database's microsecond precision.
    func list(under root: DivisionCode, after cursor: CaseCursor?, limit: Int) async throws -> [(case: Pingan_Dispute_V1_Case, cursor: CaseCursor)] {
        let rows = try await pool.query(
            """
            SELECT \(Self.columns) FROM dispute.cases
            WHERE village_code BETWEEN $1 AND $2 AND ($3::timestamptz IS NULL OR (opened_at, id) < ($3, $4))
            ORDER BY opened_at DESC, id DESC LIMIT $5
            """,
            [root.rawValue, root.lastInSubtree, cursor?.openedAt, cursor?.id, limit]
        )
        return try rows.map { row in
            (try Self.decodeCase(row), CaseCursor(openedAt: try row.decode(Date.self, at: 12), id: try row.decode(UUID.self, at: 0)))
        }
    }

    func resolve(_ id: UUID, outcome: String, actor: String) async throws -> Pingan_Dispute_V1_Case? {
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

    func facts(under root: DivisionCode, in month: Month) async throws -> [Pingan_Dispute_V1_VillageCaseFacts] {
        let (start, end) = month.range
        let rows = try await pool.query(
            """
            SELECT village_code,
                   count(*) FILTER (WHERE opened_at >= $3 AND opened_at < $4),
                   count(*) FILTER (WHERE resolved_at >= $3 AND resolved_at < $4)
            FROM dispute.cases
            WHERE village_code BETWEEN $1 AND $2 AND (opened_at < $4) AND (resolved_at IS NULL OR resolved_at >= $3 OR opened_at >= $3)
            GROUP BY village_code ORDER BY village_code
            """,
            [root.rawValue, root.lastInSubtree, start, end]
        )
        return try rows.map { row in
            var facts = Pingan_Dispute_V1_VillageCaseFacts()
            facts.villageCode = try row.decode(String.self, at: 0)
            facts.opened = Int32(try row.decode(Int.self, at: 1))
            facts.resolved = Int32(try row.decode(Int.self, at: 2))
            return facts
        }
    }

    private func appendTimeline(_ transaction: PostgresConnection, case id: UUID, kind: String, note: String, actor: String) async throws {
        try await transaction.query(
            "INSERT INTO dispute.timeline (case_id, kind, note, actor) VALUES ($1, $2, $3, $4)", [id, kind, note, actor]
        )
    }

    /// A case with its parties unmasked; handlers mask them unless a reveal was allowed.
    static func decodeCase(_ row: PostgresRow) throws -> Pingan_Dispute_V1_Case {
        var value = Pingan_Dispute_V1_Case()
        value.id = try row.decode(UUID.self, at: 0).uuidString
        value.incidentID = try row.decode(UUID?.self, at: 1)?.uuidString ?? ""
        value.villageCode = try row.decode(String.self, at: 2)
        value.category = Pingan_Grid_V1_IncidentCategory(rawValue: try row.decode(Int.self, at: 3)) ?? .other
        value.source = Pingan_Dispute_V1_CaseSource(rawValue: try row.decode(Int.self, at: 4)) ?? .unspecified
        value.status = try row.decode(String.self, at: 5) == "resolved" ? .resolved : .open
        value.description_p = try row.decode(String.self, at: 6)
        let parties = try JSONDecoder().decode([StoredParty].self, from: Data(try row.decode(PostgresJSON.self, at: 7).text.utf8))
        value.parties = parties.map { stored in
            var party = Pingan_Grid_V1_Party()
            party.name = stored.name
            party.phone = stored.phone
            party.minor = stored.minor
            return party
        }
        value.threatOfViolence = try row.decode(Bool.self, at: 8)
        value.threatOfSelfHarm = try row.decode(Bool.self, at: 9)
        value.repeatIncident = try row.decode(Bool.self, at: 10)
        value.priorPoliceCalls = Int32(try row.decode(Int.self, at: 11))
        value.openedAt = try row.decode(Date.self, at: 12).wireTimestamp
        return value
    }
}

extension Pingan_Dispute_V1_Case {
    /// The case as most callers see it: names and phones masked.
    var masked: Pingan_Dispute_V1_Case {
        var copy = self
        copy.parties = parties.map { party in
            var masked = party
            masked.name = Masking.name(party.name)
            masked.phone = Masking.phone(party.phone)
            return masked
        }
        return copy
    }
}
