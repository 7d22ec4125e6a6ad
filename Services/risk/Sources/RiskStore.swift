import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganOutbox
import PinganPostgres
import SwiftProtobuf

/// Assessments and warnings in schema `risk`.
struct RiskStore: Sendable {
    static let warningTopic = "warning.raised"

    let pool: PostgresPool
    let threshold: Int
    let wakeup: OutboxWakeup

    /// Scores the case once; a redelivered or repeated request returns the stored assessment.
    /// A score at or over the threshold raises one warning to the case's township centre, and
    /// its event commits in the same transaction.
    func assess(_ facts: Pingan_Risk_V1_AssessCaseRequest, case id: UUID, village: DivisionCode, eventID: UUID) async throws -> Pingan_Risk_V1_Assessment {
        defer { wakeup.signal() }
        return try await pool.transaction { transaction in
            if try await Inbox.markApplied(transaction, schema: "risk", eventID: eventID) {
                let scored = RiskRules.score(facts)
                let reasons = try scored.reasons.map { try $0.jsonString() }.joined(separator: ",")
                let inserted = try await transaction.query(
                    """
                    INSERT INTO risk.assessments (case_id, village_code, score, threshold, reasons)
                    VALUES ($1, $2, $3, $4, $5) ON CONFLICT (case_id) DO NOTHING
                    """,
                    [id, village.rawValue, scored.score, threshold, PostgresJSON("[\(reasons)]")]
                )
                if inserted.affectedRows == 1, scored.score >= threshold {
                    let warning = UUID()
                    let centre = Self.owningCentre(of: village)
                    try await transaction.query(
                        "INSERT INTO risk.warnings (id, case_id, centre_code, village_code, score) VALUES ($1, $2, $3, $4, $5)",
                        [warning, id, centre.rawValue, village.rawValue, scored.score]
                    )
                    try await transaction.query("UPDATE risk.assessments SET warning_id = $2 WHERE case_id = $1", [id, warning])
                    var event = Pingan_Notify_V1_DeliverWarningRequest()
                    event.warningID = warning.uuidString
                    event.caseID = id.uuidString
                    event.centreCode = centre.rawValue
                    event.villageCode = village.rawValue
                    event.incidentID = facts.incidentID
                    event.score = Int32(scored.score)
                    event.reasons = scored.reasons.map { "\($0.rule) +\($0.points): \($0.explanation)" }
                    try await Outbox.enqueue(transaction, schema: "risk", topic: Self.warningTopic, event)
                }
            }
            guard let assessment = try await Self.assessment(transaction, case: id) else {
                throw ConnectError(.internal, "assessment of case \(id) vanished")
            }
            return assessment
        }
    }

    /// The centre that owns a case: the township (or street) of its village, which the seed's
    /// example warns; a case filed directly at a township belongs to it.
    static func owningCentre(of code: DivisionCode) -> DivisionCode {
        code.level == .village ? (code.parent ?? code) : code
    }

    func assessment(of id: UUID) async throws -> Pingan_Risk_V1_Assessment? {
        try await pool.withConnection { try await Self.assessment($0, case: id) }
    }

    func warnings(under centre: DivisionCode) async throws -> [Pingan_Risk_V1_Warning] {
        try await pool.query(
            """
            SELECT id, case_id, centre_code, score, status, raised_at FROM risk.warnings
            WHERE centre_code BETWEEN $1 AND $2 ORDER BY raised_at DESC LIMIT 500
            """,
            [centre.rawValue, centre.lastInSubtree]
        ).map(Self.decodeWarning)
    }

    /// Acknowledges a warning inside `principal`'s jurisdiction; `nil` if there is none.
    func acknowledge(_ id: UUID, by principal: Principal) async throws -> Pingan_Risk_V1_Warning? {
        try await pool.transaction { transaction in
            guard let row = try await transaction.query(
                "SELECT id, case_id, centre_code, score, status, raised_at FROM risk.warnings WHERE id = $1 FOR UPDATE", [id]
            ).first else { return nil }
            let warning = try Self.decodeWarning(row)
            guard let centre = try? DivisionCode(validating: warning.centreCode), principal.covers(centre) else { return nil }
            try await transaction.query(
                """
                UPDATE risk.warnings SET status = 'acknowledged', acknowledged_at = clock_timestamp(), acknowledged_by = $2
                WHERE id = $1 AND status = 'raised'
                """,
                [id, principal.subject]
            )
            var acknowledged = warning
            acknowledged.status = .acknowledged
            return acknowledged
        }
    }

    func facts(under root: DivisionCode, in month: Month) async throws -> [Pingan_Risk_V1_VillageWarningFacts] {
        let (start, end) = month.range
        return try await pool.query(
            """
            SELECT village_code, count(*), count(*) FILTER (WHERE status = 'acknowledged')
            FROM risk.warnings
            WHERE village_code BETWEEN $1 AND $2 AND raised_at >= $3 AND raised_at < $4
            GROUP BY village_code ORDER BY village_code
            """,
            [root.rawValue, root.lastInSubtree, start, end]
        ).map { row in
            var facts = Pingan_Risk_V1_VillageWarningFacts()
            facts.villageCode = try row.decode(String.self, at: 0)
            facts.raised = Int32(try row.decode(Int.self, at: 1))
            facts.acknowledged = Int32(try row.decode(Int.self, at: 2))
            return facts
        }
    }

    private static func assessment(_ connection: PostgresConnection, case id: UUID) async throws -> Pingan_Risk_V1_Assessment? {
        guard let row = try await connection.query(
            "SELECT case_id, village_code, score, threshold, reasons, warning_id, assessed_at FROM risk.assessments WHERE case_id = $1", [id]
        ).first else { return nil }
        var assessment = Pingan_Risk_V1_Assessment()
        assessment.caseID = try row.decode(UUID.self, at: 0).uuidString
        assessment.villageCode = try row.decode(String.self, at: 1)
        assessment.score = Int32(try row.decode(Int.self, at: 2))
        assessment.threshold = Int32(try row.decode(Int.self, at: 3))
        assessment.reasons = try Pingan_Risk_V1_Reason.array(fromJSONString: try row.decode(PostgresJSON.self, at: 4).text)
        assessment.warningID = try row.decode(UUID?.self, at: 5)?.uuidString ?? ""
        assessment.assessedAt = try row.decode(Date.self, at: 6).wireTimestamp
        return assessment
    }

    private static func decodeWarning(_ row: PostgresRow) throws -> Pingan_Risk_V1_Warning {
        var warning = Pingan_Risk_V1_Warning()
        warning.id = try row.decode(UUID.self, at: 0).uuidString
        warning.caseID = try row.decode(UUID.self, at: 1).uuidString
        warning.centreCode = try row.decode(String.self, at: 2)
        warning.score = Int32(try row.decode(Int.self, at: 3))
        warning.status = try row.decode(String.self, at: 4) == "acknowledged" ? .acknowledged : .raised
        warning.raisedAt = try row.decode(Date.self, at: 5).wireTimestamp
        return warning
    }
}
