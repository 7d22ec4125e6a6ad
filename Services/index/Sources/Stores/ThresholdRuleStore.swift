import Foundation
import PinganDomain
import PinganPostgres

/// Where the threshold rules centres set for the units they review are kept; a centre with
/// none uses ``ThresholdRule/seedDefault``.
protocol ThresholdRuleStore: Sendable {
    /// The centre's own rule; `nil` when it set none.
    func rule(for centre: DivisionCode) async throws -> ThresholdRule?
    /// Sets (or replaces) the centre's rule, recording who set it and when.
    func setRule(_ rule: ThresholdRule, for centre: DivisionCode, by: String, now: Date) async throws
}

/// Threshold rules in schema `index`.
struct PostgresThresholdRuleStore: ThresholdRuleStore {
    let pool: PostgresPool

    func rule(for centre: DivisionCode) async throws -> ThresholdRule? {
        try await pool.query("SELECT \(IndexRows.ruleColumns) FROM index.threshold_rules WHERE centre_code = $1", [centre.rawValue])
            .first.map { try IndexRows.decodeRule($0).rule }
    }

    func setRule(_ rule: ThresholdRule, for centre: DivisionCode, by: String, now: Date) async throws {
        try await pool.query(
            """
            INSERT INTO index.threshold_rules (\(IndexRows.ruleColumns), set_by, set_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
            ON CONFLICT (centre_code) DO UPDATE SET share_at = EXCLUDED.share_at, remind_below = EXCLUDED.remind_below,
                summon_below = EXCLUDED.summon_below, share_days = EXCLUDED.share_days, remind_days = EXCLUDED.remind_days,
                summon_days = EXCLUDED.summon_days, share_owner = EXCLUDED.share_owner, remind_owner = EXCLUDED.remind_owner,
                summon_owner = EXCLUDED.summon_owner, set_by = EXCLUDED.set_by, set_at = EXCLUDED.set_at
            """,
            [centre.rawValue, rule.shareAt, rule.remindBelow, rule.summonBelow, rule.shareDays, rule.remindDays, rule.summonDays,
             rule.shareOwner, rule.remindOwner, rule.summonOwner, by, now]
        )
    }
}
