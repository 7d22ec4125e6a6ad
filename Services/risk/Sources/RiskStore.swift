import Foundation
import PinganAccess
import PinganDomain
import PinganConnect
import PinganContracts
import PinganOutbox
import PinganPostgres
import SwiftProtobuf

/// Where assessments and warnings live.
protocol RiskStore: Sendable {
    /// Stores the decision for a case once, with its warning and the warning's event; a
    /// redelivered event returns the stored assessment unchanged.
    func record(_ decision: RiskDecision, for facts: Pingan_Risk_V1_AssessCaseRequest, case id: UUID, village: DivisionCode, applying event: EventDelivery) async throws -> Pingan_Risk_V1_Assessment
    func assessment(of id: UUID) async throws -> Pingan_Risk_V1_Assessment?
    /// Warnings of centres under `centre`, newest first.
    func warnings(under centre: DivisionCode) async throws -> [Pingan_Risk_V1_Warning]
    func warning(_ id: UUID) async throws -> Pingan_Risk_V1_Warning?
    /// Acknowledges a raised warning; an acknowledged one is returned unchanged.
    func acknowledge(_ id: UUID, by subject: String) async throws -> Pingan_Risk_V1_Warning?
    /// Warnings raised and acknowledged per village under `root` during `month`.
    func facts(under root: DivisionCode, in month: Month) async throws -> [Pingan_Risk_V1_VillageWarningFacts]
}

/// Assessments and warnings in schema `risk`.
struct PostgresRiskStore: RiskStore {
    let pool: PostgresPool
    let outbox: Outbox
    var inbox: EventInbox { EventInbox(pool: pool, outbox: outbox) }

    func record(_ decision: RiskDecision, for facts: Pingan_Risk_V1_AssessCaseRequest, case id: UUID, village: DivisionCode, applying event: EventDelivery) async throws -> Pingan_Risk_V1_Assessment {
        try await inbox.apply(event) { transaction, firstDelivery in
            if firstDelivery {
                let reasons = try decision.scored.reasons.map { try $0.jsonString() }.joined(separator: ",")
                let inserted = try await transaction.query(
                    """
                    INSERT INTO risk.assessments (case_id, village_code, score, threshold, reasons)
                    VALUES ($1, $2, $3, $4, $5) ON CONFLICT (case_id) DO NOTHING
                    """,
                    [id, village.rawValue, decision.scored.score, decision.threshold, PostgresJSON("[\(reasons)]")]
                )
                if inserted.affectedRows == 1, let centre = decision.warnedCentre {
                    let warning = UUID()
                    try await transaction.query(
                        "INSERT INTO risk.warnings (id, case_id, centre_code, village_code, score) VALUES ($1, $2, $3, $4, $5)",
                        [warning, id, centre.rawValue, village.rawValue, decision.scored.score]
                    )
                    try await transaction.query("UPDATE risk.assessments SET warning_id = $2 WHERE case_id = $1", [id, warning])
                    try await outbox.enqueue(transaction, topic: WarningEvents.raised, WarningEvents.raised(
                        warning: warning, case: id, centre: centre, village: village, incidentID: facts.incidentID, scored: decision.scored
                    ))
                }
            }
            guard let assessment = try await Self.assessment(transaction, case: id) else { throw RiskStoreError.vanished(id) }
            return assessment
        }
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

    /// Acknowledges a warning inside `principal`'s verifier; `nil` if there is none.
    func warning(_ id: UUID) async throws -> Pingan_Risk_V1_Warning? {
        try await pool.query(
            "SELECT id, case_id, centre_code, score, status, raised_at FROM risk.warnings WHERE id = $1", [id]
        ).first.map(Self.decodeWarning)
    }

    func acknowledge(_ id: UUID, by subject: String) async throws -> Pingan_Risk_V1_Warning? {
        try await pool.query(
            """
            UPDATE risk.warnings SET status = 'acknowledged', acknowledged_at = clock_timestamp(), acknowledged_by = $2
            WHERE id = $1 AND status = 'raised'
            """,
            [id, subject]
        )
        return try await warning(id)
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
        assessment.caseID = try row.decode(UUID.self, at: 0).wire
        assessment.villageCode = try row.decode(String.self, at: 1)
        assessment.score = Int32(try row.decode(Int.self, at: 2))
        assessment.threshold = Int32(try row.decode(Int.self, at: 3))
        assessment.reasons = try Pingan_Risk_V1_Reason.array(fromJSONString: try row.decode(PostgresJSON.self, at: 4).text)
        assessment.warningID = try row.decode(UUID?.self, at: 5)?.wire ?? ""
        assessment.assessedAt = try row.decode(Date.self, at: 6).wireTimestamp
        return assessment
    }

    private static func decodeWarning(_ row: PostgresRow) throws -> Pingan_Risk_V1_Warning {
        var warning = Pingan_Risk_V1_Warning()
        warning.id = try row.decode(UUID.self, at: 0).wire
        warning.caseID = try row.decode(UUID.self, at: 1).wire
        warning.centreCode = try row.decode(String.self, at: 2)
        warning.score = Int32(try row.decode(Int.self, at: 3))
        warning.status = try row.decode(String.self, at: 4) == "acknowledged" ? .acknowledged : .raised
        warning.raisedAt = try row.decode(Date.self, at: 5).wireTimestamp
        return warning
    }
}

/// A store invariant that did not hold; a bug, answered `internal`.
enum RiskStoreError: Error, CustomStringConvertible {
    case vanished(UUID)

    var description: String {
        switch self {
        case .vanished(let id): "the assessment of case \(id.wire) vanished inside its transaction"
        }
    }
}
