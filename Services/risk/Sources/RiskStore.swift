import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain
import PinganOutbox
import PinganPostgres
import SwiftProtobuf

/// Where assessments, their history and warnings with their closed loop live.
protocol RiskStore: Sendable {
    /// Scores the case's facts once per event: appends the score to the history, and raises,
    /// regroups or leaves its warning as `decide` says, with the events to notify-service.
    func assess(
        _ facts: Pingan_Risk_V1_AssessCaseRequest, case id: UUID, village: DivisionCode, score: RiskScore, threshold: Int,
        applying event: EventDelivery, now: Date, decide: (OpenWarning?) -> WarningAction
    ) async throws -> Pingan_Risk_V1_Assessment
    func assessment(of id: UUID) async throws -> Pingan_Risk_V1_Assessment?
    /// Scores again, with `score`, up to `limit` open cases whose score time alone has
    /// changed by `now`; returns how many.
    func rescoreDue(now: Date, limit: Int, score: (Pingan_Risk_V1_AssessCaseRequest) -> RiskScore, threshold: Int,
                    decide: (RiskScore, DivisionCode, OpenWarning?) -> WarningAction) async throws -> Int
    /// Warnings about cases under `root`, newest first, after `cursor`.
    func warnings(under root: DivisionCode, openOnly: Bool, after cursor: PageCursor?, limit: Int) async throws -> [Pingan_Risk_V1_Warning]
    func warning(_ id: UUID) async throws -> Pingan_Risk_V1_Warning?
    /// Takes the loop's next step; `nil` when the warning is not where the step may follow.
    func advance(_ id: UUID, _ step: WarningStep, text: String?, by actor: String, now: Date) async throws -> Pingan_Risk_V1_Warning?
    /// Escalates raised warnings whose acknowledgement is overdue by `now` one level up, with
    /// a notice each; returns how many.
    func escalateUnacknowledged(now: Date, window: Duration, limit: Int) async throws -> Int
    /// Warnings raised and acknowledged per village under `root` during `month`.
    func facts(under root: DivisionCode, in month: Month) async throws -> [Pingan_Risk_V1_VillageWarningFacts]
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

/// Everything in schema `risk`.
struct PostgresRiskStore: RiskStore {
    static let warningColumns = """
        w.id, w.case_id, w.centre_code, w.score, w.status, w.raised_at, w.village_code, w.count,
        w.assignee, w.feedback, w.evaluation, w.outcome, w.escalates_at
        """

    let pool: PostgresPool
    let outbox: Outbox
    var inbox: EventInbox { EventInbox(pool: pool, outbox: outbox) }

    func assess(
        _ facts: Pingan_Risk_V1_AssessCaseRequest, case id: UUID, village: DivisionCode, score: RiskScore, threshold: Int,
        applying event: EventDelivery, now: Date, decide: (OpenWarning?) -> WarningAction
    ) async throws -> Pingan_Risk_V1_Assessment {
        // The assessment's row is locked before the warning's, in the order the rescoring
        // chore takes them, so the two never wait on each other. With its history, that is
        // all an assessment reads: the answer is built from what is written.
        let reads = [
            ("SELECT warning_id FROM risk.assessments WHERE case_id = $1 FOR UPDATE", [id] as [any PostgresEncodable]),
            Self.openWarning(of: id),
            Self.history(of: id),
        ]
        return try await inbox.apply(event, reading: reads) { change in
            let transaction = change.transaction, read = change.read
            guard change.firstDelivery else {
                guard let assessment = try await Self.assessment(transaction, case: id) else { throw RiskStoreError.vanished(id) }
                return assessment
            }
            let now = now.atPostgresPrecision
            let warning = try await record(transaction, facts, case: id, village: village, score: score, threshold: threshold, now: now,
                                           action: decide(try Self.decodeOpenWarning(read[1])))
            var assessment = Pingan_Risk_V1_Assessment()
            assessment.caseID = id.wire
            assessment.villageCode = village.rawValue
            assessment.score = Int32(score.score)
            assessment.reasons = score.reasons
            assessment.warningID = try (warning ?? read[0].first?.decode(UUID?.self, at: 0))?.wire ?? ""
            assessment.assessedAt = now.wireTimestamp
            assessment.modelVersion = score.modelVersion
            assessment.threshold = Int32(threshold)
            var change = Pingan_Risk_V1_ScoreChange()
            change.score = Int32(score.score)
            change.modelVersion = score.modelVersion
            change.assessedAt = now.wireTimestamp
            assessment.history = try Self.decodeHistory(read[2]) + [change]
            return assessment
        }
    }

    private static func history(of id: UUID) -> (sql: String, parameters: [any PostgresEncodable]) {
        ("SELECT score, model_version, assessed_at FROM risk.assessment_history WHERE case_id = $1 ORDER BY id", [id])
    }

    private static func decodeHistory(_ rows: PostgresRows) throws -> [Pingan_Risk_V1_ScoreChange] {
        try rows.map { row in
            var change = Pingan_Risk_V1_ScoreChange()
            change.score = Int32(try row.decode(Int.self, at: 0))
            change.modelVersion = try row.decode(String.self, at: 1)
            change.assessedAt = try row.decode(Date.self, at: 2).wireTimestamp
            return change
        }
    }

    /// The case's warning that is not closed yet, locked: a new score acts on it.
    private static func openWarning(of id: UUID) -> (sql: String, parameters: [any PostgresEncodable]) {
        ("SELECT id, score FROM risk.warnings WHERE case_id = $1 AND status <> 'closed' FOR UPDATE", [id])
    }

    private static func decodeOpenWarning(_ rows: PostgresRows) throws -> OpenWarning? {
        try rows.first.map { OpenWarning(id: try $0.decode(UUID.self, at: 0), score: try $0.decode(Int.self, at: 1)) }
    }

    /// Stores a score with the facts behind it and takes `action` on the case's warning
    /// (decided from the one ``openWarning(of:)`` locked), inside the caller's transaction.
    /// - Returns: the warning the action raised or regrouped into, if any.
    @discardableResult
    private func record(
        _ transaction: PostgresConnection, _ facts: Pingan_Risk_V1_AssessCaseRequest, case id: UUID, village: DivisionCode,
        score: RiskScore, threshold: Int, now: Date, action: WarningAction
    ) async throws -> UUID? {
        let reasons = PostgresJSON("[" + (try score.reasons.map { try $0.jsonString() }.joined(separator: ",")) + "]")
        let warning: UUID? = switch action {
        case .none: nil
        case .raise: UUID.random()
        case let .regroup(id, _, _): id
        }
        // The writes below read nothing back: they travel with the next read, or with COMMIT.
        // The assessment goes first: a new warning refers to it.
        try await transaction.queue(
            """
            INSERT INTO risk.assessments (case_id, village_code, score, threshold, reasons, model_version, assessed_at, warning_id, facts, closed, rescore_at)
            VALUES ($1, $2, $3, $7, $4, $5, $6, $8, $9, $10, $11)
            ON CONFLICT (case_id) DO UPDATE SET score = $3, reasons = $4, model_version = $5, assessed_at = $6, village_code = $2, threshold = $7,
                warning_id = coalesce($8, risk.assessments.warning_id), facts = $9, closed = $10, rescore_at = $11
            """,
            [id, village.rawValue, score.score, reasons, score.modelVersion, now, threshold, warning,
             Data(try facts.serializedBytes() as [UInt8]), facts.closed, facts.closed ? nil : RiskModel.nextChange(facts, after: now)]
        )
        try await transaction.queue(
            "INSERT INTO risk.assessment_history (case_id, score, model_version, reasons, assessed_at) VALUES ($1, $2, $3, $4, $5)",
            [id, score.score, score.modelVersion, reasons, now]
        )
        switch action {
        case .none:
            break
        case let .raise(owner, notify, escalatesAt):
            guard let warning else { break }
            try await transaction.queue(
                """
                INSERT INTO risk.warnings (id, case_id, centre_code, village_code, score, raised_at, escalates_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7)
                """,
                [warning, id, owner.rawValue, village.rawValue, score.score, now, escalatesAt]
            )
            try await step(transaction, warning, kind: "raised", note: "score \(score.score) (\(score.modelVersion)); warned \(notify)", actor: "risk-service", at: now)
            try await outbox.enqueue(transaction, topic: WarningEvents.raised, WarningEvents.raised(
                warning: warning, case: id, centre: notify, village: village, incidentID: facts.incidentID, category: facts.category, score: score
            ))
        case let .regroup(warning, newScore, rose):
            try await transaction.queue("UPDATE risk.warnings SET count = count + 1, score = $2 WHERE id = $1", [warning, newScore])
            try await step(transaction, warning, kind: rose ? "score_rose" : "warned_again", note: "score \(score.score) (\(score.modelVersion))", actor: "risk-service", at: now)
            if rose, let centre = try await transaction.query("SELECT centre_code FROM risk.warnings WHERE id = $1", [warning]).first
                .flatMap({ try? DivisionCode(validating: try $0.decode(String.self, at: 0)) }) {
                try await outbox.enqueue(transaction, topic: WarningEvents.notice, WarningEvents.escalated(
                    case: id, centre: centre, village: village, summary: "the warning's score rose to \(score.score)"
                ))
            }
        }
        return warning
    }

    func rescoreDue(now: Date, limit: Int, score: (Pingan_Risk_V1_AssessCaseRequest) -> RiskScore, threshold: Int,
                    decide: (RiskScore, DivisionCode, OpenWarning?) -> WarningAction) async throws -> Int {
        try await outbox.transaction(pool) { transaction in
            let due = try await transaction.query(
                """
                SELECT case_id, village_code, facts FROM risk.assessments
                WHERE rescore_at <= $1 AND NOT closed AND facts IS NOT NULL
                ORDER BY rescore_at LIMIT $2 FOR UPDATE SKIP LOCKED
                """,
                [now, limit]
            )
            for row in due {
                let id = try row.decode(UUID.self, at: 0)
                let village = try DivisionCode(validating: try row.decode(String.self, at: 1))
                var facts = try Pingan_Risk_V1_AssessCaseRequest(serializedBytes: [UInt8](try row.decode(Data.self, at: 2)))
                facts.asOf = now.wireTimestamp
                let scored = score(facts)
                let read = Self.openWarning(of: id)
                let open = try Self.decodeOpenWarning(try await transaction.query(read.sql, read.parameters))
                try await record(transaction, facts, case: id, village: village, score: scored, threshold: threshold, now: now,
                                 action: decide(scored, village, open))
            }
            return due.count
        }
    }

    func assessment(of id: UUID) async throws -> Pingan_Risk_V1_Assessment? {
        try await pool.withConnection { try await Self.assessment($0, case: id) }
    }

    func warnings(under root: DivisionCode, openOnly: Bool, after cursor: PageCursor?, limit: Int) async throws -> [Pingan_Risk_V1_Warning] {
        try await pool.query(
            """
            SELECT \(Self.warningColumns) FROM risk.warnings w
            WHERE w.village_code BETWEEN $1 AND $2 AND (NOT $3 OR w.status <> 'closed')
              AND ($4::timestamptz IS NULL OR (w.raised_at, w.id) < ($4, $5))
            ORDER BY w.raised_at DESC, w.id DESC LIMIT $6
            """,
            [root.rawValue, root.lastInSubtree, openOnly, cursor?.time, cursor?.id, limit]
        ).map(Self.decodeWarning)
    }

    func warning(_ id: UUID) async throws -> Pingan_Risk_V1_Warning? {
        try await pool.withConnection { connection in
            guard var warning = try await connection.query("SELECT \(Self.warningColumns) FROM risk.warnings w WHERE w.id = $1", [id]).first.map(Self.decodeWarning)
            else { return nil }
            warning.steps = try await connection.query("SELECT at, kind, note, actor FROM risk.warning_steps WHERE warning_id = $1 ORDER BY id", [id]).map { row in
                var step = Pingan_Risk_V1_WarningStep()
                step.at = try row.decode(Date.self, at: 0).wireTimestamp
                step.kind = try row.decode(String.self, at: 1)
                step.note = try row.decode(String.self, at: 2)
                step.actor = try row.decode(String.self, at: 3)
                return step
            }
            return warning
        }
    }

    func advance(_ id: UUID, _ next: WarningStep, text: String?, by actor: String, now: Date) async throws -> Pingan_Risk_V1_Warning? {
        let moved = try await pool.transaction { transaction in
            let set = next.column.map { ", \($0) = $4" } ?? ""
            let rows = try await transaction.query(
                """
                UPDATE risk.warnings SET status = $2, escalates_at = NULL, closed_at = CASE WHEN $2 = 'closed' THEN $3::timestamptz END\(set)
                WHERE id = $1 AND status = ANY($5)
                """,
                [id, next.to, now, text ?? "", next.from]
            )
            guard rows.affectedRows == 1 else { return false }
            try await step(transaction, id, kind: next.rawValue, note: text ?? "", actor: actor, at: now)
            return true
        }
        return moved ? try await warning(id) : nil
    }

    func escalateUnacknowledged(now: Date, window: Duration, limit: Int) async throws -> Int {
        try await outbox.transaction(pool) { transaction in
            let due = try await transaction.query(
                """
                SELECT id, case_id, centre_code, village_code FROM risk.warnings
                WHERE status = 'raised' AND escalates_at <= $1 ORDER BY escalates_at LIMIT $2 FOR UPDATE SKIP LOCKED
                """,
                [now, limit]
            )
            for row in due {
                let id = try row.decode(UUID.self, at: 0)
                let centre = try DivisionCode(validating: try row.decode(String.self, at: 2))
                let village = try DivisionCode(validating: try row.decode(String.self, at: 3))
                // The city has no level above: its warning is pushed again each window.
                let above = centre.parent ?? centre
                try await transaction.query(
                    "UPDATE risk.warnings SET centre_code = $2, escalates_at = $3 WHERE id = $1",
                    [id, above.rawValue, now.addingTimeInterval(window.seconds)]
                )
                try await step(transaction, id, kind: "escalated", note: "not acknowledged in time: \(centre) → \(above)", actor: "risk-service", at: now)
                try await outbox.enqueue(transaction, topic: WarningEvents.notice, WarningEvents.escalated(
                    case: try row.decode(UUID.self, at: 1), centre: above, village: village,
                    summary: "a warning from \(centre) was not acknowledged in time"
                ))
            }
            return due.count
        }
    }

    func facts(under root: DivisionCode, in month: Month) async throws -> [Pingan_Risk_V1_VillageWarningFacts] {
        let (start, end) = month.range
        return try await pool.query(
            """
            SELECT village_code, count(*), count(*) FILTER (WHERE status <> 'raised'),
                   count(*) FILTER (WHERE status <> 'raised' AND NOT EXISTS (
                       SELECT 1 FROM risk.warning_steps s WHERE s.warning_id = w.id AND s.kind = 'escalated'))
            FROM risk.warnings w
            WHERE village_code BETWEEN $1 AND $2 AND raised_at >= $3 AND raised_at < $4
            GROUP BY village_code ORDER BY village_code
            """,
            [root.rawValue, root.lastInSubtree, start, end]
        ).map { row in
            var facts = Pingan_Risk_V1_VillageWarningFacts()
            facts.villageCode = try row.decode(String.self, at: 0)
            facts.raised = Int32(try row.decode(Int.self, at: 1))
            facts.acknowledged = Int32(try row.decode(Int.self, at: 2))
            facts.acknowledgedInTime = Int32(try row.decode(Int.self, at: 3))
            return facts
        }
    }

    private func step(_ transaction: PostgresConnection, _ warning: UUID, kind: String, note: String, actor: String, at: Date) async throws {
        try await transaction.queue(
            "INSERT INTO risk.warning_steps (warning_id, at, kind, note, actor) VALUES ($1, $2, $3, $4, $5)", [warning, at, kind, note, actor]
        )
    }

    /// The case's assessment and its history, read in one round trip.
    private static func assessment(_ connection: PostgresConnection, case id: UUID) async throws -> Pingan_Risk_V1_Assessment? {
        let reads = try await connection.pipeline([
            ("SELECT case_id, village_code, score, reasons, warning_id, assessed_at, model_version, threshold FROM risk.assessments WHERE case_id = $1", [id]),
            history(of: id),
        ])
        guard let row = reads[0].first else { return nil }
        var assessment = Pingan_Risk_V1_Assessment()
        assessment.caseID = try row.decode(UUID.self, at: 0).wire
        assessment.villageCode = try row.decode(String.self, at: 1)
        assessment.score = Int32(try row.decode(Int.self, at: 2))
        assessment.reasons = try Pingan_Risk_V1_Reason.array(fromJSONString: try row.decode(PostgresJSON.self, at: 3).text)
        assessment.warningID = try row.decode(UUID?.self, at: 4)?.wire ?? ""
        assessment.assessedAt = try row.decode(Date.self, at: 5).wireTimestamp
        assessment.modelVersion = try row.decode(String.self, at: 6)
        assessment.threshold = Int32(try row.decode(Int.self, at: 7))
        assessment.history = try decodeHistory(reads[1])
        return assessment
    }

    static func decodeWarning(_ row: PostgresRow) throws -> Pingan_Risk_V1_Warning {
        var warning = Pingan_Risk_V1_Warning()
        warning.id = try row.decode(UUID.self, at: 0).wire
        warning.caseID = try row.decode(UUID.self, at: 1).wire
        warning.centreCode = try row.decode(String.self, at: 2)
        warning.score = Int32(try row.decode(Int.self, at: 3))
        warning.status = switch try row.decode(String.self, at: 4) {
        case "raised": .raised
        case "acknowledged": .acknowledged
        case "handling": .handling
        case "fed_back": .fedBack
        case "evaluated": .evaluated
        case "closed": .closed
        default: .unspecified
        }
        warning.raisedAt = try row.decode(Date.self, at: 5).wireTimestamp
        warning.villageCode = try row.decode(String.self, at: 6)
        warning.count = Int32(try row.decode(Int.self, at: 7))
        warning.assignee = try row.decode(String?.self, at: 8) ?? ""
        warning.feedback = try row.decode(String?.self, at: 9) ?? ""
        warning.evaluation = try row.decode(String?.self, at: 10) ?? ""
        warning.outcome = try row.decode(String?.self, at: 11) ?? ""
        warning.escalatesAt = try row.decode(Date?.self, at: 12)?.wireTimestamp ?? ""
        return warning
    }
}
