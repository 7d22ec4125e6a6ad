import Foundation
import PinganPostgres
import SwiftProtobuf

/// The transactional outbox: an event is written in the same transaction as the change it
/// announces, so either both happen or neither does; ``OutboxRelay`` delivers it afterwards.
public enum Outbox {
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

    /// Writes `message` as an event on `topic`; call it inside the transaction of the change.
    /// - Returns: the event's id, which the consumer uses as its idempotency key.
    @discardableResult
    public static func enqueue(
        _ transaction: PostgresConnection, schema: String, topic: String, _ message: some SwiftProtobuf.Message
    ) async throws -> UUID {
        let id = UUID()
        let payload: [UInt8] = try message.serializedBytes()
        try await transaction.query(
            "INSERT INTO \(schema).outbox (id, topic, payload) VALUES ($1, $2, $3)",
            [id, topic, Data(payload)]
        )
        return id
    }
}

/// The consumer's half: remembers which events it applied, so a redelivery changes nothing.
public enum Inbox {
    /// Records `eventID` as applied; returns false if it already was. Call it inside the
    /// transaction that applies the event, so the record and the effect commit together.
    public static func markApplied(_ transaction: PostgresConnection, schema: String, eventID: UUID) async throws -> Bool {
        let rows = try await transaction.query(
            "INSERT INTO \(schema).inbox (event_id) VALUES ($1) ON CONFLICT DO NOTHING", [eventID]
        )
        return rows.affectedRows == 1
    }
}
