import Foundation
import PinganDomain
import PinganPostgres
import SwiftProtobuf

/// The producer's half of the transactional outbox: an event is written in the same
/// transaction as the change it announces, so either both happen or neither does; the
/// service's ``OutboxRelay`` delivers it afterwards.
public struct Outbox: Sendable {
    /// The schema that owns the `outbox` and `inbox` tables.
    public let schema: String
    /// Wakes this process's relay when a transaction that wrote an event commits.
    public let wakeup: OutboxWakeup

    public init(schema: String, wakeup: OutboxWakeup = OutboxWakeup()) {
        self.schema = schema
        self.wakeup = wakeup
    }

    /// The outbox and inbox tables of `schema`, as one of that schema's migrations.
    public static func migration(version: Int, schema: String) -> Migration {
        Migration(version: version, name: "outbox and inbox", sql: """
            CREATE TABLE \(schema).outbox (
                id              uuid PRIMARY KEY,
                topic           text NOT NULL,
                payload         bytea NOT NULL,
                created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
                attempts        integer NOT NULL DEFAULT 0,
                next_attempt_at timestamptz NOT NULL DEFAULT clock_timestamp(),
                delivered_at    timestamptz,
                parked_at       timestamptz,
                last_error      text
            );
            CREATE INDEX outbox_pending ON \(schema).outbox (next_attempt_at)
                WHERE delivered_at IS NULL AND parked_at IS NULL;
            CREATE TABLE \(schema).inbox (
                event_id   uuid PRIMARY KEY,
                applied_at timestamptz NOT NULL DEFAULT now()
            );
            """)
    }

    /// Runs `body` in one transaction and wakes the relay once it has committed, so events
    /// `body` enqueued leave at once rather than at the next poll.
    public func transaction<T>(_ pool: PostgresPool, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        let result = try await pool.transaction(body)
        wakeup.signal()
        return result
    }

    /// Events are applied, and relays record their rounds, by a fixed set of small statements
    /// keyed by ids, where a plan made for the parameters at hand is no better than one made
    /// once; queued in their transaction, it travels with the next statement. PostgreSQL
    /// keeps planning those whose key is an array (`= ANY($1)`) afresh on every execution,
    /// since a plan for a known one-element array always looks cheaper: with the shipped rules
    /// risk-service spent 175 µs of each report planning one cluster read whose execution took
    /// 9 µs, and 0.43 ms of each report went to planning across the mesh.
    static let genericPlans = "SET LOCAL plan_cache_mode = force_generic_plan"

    /// Writes `message` as an event on `topic`; call it inside the transaction of the change.
    /// - Returns: the event's id, which the consumer uses as its idempotency key.
    @discardableResult
    public func enqueue(_ transaction: PostgresConnection, topic: String, _ message: some SwiftProtobuf.Message) async throws -> UUID {
        let id = UUID.random()
        let payload: [UInt8] = try message.serializedBytes()
        // Nothing reads the insert back, so it travels with the transaction's next statement.
        try await transaction.queue(
            "INSERT INTO \(schema).outbox (id, topic, payload) VALUES ($1, $2, $3)",
            [id, topic, Data(payload)]
        )
        return id
    }
}
