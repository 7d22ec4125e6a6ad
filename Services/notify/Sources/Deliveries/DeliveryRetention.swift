import Foundation
import PinganPostgres

/// Keeps the record of what notify-service pushed for a term, not for ever: a delivery that
/// is finished (delivered, or dropped when its subscription was removed) is deleted with its
/// attempts ``keep`` after it was queued, and a text to a resident ``keep`` after it was sent.
///
/// A delivery holds the exact bytes it sent, and a case notice's summary may quote what staff
/// typed about the people in it; the receivers keep their own copy, and the case keeps its
/// history, so notify-service's is only the proof that a push went out and when. A delivery
/// still being retried is never deleted: a warning is not dropped by growing old.
///
/// The oldest go first, a batch at a time, rows locked with `SKIP LOCKED`, so replicas running
/// the job at once delete different rows.
struct DeliveryRetention: Sendable {
    let pool: PostgresPool
    /// How long after a push was queued (or a text sent) its record is kept.
    let keep: TimeInterval

    /// Six months, the floor for network logs (网络安全法 art. 21): what a push carried and
    /// whether it arrived is that kind of record.
    static let defaultDays = 180
    /// Rows of each table deleted per transaction.
    static let batch = 1_000

    /// Deletes up to `limit` finished deliveries (with their attempts) and up to `limit` texts
    /// whose term ended before `now`.
    /// - Returns: the larger of the two counts; fewer than `limit` means none is left for now.
    func run(now: Date, limit: Int) async throws -> Int {
        let cutoff = now.addingTimeInterval(-keep)
        return try await pool.transaction { transaction in
            let due = try await transaction.query(
                """
                SELECT id FROM notify.deliveries
                WHERE (delivered_at IS NOT NULL OR next_attempt_at = 'infinity') AND created_at < $1
                ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED
                """,
                [cutoff, limit]
            ).map { try $0.decode(UUID.self, at: 0).uuidString }
            let results = try await transaction.pipeline([
                ("DELETE FROM notify.attempts WHERE delivery_id = ANY($1::uuid[])", [due]),
                ("DELETE FROM notify.deliveries WHERE id = ANY($1::uuid[])", [due]),
                (
                    """
                    DELETE FROM notify.resident_texts WHERE event_id = ANY(ARRAY(
                        SELECT event_id FROM notify.resident_texts WHERE sent_at < $1
                        ORDER BY sent_at LIMIT $2 FOR UPDATE SKIP LOCKED
                    ))
                    """,
                    [cutoff, limit]
                ),
            ])
            return max(due.count, results[2].affectedRows)
        }
    }
}
