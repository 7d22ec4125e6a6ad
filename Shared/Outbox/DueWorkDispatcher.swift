import Logging
import PinganPostgres
import ServiceLifecycle

/// Work kept in a table until it is done. Today that is the outbox relay alone: notify's
/// webhooks have their own workers, because one slow subscriber must not hold a round.
///
/// ``DueWorkDispatcher`` claims due items, sends them and hands back what
/// happened, all inside one transaction; a conforming type says what its rows are and how
/// an outcome is recorded.
public protocol DueWork: Sendable {
    associatedtype Item: Sendable
    associatedtype Outcome: Sendable

    /// Names the work in logs.
    var label: String { get }

    /// Claims up to `limit` due items inside `transaction`, locking them with
    /// `FOR UPDATE SKIP LOCKED` so replicas share the work without sending anything twice
    /// at once.
    func claim(_ transaction: PostgresConnection, limit: Int) async throws -> [Item]

    /// Sends the claimed items and reports what happened to each, in their order; never
    /// throws, a failure is an outcome.
    func send(_ items: [Item]) async -> [Outcome]

    /// Records each outcome inside the claiming transaction: done, or when to try again.
    func record(_ outcomes: [(item: Item, outcome: Outcome)], in transaction: PostgresConnection) async throws
}

/// Runs one kind of ``DueWork`` in the background until shutdown: at once while there is
/// work, otherwise after a wake-up or the poll interval.
///
/// A dispatcher killed mid-round never commits its claim, so the batch is sent again; every
/// consumer dedupes by id, which makes delivery at least once and effects exactly once.
public struct DueWorkDispatcher<Work: DueWork>: Service {
    let work: Work
    let pool: PostgresPool
    let wakeup: OutboxWakeup
    let logger: Logger
    public var pollInterval: Duration = .milliseconds(50)
    /// Events in one round: one call per consumer and one commit on each side.
    public var batchSize = 64

    public init(_ work: Work, pool: PostgresPool, wakeup: OutboxWakeup, logger: Logger) {
        self.work = work
        self.pool = pool
        self.wakeup = wakeup
        self.logger = logger
    }

    public func run() async throws {
        await wakeup.repeatRounds(every: pollInterval, logger: logger, label: work.label) { try await round() }
    }

    /// Claims, sends and records one batch; returns how many items it handled.
    public func round() async throws -> Int {
        try await pool.transaction { transaction in
            let items = try await work.claim(transaction, limit: batchSize)
            guard !items.isEmpty else { return 0 }
            let outcomes = await work.send(items)
            try await work.record(Array(zip(items, outcomes).map { (item: $0, outcome: $1) }), in: transaction)
            return items.count
        }
    }
}
