import Foundation
import Logging
import PinganAccess
import PinganConnect
import PinganContracts
import PinganPostgres
import PinganRuntime
import ServiceLifecycle

/// Delivers a service's outbox to the consumers, at least once, in the background.
///
/// Run it with ``DueWorkDispatcher``. A delivered event is marked delivered; a failed one is
/// retried with ``Backoff/relay`` and parked after ``maxAttempts`` (at once if the consumer
/// called it invalid), where an operator can see and replay it.
public struct OutboxRelay: DueWork {
    /// Sends one event; throwing means "not delivered, try again later".
    public typealias Deliver = @Sendable (_ eventID: UUID, _ payload: [UInt8]) async throws -> Void

    public struct Event: Sendable {
        public let id: UUID
        public let topic: String
        public let payload: [UInt8]
        public let attempts: Int
    }

    let schema: String
    let consumers: [String: Deliver]
    let logger: Logger
    public var maxAttempts = 25
    public var backoff = Backoff.relay
    /// How long a parked event keeps its payload for an operator to inspect and replay; then
    /// the payload, which may carry parties' names and phones, is erased (id, topic, times
    /// and error stay). Delivered events lose theirs at once.
    public static let parkedRetentionDays = 30

    public init(schema: String, consumers: [String: Deliver], logger: Logger) {
        self.schema = schema
        self.consumers = consumers
        self.logger = logger
    }

    public var label: String { "outbox relay (\(schema))" }

    public func claim(_ transaction: PostgresConnection, limit: Int) async throws -> [Event] {
        try await transaction.query(
            """
            SELECT id, topic, payload, attempts FROM \(schema).outbox
            WHERE delivered_at IS NULL AND parked_at IS NULL AND next_attempt_at <= clock_timestamp()
            ORDER BY created_at LIMIT $1
            FOR UPDATE SKIP LOCKED
            """,
            [limit]
        ).map { row in
            Event(id: try row.decode(UUID.self, at: 0), topic: try row.decode(String.self, at: 1),
                  payload: [UInt8](try row.decode(Data.self, at: 2)), attempts: try row.decode(Int.self, at: 3))
        }
    }

    /// `nil` when delivered, otherwise why not.
    public func send(_ event: Event) async -> (any Error)? {
        guard let deliver = consumers[event.topic] else {
            return ConnectError(.invalidArgument, "no consumer for topic \(event.topic)")
        }
        do {
            try await deliver(event.id, event.payload)
            return nil
        } catch {
            return error
        }
    }

    public func record(_ outcomes: [(item: Event, outcome: (any Error)?)], in transaction: PostgresConnection) async throws {
        let delivered = outcomes.filter { $0.outcome == nil }.map(\.item.id.wire)
        if !delivered.isEmpty {
            try await transaction.query(
                // A delivered event keeps its id and times, not its payload: payloads can carry
                // personal data that belongs to the consumer, not to this schema.
                """
                UPDATE \(schema).outbox SET delivered_at = clock_timestamp(), attempts = attempts + 1, payload = ''::bytea
                WHERE id = ANY($1::uuid[])
                """,
                [delivered]
            )
        }
        for (event, outcome) in outcomes {
            guard let failure = outcome else { continue }
            let attempts = event.attempts + 1
            let permanent = (failure as? ConnectError)?.code == .invalidArgument
            let park = permanent || attempts >= maxAttempts
            try await transaction.query(
                """
                UPDATE \(schema).outbox
                SET attempts = $2, last_error = $3,
                    next_attempt_at = clock_timestamp() + make_interval(secs => $4),
                    parked_at = CASE WHEN $5 THEN clock_timestamp() END
                WHERE id = $1
                """,
                [event.id, attempts, "\(failure)", backoff.seconds(afterAttempts: attempts), park]
            )
            if park {
                logger.error("parked an undeliverable event", metadata: ["schema": "\(schema)", "event": "\(event.id)", "topic": "\(event.topic)", "error": "\(failure)"])
            } else {
                logger.info("event delivery failed; will retry", metadata: ["event": "\(event.id)", "attempt": "\(attempts)", "error": "\(failure)"])
            }
        }
    }
}

extension OutboxRelay {
    /// A consumer that calls `method` on `client` with the event's message and id, as the
    /// mesh's `system` principal of `service`.
    public static func rpc<Input, Output>(
        _ method: ConnectMethod<Input, Output>, client: ConnectClient, as service: MeshService, mesh: MeshSettings
    ) throws -> Deliver {
        let verifier = try PrincipalVerifier(meshSecret: mesh.meshSecret, previous: mesh.previousMeshSecrets)
        let root = mesh.root
        return { id, payload in
            let message = try Input(serializedBytes: payload)
            let headers = [verifier.header(for: .system(service.executable, root: root)), (EventHeader.name, id.wire)]
            _ = try await client.call(method, message, options: CallOptions(timeout: .seconds(10), headers: headers))
        }
    }

    /// The usual relay of a service: each topic goes to one method of a peer, run by a
    /// dispatcher, beside the hourly chore that erases the payloads of events parked longer
    /// than ``parkedRetentionDays``.
    public static func dispatcher(
        for outbox: Outbox, routes: [String: Deliver], pool: PostgresPool, logger: Logger
    ) -> [any Service] {
        [
            DueWorkDispatcher(OutboxRelay(schema: outbox.schema, consumers: routes, logger: logger), pool: pool, wakeup: outbox.wakeup, logger: logger),
            PeriodicTask("parked-event retention (\(outbox.schema))", every: .seconds(3600), logger: logger) {
                try await erasePayloadsOfLongParkedEvents(in: outbox.schema, pool: pool)
            },
        ]
    }

    /// Erases the payloads of events parked longer than ``parkedRetentionDays``, keeping
    /// their id, topic, times and error.
    public static func erasePayloadsOfLongParkedEvents(in schema: String, pool: PostgresPool) async throws {
        try await pool.query(
            """
            UPDATE \(schema).outbox SET payload = ''::bytea
            WHERE parked_at < clock_timestamp() - make_interval(days => $1::integer) AND octet_length(payload) > 0
            """,
            [parkedRetentionDays]
        )
    }
}
