import Foundation
import PinganAccess
import PinganConnect
import PinganPostgres
import Synchronization

/// The header that carries an event's id to its consumer.
public enum EventHeader {
    public static let name = "Pingan-Event-Id"
}

/// An event delivered by another service's relay: checked to come from the mesh, with the
/// id that makes applying it idempotent.
public struct EventDelivery: Sendable {
    public let id: UUID
    /// The service that sent it.
    public let sender: Principal
}

extension PrincipalVerifier {
    /// The event a call delivers: the caller must be the mesh's own `system` principal and
    /// name the event in `Pingan-Event-Id`. People never reach these methods.
    public func eventDelivery(_ context: ConnectContext) throws -> EventDelivery {
        let sender = try system(context)
        guard let text = context.header(EventHeader.name), let id = UUID(uuidString: text) else {
            throw ConnectError(.invalidArgument, "\(EventHeader.name): an event delivery needs the event's UUID")
        }
        return EventDelivery(id: id, sender: sender)
    }
}

/// Work an applied event leaves for after its transaction commits, such as handing what it
/// stored to a worker of this process: run only once the change is durable, dropped with a
/// change that is rolled back.
final class CommitActions: Sendable {
    @TaskLocal static var current: CommitActions?

    private let actions = Mutex<[@Sendable () -> Void]>([])

    func add(_ action: @escaping @Sendable () -> Void) { actions.withLock { $0.append(action) } }

    var count: Int { actions.withLock { $0.count } }

    /// Drops what was added after the first `count`: a step rolled back to its savepoint.
    func keep(first count: Int) { actions.withLock { $0.removeSubrange(min(count, $0.count)...) } }

    /// Runs everything added, once.
    func run() {
        let taken = actions.withLock { actions in
            defer { actions.removeAll() }
            return actions
        }
        for action in taken { action() }
    }
}

/// The consumer's half: applies each delivered event once, so a redelivery changes nothing.
public struct EventInbox: Sendable {
    let pool: PostgresPool
    /// The consumer's own outbox: events its effects enqueue leave when the effect commits.
    let outbox: Outbox

    public init(pool: PostgresPool, outbox: Outbox) {
        self.pool = pool
        self.outbox = outbox
    }

    /// Runs `effect` in one transaction with the record that `event` was applied, so the
    /// record and the effect commit together. Inside a batch (``EventBatch``) the transaction
    /// is the batch's, and `effect` runs behind a savepoint when the batch asks for them.
    ///
    /// - Parameter effect: receives the transaction and whether this is the event's first
    ///   delivery; on a redelivery it should only read back what the first one did.
    public func apply<T>(_ event: EventDelivery, _ effect: (PostgresConnection, _ firstDelivery: Bool) async throws -> T) async throws -> T {
        try await apply(event, reading: []) { transaction, firstDelivery, _ in try await effect(transaction, firstDelivery) }
    }

    /// ``apply(_:_:)`` for an effect that starts with reads: `reads` go in the same round
    /// trip as the inbox record, in order, and `effect` gets their rows. They run on a
    /// redelivery too, so they must not change anything (locking is fine).
    public func apply<T>(
        _ event: EventDelivery, reading reads: [(sql: String, parameters: [any PostgresEncodable])],
        _ effect: (PostgresConnection, _ firstDelivery: Bool, _ read: [PostgresRows]) async throws -> T
    ) async throws -> T {
        let statements = [(sql: "INSERT INTO \(outbox.schema).inbox (event_id) VALUES ($1) ON CONFLICT DO NOTHING", parameters: [event.id] as [any PostgresEncodable])] + reads
        func run(_ transaction: PostgresConnection, _ rows: [PostgresRows]) async throws -> T {
            try await effect(transaction, rows[0].affectedRows == 1, Array(rows.dropFirst()))
        }
        if let batch = EventBatch.current {
            guard batch.savepoints else {
                if let rows = batch.takeReadAhead(event.id, sql: reads.map(\.sql)) {
                    // Read ahead, and not applied then: its record goes with the effect's
                    // writes. A delivery of the same event committed since makes the insert
                    // fail, and the batch runs again with savepoints.
                    do {
                        try await batch.transaction.queue("INSERT INTO \(outbox.schema).inbox (event_id) VALUES ($1)", [event.id])
                        return try await effect(batch.transaction, true, rows)
                    } catch {
                        batch.changeFailed()
                        throw error
                    }
                }
                do {
                    return try await run(batch.transaction, try await batch.transaction.pipeline(statements))
                } catch {
                    batch.changeFailed()
                    throw error
                }
            }
            let kept = CommitActions.current?.count ?? 0
            do {
                return try await batch.transaction.savepoint(first: statements, run)
            } catch {
                CommitActions.current?.keep(first: kept)
                throw error
            }
        }
        let afterCommit = CommitActions()
        let result = try await CommitActions.$current.withValue(afterCommit) {
            try await outbox.transaction(pool) { transaction in try await run(transaction, try await transaction.pipeline(statements)) }
        }
        afterCommit.run()
        return result
    }

    /// Reads, in one round trip, what each of a batch's events will read first, so the events
    /// then run without a round trip each; call it at the start of a batch
    /// (``ConnectRoutes/registerEventService(consuming:inbox:verifier:readAhead:)``).
    ///
    /// Rows read ahead are what an event would read only if no event before it in the batch
    /// changes them: `keep` sees each event's rows in order and returns false at the first
    /// event whose rows an earlier one might change. That event, every later one, and any
    /// from the first event already applied on, read for themselves, after the earlier ones'
    /// writes. Nothing is read ahead when the batch runs again with savepoints.
    public func readAhead(
        _ events: [(id: UUID, reads: [(sql: String, parameters: [any PostgresEncodable])])],
        keepingWhile keep: (_ index: Int, _ rows: [PostgresRows]) throws -> Bool
    ) async throws {
        guard let batch = EventBatch.current, !batch.savepoints, !events.isEmpty else { return }
        let applied = (
            sql: "SELECT event_id FROM \(outbox.schema).inbox WHERE event_id = ANY($1::text[]::uuid[])",
            parameters: [events.map(\.id.uuidString)] as [any PostgresEncodable]
        )
        let rows = try await batch.transaction.pipeline([applied] + events.flatMap(\.reads))
        let done = Set(try rows[0].map { try $0.decode(UUID.self, at: 0) })
        var next = 1
        for (index, event) in events.enumerated() {
            let own = Array(rows[next..<(next + event.reads.count)])
            next += event.reads.count
            guard !done.contains(event.id), try keep(index, own) else { return }
            batch.keep(event.id, sql: event.reads.map(\.sql), rows: own)
        }
    }

    /// Runs `action` once the transaction applying the current event has committed; never if
    /// it rolls back. Call it from the effect of ``apply(_:_:)``; anywhere else it is dropped.
    public static func afterCommit(_ action: @escaping @Sendable () -> Void) {
        CommitActions.current?.add(action)
    }
}
