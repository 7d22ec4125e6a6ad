import Foundation
import PinganAccess
import PinganConnect
import PinganPostgres
import Synchronization

/// The header that carries an event's id to its consumer when an event method is called alone.
public enum EventHeader {
    public static let name = "Pingan-Event-Id"
}

/// An event delivered by another service's relay: the id that makes applying it idempotent,
/// the service that sent it, and the batch whose transaction it is applied in.
public struct EventDelivery: Sendable {
    public let id: UUID
    /// The service that sent it.
    public let sender: Principal
    /// The pass over the delivered events this one is applied in (one event alone is a batch of one).
    public let batch: EventBatch

    public init(id: UUID, sender: Principal, batch: EventBatch) {
        self.id = id
        self.sender = sender
        self.batch = batch
    }
}

/// One pass over a batch of delivered events, in one transaction that every event of the
/// batch joins: a busy flow costs one commit per batch instead of one per event.
///
/// A first pass runs the events without savepoints (two statements and a round trip fewer
/// per event). If an event fails inside its change, the transaction may hold half of that
/// change or be aborted, so ``EventInbox/batch(_:)`` rolls the pass back and runs the batch
/// again with a savepoint per event.
public final class EventBatch: Sendable {
    let transaction: PostgresConnection
    /// Whether each event runs behind a savepoint of its own.
    let savepoints: Bool
    private let failedInsideAChange = Atomic<Bool>(false)
    /// Rows read for an event before the batch's events ran, by the event's id
    /// (``EventInbox/readAhead(_:in:keepingWhile:)``).
    private let readAhead = Mutex<[UUID: [PostgresRows]]>([:])
    /// Work the batch's events leave for after it commits.
    private let afterCommit = Mutex<[@Sendable () -> Void]>([])

    init(_ transaction: PostgresConnection, savepoints: Bool) {
        self.transaction = transaction
        self.savepoints = savepoints
    }

    var mustRunAgain: Bool { !savepoints && failedInsideAChange.load(ordering: .relaxed) }

    func changeFailed() { failedInsideAChange.store(true, ordering: .relaxed) }

    func keep(_ id: UUID, rows: [PostgresRows]) { readAhead.withLock { $0[id] = rows } }

    /// The rows read ahead for the event `id`, once.
    func takeReadAhead(_ id: UUID) -> [PostgresRows]? { readAhead.withLock { $0.removeValue(forKey: id) } }

    func addAfterCommit(_ action: @escaping @Sendable () -> Void) { afterCommit.withLock { $0.append(action) } }

    var afterCommitCount: Int { afterCommit.withLock { $0.count } }

    /// Drops what was added after the first `count`: an event rolled back to its savepoint.
    func keepAfterCommit(first count: Int) { afterCommit.withLock { $0.removeSubrange(min(count, $0.count)...) } }

    /// Runs, once, what the committed events left for after the commit.
    func runAfterCommit() {
        let taken = afterCommit.withLock { actions in
            defer { actions.removeAll() }
            return actions
        }
        for action in taken { action() }
    }
}

/// What an event's effect runs with: the batch's transaction, whether this is the event's
/// first delivery, the rows of the reads it asked for, and a place for work to run only once
/// the change is durable.
public struct EventChange: Sendable {
    public let transaction: PostgresConnection
    /// On a redelivery the effect should only read back what the first delivery did.
    public let firstDelivery: Bool
    /// The rows of the effect's reads, in the order it gave them.
    public let read: [PostgresRows]
    let batch: EventBatch

    /// Runs `action` once the batch's transaction has committed with this event's change;
    /// never if the change is rolled back (its batch fails, or its savepoint is rolled back).
    public func afterCommit(_ action: @escaping @Sendable () -> Void) { batch.addAfterCommit(action) }
}

/// The consumer's half: applies each delivered event once, so a redelivery changes nothing.
public struct EventInbox: Sendable {
    let pool: PostgresPool
    /// The consumer's own outbox: events its effects enqueue leave when the batch commits.
    let outbox: Outbox

    public init(pool: PostgresPool, outbox: Outbox) {
        self.pool = pool
        self.outbox = outbox
    }

    /// A read an effect starts with: it goes in the same round trip as the inbox record, and
    /// runs on a redelivery too, so it must not change anything (locking is fine).
    public typealias Read = PostgresStatement

    /// Runs `effect` in `event`'s batch with the record that the event was applied, so the
    /// record and the effect commit together; `effect` gets the rows of `reads`.
    public func apply<T>(_ event: EventDelivery, reading reads: [Read] = [], _ effect: (EventChange) async throws -> T) async throws -> T {
        let batch = event.batch
        let record: Read = ("INSERT INTO \(outbox.schema).inbox (event_id) VALUES ($1) ON CONFLICT DO NOTHING", [event.id])
        func run(_ rows: [PostgresRows]) async throws -> T {
            try await effect(EventChange(transaction: batch.transaction, firstDelivery: rows[0].affectedRows == 1, read: Array(rows.dropFirst()), batch: batch))
        }
        if batch.savepoints {
            let kept = batch.afterCommitCount
            do {
                return try await batch.transaction.savepoint(first: [record] + reads) { _, rows in try await run(rows) }
            } catch {
                batch.keepAfterCommit(first: kept)
                throw error
            }
        }
        do {
            if let rows = batch.takeReadAhead(event.id) {
                // Read ahead, and not applied then: its record goes with the effect's writes. A
                // delivery of the same event committed since makes the insert fail, and the
                // batch runs again with savepoints.
                try await batch.transaction.queue("INSERT INTO \(outbox.schema).inbox (event_id) VALUES ($1)", [event.id])
                return try await effect(EventChange(transaction: batch.transaction, firstDelivery: true, read: rows, batch: batch))
            }
            return try await run(try await batch.transaction.pipeline([record] + reads))
        } catch {
            batch.changeFailed()
            throw error
        }
    }

    /// Reads, in one round trip, what each of a batch's events will read first, so the events
    /// then run without a round trip each; call it before the batch's events run.
    ///
    /// Rows read ahead are what an event would read only if no event before it in the batch
    /// changes them: `keep` sees each event's rows in order and returns false at the first
    /// event whose rows an earlier one might change. That event, every later one, and any
    /// from the first event already applied on, read for themselves, after the earlier ones'
    /// writes. Nothing is read ahead in a pass with savepoints.
    ///
    /// - Parameter events: each event with the reads it will give ``apply(_:reading:_:)``.
    public func readAhead(
        _ events: [(id: UUID, reads: [Read])], in batch: EventBatch,
        keepingWhile keep: (_ index: Int, _ rows: [PostgresRows]) throws -> Bool
    ) async throws {
        guard !batch.savepoints, !events.isEmpty else { return }
        let applied: Read = ("SELECT event_id FROM \(outbox.schema).inbox WHERE event_id = ANY($1::text[]::uuid[])", [events.map(\.id.uuidString)])
        let rows = try await batch.transaction.pipeline([applied] + events.flatMap(\.reads))
        let done = Set(try rows[0].map { try $0.decode(UUID.self, at: 0) })
        var next = 1
        for (index, event) in events.enumerated() {
            let own = Array(rows[next..<(next + event.reads.count)])
            next += event.reads.count
            guard !done.contains(event.id), try keep(index, own) else { return }
            batch.keep(event.id, rows: own)
        }
    }

    /// Runs `body` over one transaction that every event it applies joins, wakes the outbox's
    /// relay once it commits, then runs the work the events left for after the commit.
    ///
    /// - Important: `body` may run twice (see ``EventBatch``): it must build its answer
    ///   afresh from the batch it is given each time.
    public func batch<T>(_ body: (EventBatch) async throws -> T) async throws -> T {
        do {
            return try await pass(savepoints: false, body)
        } catch is RunAgainWithSavepoints {
            return try await pass(savepoints: true, body)
        }
    }

    private func pass<T>(savepoints: Bool, _ body: (EventBatch) async throws -> T) async throws -> T {
        var committed: EventBatch?
        let result = try await outbox.transaction(pool) { transaction in
            // Travels with BEGIN, so it costs no round trip.
            try await transaction.queue(Outbox.genericPlans)
            let batch = EventBatch(transaction, savepoints: savepoints)
            let result = try await body(batch)
            if batch.mustRunAgain { throw RunAgainWithSavepoints() }
            do {
                // The last event's queued statements: if one fails, it fails that event alone.
                try await transaction.flush()
            } catch where !savepoints {
                throw RunAgainWithSavepoints()
            }
            committed = batch
            return result
        }
        committed?.runAfterCommit()
        return result
    }
}

/// Rolls back a pass over a batch that has to run again with savepoints.
private struct RunAgainWithSavepoints: Error {}
