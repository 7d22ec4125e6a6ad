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
/// Run it with ``DueWorkDispatcher``. The events of a round go to each consumer in one
/// `EventService/DeliverEvents` call. A delivered event is marked delivered; a failed one is
/// retried with ``Backoff/relay`` and parked after ``maxAttempts`` (at once if the consumer
/// called it invalid), where an operator can see and replay it.
public struct OutboxRelay: DueWork {
    /// Where one topic's events go: a method of a peer, called as the mesh's `system`
    /// principal of the sending service.
    public struct Route: Sendable {
        let client: ConnectClient
        let method: String
        let credentials: @Sendable () -> (String, String)
    }

    public struct Event: Sendable {
        public let id: UUID
        public let topic: String
        public let payload: [UInt8]
        public let attempts: Int
    }

    let schema: String
    let consumers: [String: Route]
    let logger: Logger
    public var maxAttempts = 25
    public var backoff = Backoff.relay
    /// How long a parked event keeps its payload for an operator to inspect and replay; then
    /// the payload, which may carry parties' names and phones, is erased (id, topic, times
    /// and error stay). Delivered events lose theirs at once.
    public static let parkedRetentionDays = 30

    public init(schema: String, consumers: [String: Route], logger: Logger) {
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

    /// For each event, `nil` when delivered, otherwise why not: one call per consumer, the
    /// consumers called at once.
    public func send(_ events: [Event]) async -> [(any Error)?] {
        var outcomes = [(any Error)?](repeating: nil, count: events.count)
        var batches: [String: [(index: Int, route: Route)]] = [:]
        for (index, event) in events.enumerated() {
            guard let route = consumers[event.topic] else {
                outcomes[index] = ConnectError(.invalidArgument, "no consumer for topic \(event.topic)")
                continue
            }
            batches[route.client.baseURL, default: []].append((index, route))
        }
        let delivered = await withTaskGroup(of: [(Int, (any Error)?)].self) { group in
            for peer in batches.values {
                // A round larger than a call may carry goes as several calls.
                for start in stride(from: 0, to: peer.count, by: EventService.maxEvents) {
                    let call = Array(peer[start..<min(start + EventService.maxEvents, peer.count)])
                    group.addTask {
                        let answers = await deliver(call.map { (events[$0.index], $0.route) })
                        return Array(zip(call.map(\.index), answers))
                    }
                }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
        for (index, outcome) in delivered { outcomes[index] = outcome }
        return outcomes
    }

    /// Sends `events`, all for the peer of the first one's route, in one call; an outcome
    /// for each, in order.
    private func deliver(_ events: [(event: Event, route: Route)]) async -> [(any Error)?] {
        guard let peer = events.first?.route else { return [] }
        var request = Pingan_Events_V1_DeliverEventsRequest()
        request.events = events.map { event, route in
            var wire = Pingan_Events_V1_Event()
            wire.id = event.id.wire
            wire.method = route.method
            wire.message = Data(event.payload)
            return wire
        }
        let options = CallOptions(timeout: .seconds(30), headers: [peer.credentials()])
        do {
            let answer = try await peer.client.call(EventServiceMethods.deliverEvents, request, options: options)
            let outcomes = Dictionary(answer.outcomes.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            return events.map { event, _ in
                guard let outcome = outcomes[event.id.wire] else {
                    return ConnectError(.internal, "the consumer answered no outcome for event \(event.id.wire)")
                }
                guard !outcome.code.isEmpty else { return nil }
                return ConnectError(ConnectCode(rawValue: outcome.code) ?? .unknown, outcome.message)
            }
        } catch {
            return events.map { _ in error }
        }
    }

    public func record(_ outcomes: [(item: Event, outcome: (any Error)?)], in transaction: PostgresConnection) async throws {
        let delivered = outcomes.filter { $0.outcome == nil }.map(\.item.id.wire)
        if !delivered.isEmpty {
            // The transaction's last statements: planned once per connection, not per round.
            try await transaction.queue(Outbox.genericPlans)
            try await transaction.queue(
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
            try await transaction.queue(
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
    /// A route to `method` of the peer behind `client`, called as the mesh's `system`
    /// principal of `service`, signed afresh for each call: a relay outlives any one
    /// principal's lifetime.
    public static func rpc<Input, Output>(
        _ method: ConnectMethod<Input, Output>, client: ConnectClient, as service: MeshService, mesh: MeshSettings,
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws -> Route {
        let verifier = try PrincipalVerifier(meshSecret: mesh.meshSecret, previous: mesh.previousMeshSecrets)
        let root = mesh.root
        return Route(client: client, method: method.path) {
            verifier.header(for: .system(service.executable, root: root, now: now()))
        }
    }

    /// The usual relay of a service: each topic goes to one method of a peer, run by a
    /// dispatcher, beside the hourly chore that erases the payloads of events parked longer
    /// than ``parkedRetentionDays``.
    public static func dispatcher(
        for outbox: Outbox, routes: [String: Route], pool: PostgresPool, logger: Logger
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
