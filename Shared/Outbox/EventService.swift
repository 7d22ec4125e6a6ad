import Foundation
import HTTPTypes
import PinganAccess
import PinganConnect
import PinganContracts
import PinganPostgres
import Synchronization

/// The transaction a batch of delivered events shares: set by ``EventInbox/batch(_:)``, used
/// by ``EventInbox/apply(_:_:)``. A task-local, so the event methods' own code stays the same
/// whether an event comes alone or in a batch.
final class EventBatch: Sendable {
    @TaskLocal static var current: EventBatch?

    let transaction: PostgresConnection
    /// Whether each event runs behind a savepoint of its own. A first pass runs without: two
    /// statements and a round trip fewer per event. If an event fails inside its change, the
    /// transaction may hold half of that change or be aborted, so the pass is rolled back
    /// and the batch runs again with savepoints.
    let savepoints: Bool
    private let failedInsideAChange = Atomic<Bool>(false)

    init(_ transaction: PostgresConnection, savepoints: Bool) {
        self.transaction = transaction
        self.savepoints = savepoints
    }

    var mustRunAgain: Bool { !savepoints && failedInsideAChange.load(ordering: .relaxed) }

    /// Rows a consumer read for an event before the batch's events ran
    /// (``EventInbox/readAhead(_:keepingWhile:)``), with the statements that read them.
    private let readAhead = Mutex<[UUID: (sql: [String], rows: [PostgresRows])]>([:])

    func keep(_ id: UUID, sql: [String], rows: [PostgresRows]) { readAhead.withLock { $0[id] = (sql, rows) } }

    /// The rows read ahead for `id`, once, if they came from the same statements.
    func takeReadAhead(_ id: UUID, sql: [String]) -> [PostgresRows]? {
        readAhead.withLock { readAhead in
            guard let kept = readAhead.removeValue(forKey: id), kept.sql == sql else { return nil }
            return kept.rows
        }
    }

    func changeFailed() { failedInsideAChange.store(true, ordering: .relaxed) }
}

/// Rolls back a pass over a batch that has to run again with savepoints.
private struct RunAgainWithSavepoints: Error {}

extension EventInbox {
    /// Runs `body` in one transaction that every ``apply(_:_:)`` inside it joins, and wakes
    /// the outbox's relay once it commits. `body` may run twice (see ``EventBatch/savepoints``),
    /// so it must build its answer afresh each time.
    func batch<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await batch(savepoints: false, body)
        } catch is RunAgainWithSavepoints {
            return try await batch(savepoints: true, body)
        }
    }

    private func batch<T>(savepoints: Bool, _ body: () async throws -> T) async throws -> T {
        // What the events leave for after the commit; a pass that runs again starts with none.
        let afterCommit = CommitActions()
        let result = try await outbox.transaction(pool) { transaction in
            let batch = EventBatch(transaction, savepoints: savepoints)
            let result = try await EventBatch.$current.withValue(batch) {
                try await CommitActions.$current.withValue(afterCommit) { try await body() }
            }
            if batch.mustRunAgain { throw RunAgainWithSavepoints() }
            do {
                // The last event's queued statements: if one fails, it fails that event alone.
                try await transaction.flush()
            } catch where !savepoints {
                throw RunAgainWithSavepoints()
            }
            return result
        }
        afterCommit.run()
        return result
    }
}

/// Why a batch of events was refused as a whole.
enum EventServiceRefusal: Error, CustomStringConvertible {
    case notConsumed([String])
    case invalidHeaderName(String)

    var description: String {
        switch self {
        case .notConsumed(let paths): "event methods \(paths.joined(separator: ", ")) are not registered"
        case .invalidHeaderName(let name): "\(name) is not a valid header name"
        }
    }
}

extension ConnectRoutes {
    /// Serves `EventService/DeliverEvents` for the event methods at `paths`, which must be
    /// registered already: a relay sends many events in one call and this service applies
    /// them in one transaction, so a busy flow costs one commit per batch instead of one per
    /// event. Each event still runs through its own method, with its own checks.
    ///
    /// - Parameter readAhead: reads the batch's events need, made in one round trip before
    ///   they run (``EventInbox/readAhead(_:keepingWhile:)``); each event still runs through
    ///   its method, which takes the rows read for it.
    public mutating func registerEventService(
        consuming paths: [String], inbox: EventInbox, verifier: PrincipalVerifier,
        readAhead: (@Sendable ([Pingan_Events_V1_Event]) async throws -> Void)? = nil
    ) throws {
        let methods = paths.compactMap { path in protoHandler(for: path).map { (path, $0) } }
        guard methods.count == paths.count else { throw EventServiceRefusal.notConsumed(paths.filter { protoHandler(for: $0) == nil }) }
        let consumers = Dictionary(methods, uniquingKeysWith: { first, _ in first })
        guard let eventHeader = HTTPField.Name(EventHeader.name) else { throw EventServiceRefusal.invalidHeaderName(EventHeader.name) }
        register(EventServiceMethods.deliverEvents) { request, context in
            _ = try verifier.system(context)
            guard request.events.count <= EventService.maxEvents else {
                throw ConnectError.invalidArgument(field: "events", "at most \(EventService.maxEvents) in one call, got \(request.events.count)")
            }
            let logger = context.logger
            return try await inbox.batch {
                try await readAhead?(request.events)
                var response = Pingan_Events_V1_DeliverEventsResponse()
                for event in request.events {
                    var outcome = Pingan_Events_V1_EventOutcome()
                    outcome.id = event.id
                    do {
                        guard let consume = consumers[event.method] else {
                            throw ConnectError.invalidArgument(field: "events.method", "\(event.method) consumes no events here")
                        }
                        var headers = context.headers
                        headers[eventHeader] = event.id
                        let eventContext = ConnectContext(
                            path: event.method, headers: headers, deadline: context.deadline, trace: context.trace,
                            logger: logger, peer: context.peer
                        )
                        _ = try await consume(Array(event.message), eventContext)
                    } catch {
                        let failure = ConnectError.wrapping(error, logger: logger)
                        outcome.code = failure.code.rawValue
                        outcome.message = failure.message
                    }
                    response.outcomes.append(outcome)
                }
                return response
            }
        }
    }
}

/// Limits of batched event delivery.
public enum EventService {
    /// The most events one `DeliverEvents` call carries.
    public static let maxEvents = 256
}
