import Foundation
import PinganDomain
import PinganOutbox
import PinganPostgres

/// Applies the rules' decisions inside a transaction of ``PostgresRiskStore``. Nothing here
/// reads rows back: every statement is queued, and travels with the transaction's next
/// statement or with COMMIT, so applying a decision costs no round trip of its own.
struct PostgresRiskWrites: Sendable {
    let transaction: PostgresConnection
    let outbox: Outbox

    /// Records a score and what `decision` does to the case's warning.
    ///
    /// - Parameter heldBy: an open cluster warning the case is a member of that warns the same
    ///   centre as `decision` would (``WarningDecision/heldBy(_:)``); a cluster warning another
    ///   centre never comes here. Unless the score is decisive (violence, self-harm), the case's
    ///   own pushes are held back while it is open (Alertmanager's inhibition): a new warning is
    ///   recorded without its push or its own escalation (the cluster escalates), naming the
    ///   cluster in `held_by`, and a risen score pushes nothing.
    @discardableResult
    func record(_ scored: ScoredCase, threshold: Int, decision: WarningDecision, heldBy: UUID? = nil) async throws -> UUID? {
        let held = scored.score.decisive ? nil : heldBy
        let assessed = scored.assessed, score = scored.score, now = scored.at
        let reasons = try RiskRows.encodeReasons(score.reasons)
        let warning: UUID? = switch decision {
        case .none: nil
        case .raise: UUID.random()
        case let .regroup(id, _, _, _, _): id
        }
        // The assessment goes first: a new warning refers to it.
        try await transaction.queue(
            """
            INSERT INTO risk.assessments (case_id, village_code, score, threshold, reasons, model_version, assessed_at, warning_id, facts, closed, rescore_at, level)
            VALUES ($1, $2, $3, $7, $4, $5, $6, $8, $9, $10, $11, $12)
            ON CONFLICT (case_id) DO UPDATE SET score = $3, reasons = $4, model_version = $5, assessed_at = $6, village_code = $2, threshold = $7,
                warning_id = coalesce($8, risk.assessments.warning_id), facts = $9, closed = $10, rescore_at = $11, level = $12
            """,
            [assessed.id, assessed.village.rawValue, score.score, reasons, score.modelVersion, now, threshold, warning,
             try RiskRows.encodeFacts(assessed), assessed.facts.closed, scored.rescoreAt, score.level.rawValue]
        )
        try await transaction.queue(
            "INSERT INTO risk.assessment_history (case_id, score, model_version, reasons, assessed_at, level) VALUES ($1, $2, $3, $4, $5, $6)",
            [assessed.id, score.score, score.modelVersion, reasons, now, score.level.rawValue]
        )
        let scoreNote = "score \(score.score) (\(score.modelVersion), \(score.level.rawValue))"
        switch decision {
        case .none:
            break
        case let .raise(owner, notify, escalatesAt):
            guard let warning else { break }
            try await transaction.queue(
                """
                INSERT INTO risk.warnings (id, case_id, centre_code, village_code, score, raised_at, escalates_at, level, rules_version, held_by)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                """,
                [warning, assessed.id, owner.rawValue, assessed.village.rawValue, score.score, now, (held == nil ? escalatesAt : nil) as Date?, score.level.rawValue,
                 score.modelVersion, held]
            )
            if let held {
                try await RiskRows.queueStep(
                    transaction, warning, .raised, note: "\(scoreNote); held back: the case is a member of open cluster warning \(held.wire)", actor: Self.actor, at: now
                )
            } else {
                try await RiskRows.queueStep(transaction, warning, .raised, note: "\(scoreNote); warned \(notify)", actor: Self.actor, at: now)
                try await outbox.enqueue(transaction, WarningEvents.raised, WarningEvents.raised(
                    warning, case: scored, owner: owner, decisive: notify != owner, acknowledgeBy: escalatesAt
                ))
            }
        case let .regroup(id, newScore, rose, owner, level):
            try await transaction.queue("UPDATE risk.warnings SET count = count + 1, score = $2, level = $3 WHERE id = $1", [id, newScore, level.rawValue])
            try await RiskRows.queueStep(transaction, id, rose ? .scoreRose : .warnedAgain, note: scoreNote, actor: Self.actor, at: now)
            if rose, held == nil {
                try await outbox.enqueue(transaction, WarningEvents.notice, WarningEvents.escalated(
                    id, case: assessed.id, centre: owner, village: assessed.village, summary: "the warning's score rose to \(score.score)", level: level,
                    text: "风险分升至\(score.score)分，请及时处置"
                ))
            }
        }
        return warning
    }

    func escalate(_ escalations: [WarningEscalation], at now: Date) async throws {
        for escalation in escalations {
            try await transaction.queue(
                "UPDATE risk.warnings SET centre_code = $2, escalates_at = $3 WHERE id = $1",
                [escalation.warning, escalation.to.rawValue, escalation.nextEscalationAt]
            )
            try await RiskRows.queueStep(
                transaction, escalation.warning, .escalated, note: "not acknowledged in time: \(escalation.from) → \(escalation.to)", actor: Self.actor, at: now
            )
            try await outbox.enqueue(transaction, WarningEvents.notice, WarningEvents.escalated(
                escalation.warning, case: escalation.caseID, centre: escalation.to, village: escalation.village,
                summary: "a warning from \(escalation.from) was not acknowledged in time", level: escalation.level,
                text: escalation.from == escalation.to
                    ? "预警超时仍未签收，请及时签收"
                    : "\(Self.levelName(escalation.from))预警超时未签收，已升级至\(Self.levelName(escalation.to))，请及时签收",
                due: escalation.nextEscalationAt
            ))
        }
    }

    /// A centre's level as a push says it (乡镇（街道）级), since risk-service knows codes, not names.
    static func levelName(_ centre: DivisionCode) -> String {
        switch centre.level {
        case .city: "市级"
        case .county: "县（区）级"
        case .township: "乡镇（街道）级"
        case .village: "村（社区）级"
        }
    }

    /// Who the steps risk-service takes itself are recorded as taken by.
    static let actor = "risk-service"
}
