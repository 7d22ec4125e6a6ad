import Foundation
import Logging
import PinganAccess
import PinganConnect
import PinganContracts
import PinganPostgres
import ServiceLifecycle
import SwiftProtobuf

/// The header that carries an event's id to its consumer.
public enum EventHeader {
    public static let name = "Pingan-Event-Id"
}

extension ConnectContext {
    /// The id of the event this call delivers, or `invalid_argument`.
    public func eventID() throws -> UUID {
        guard let text = header(EventHeader.name), let id = UUID(uuidString: text) else {
            throw ConnectError(.invalidArgument, "\(EventHeader.name): an event delivery needs the event's UUID")
        }
        return id
    }
}

/// Delivers a service's outbox to the consumers, at least once, in the background.
///
/// Each round claims a batch of due events with `FOR UPDATE SKIP LOCKED` (so replicas share
/// the work), delivers them, and marks each delivered or schedules its retry with jittered
/// exponential backoff. An event that keeps failing is parked after ``maxAttempts`` (at
/// once if the consumer called it invalid) and waits for an operator. A relay killed
/// mid-round leaves its batch undelivered, so it is sent again; consumers dedupe by id.
public struct OutboxRelay: Service {
    /// Sends one event; throwing means "not delivered, try again later".
    public typealias Deliver = @Sendable (_ eventID: UUID, _ payload: [UInt8]) async throws -> Void

    let schema: String
    let pool: PostgresPool
    let consumers: [String: Deliver]
    let wakeup: OutboxWakeup
    let logger: Logger
    public var pollInterval: Duration = .milliseconds(50)
    public var batchSize = 16
    public var maxAttempts = 25

    public init(schema: String, pool: PostgresPool, consumers: [String: Deliver], wakeup: OutboxWakeup, logger: Logger) {
        self.schema = schema
        self.pool = pool
        self.consumers = consumers
        self.wakeup = wakeup
        self.logger = logger
    }

    /// The usual relay: events of `topic` go to `method` on `peer`, sent as `service` with the
    /// mesh's signed system principal.
    public init<Input, Output>(
        schema: String, pool: PostgresPool, topic: String, to method: ConnectMethod<Input, Output>,
        at peer: String, as service: String, mesh: MeshConfiguration, wakeup: OutboxWakeup, logger: Logger
    ) throws {
        let jurisdiction = try Jurisdiction(meshSecret: mesh.meshSecret)
        let client = ConnectClient(baseURL: peer, transport: CurlTransport())
        let consumer = Self.rpc(method, client: client) { [jurisdiction.header(for: .system(service, root: mesh.root))] }
        self.init(schema: schema, pool: pool, consumers: [topic: consumer], wakeup: wakeup, logger: logger)
    }

    /// A consumer that calls `method` with the event's message and id.
    public static func rpc<Input, Output>(
        _ method: ConnectMethod<Input, Output>, client: ConnectClient, headers: @escaping @Sendable () -> [(String, String)]
    ) -> Deliver {
        { id, payload in
            let message = try Input(serializedBytes: payload)
            _ = try await client.call(
                method, message,
                options: CallOptions(timeout: .seconds(10), headers: headers() + [(EventHeader.name, id.uuidString)])
            )
        }
    }

    public func run() async throws {
        await wakeup.repeatRounds(every: pollInterval, logger: logger, label: "outbox relay (\(schema))") { try await relayBatch() }
    }

    /// Delivers one batch of due events; returns how many it handled.
    func relayBatch() async throws -> Int {
        try await pool.transaction { transaction in
            let rows = try await transaction.query(
                """
                SELECT id, topic, payload, attempts FROM \(schema).outbox
                WHERE delivered_at IS NULL AND parked_at IS NULL AND next_attempt_at <= clock_timestamp()
                ORDER BY created_at LIMIT $1
                FOR UPDATE SKIP LOCKED
                """,
                [batchSize]
            )
            guard !rows.isEmpty else { return 0 }
            let events = try rows.map { row in
                (id: try row.decode(UUID.self, at: 0), topic: try row.decode(String.self, at: 1),
                 payload: [UInt8](try row.decode(Data.self, at: 2)), attempts: try row.decode(Int.self, at: 3))
            }
            let outcomes = await withTaskGroup(of: (UUID, (any Error)?).self) { group in
                for event in events {
                    group.addTask {
                        guard let deliver = consumers[event.topic] else {
                            return (event.id, ConnectError(.invalidArgument, "no consumer for topic \(event.topic)"))
                        }
                        do {
                            try await deliver(event.id, event.payload)
                            return (event.id, nil)
                        } catch {
                            return (event.id, error)
                        }
                    }
                }
                return await group.reduce(into: [UUID: (any Error)?]()) { $0[$1.0] = $1.1 }
            }
            let delivered = events.filter { (outcomes[$0.id] ?? nil) == nil }.map(\.id.uuidString)
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
            for event in events {
                guard let failure = outcomes[event.id] ?? nil else { continue }
                let attempts = event.attempts + 1
                let permanent = (failure as? ConnectError)?.code == .invalidArgument
                let park = permanent || attempts >= maxAttempts
                let delay = Self.backoff(attempts: attempts)
                try await transaction.query(
                    """
                    UPDATE \(schema).outbox
                    SET attempts = $2, last_error = $3,
                        next_attempt_at = clock_timestamp() + make_interval(secs => $4),
                        parked_at = CASE WHEN $5 THEN clock_timestamp() END
                    WHERE id = $1
                    """,
                    [event.id, attempts, "\(failure)", delay, park]
                )
                if park {
                    logger.error("parked an undeliverable event", metadata: ["schema": "\(schema)", "event": "\(event.id)", "topic": "\(event.topic)", "error": "\(failure)"])
                } else {
                    logger.info("event delivery failed; will retry", metadata: ["event": "\(event.id)", "attempt": "\(attempts)", "error": "\(failure)"])
                }
            }
            return events.count
        }
    }

    /// Seconds before the next attempt: 0.2 s doubling to a 30 s ceiling, jittered down by up to half.
    static func backoff(attempts: Int) -> Double {
        let ceiling = min(30.0, 0.2 * pow(2.0, Double(min(attempts - 1, 20))))
        return ceiling * Double.random(in: 0.5...1.0)
    }
}
