import Synchronization

/// Runs work against a deadline and answers at the deadline even if the work is still busy
/// (a blocking database call cannot be interrupted; it is cancelled and finishes on its own).
enum Deadline {
    static func run<T: Sendable>(
        until deadline: ContinuousClock.Instant?, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        guard let deadline else { return try await body() }
        if deadline <= .now { throw ConnectError(.deadlineExceeded, "the deadline had passed before the call started") }
        return try await withCheckedThrowingContinuation { continuation in
            let once = ResumeOnce(continuation)
            let work = Task {
                let result = await Result { try await body() }
                once.resume(with: result)
            }
            let watch = DeadlineWatch.shared
            let ticket = watch.add(deadline) {
                if once.resume(with: .failure(ConnectError(.deadlineExceeded, "the call did not finish before its deadline"))) {
                    work.cancel()
                }
            }
            once.onResume { watch.remove(ticket) }
        }
    }
}

/// The deadlines of every call in flight, watched by one task that sleeps until the earliest.
///
/// A sleeping task and a dispatch timer for each call (timer heap, task creation and
/// cancellation) showed in the gateway's profile of every forwarded call.
/// Most deadlines lie seconds ahead and most calls end long before them, so
/// the watcher wakes about once per default timeout, and adding or removing a deadline is a
/// dictionary change under a lock. A deadline earlier than the one the watcher sleeps until
/// starts a new watcher; the old one finds itself superseded and ends.
final class DeadlineWatch: Sendable {
    static let shared = DeadlineWatch()

    struct Ticket: Sendable {
        fileprivate let id: UInt64
    }

    private struct Entry {
        let deadline: ContinuousClock.Instant
        let expire: @Sendable () -> Void
    }

    private struct Watcher {
        let generation: UInt64
        var until: ContinuousClock.Instant
        let task: Task<Void, Never>
    }

    private struct State {
        var entries: [UInt64: Entry] = [:]
        var lastID: UInt64 = 0
        var generations: UInt64 = 0
        /// `nil` when nothing is watched.
        var watcher: Watcher?
    }

    private let state = Mutex(State())

    /// Calls `expire` once `deadline` passes, unless the ticket is removed first.
    func add(_ deadline: ContinuousClock.Instant, expire: @escaping @Sendable () -> Void) -> Ticket {
        state.withLock { state in
            state.lastID += 1
            state.entries[state.lastID] = Entry(deadline: deadline, expire: expire)
            if state.watcher.map({ deadline < $0.until }) ?? true {
                state.watcher?.task.cancel()
                state.generations += 1
                let generation = state.generations
                state.watcher = Watcher(generation: generation, until: deadline, task: Task { await self.watch(until: deadline, generation: generation) })
            }
            return Ticket(id: state.lastID)
        }
    }

    func remove(_ ticket: Ticket) {
        state.withLock { _ = $0.entries.removeValue(forKey: ticket.id) }
    }

    /// Deadlines still watched, for tests.
    var count: Int { state.withLock { $0.entries.count } }

    private func watch(until first: ContinuousClock.Instant, generation: UInt64) async {
        var wake = first
        while true {
            do {
                try await Task.sleep(until: wake, clock: .continuous)
            } catch {
                return
            }
            let now = ContinuousClock.now
            let (expired, next) = state.withLock { state -> ([Entry], ContinuousClock.Instant?) in
                guard state.watcher?.generation == generation else { return ([], nil) }
                var expired: [Entry] = []
                var next: ContinuousClock.Instant?
                for (id, entry) in state.entries {
                    if entry.deadline <= now {
                        expired.append(entry)
                        state.entries[id] = nil
                    } else {
                        next = min(next ?? entry.deadline, entry.deadline)
                    }
                }
                if let next { state.watcher?.until = next } else { state.watcher = nil }
                return (expired, next)
            }
            // A watcher that woke late finds several; they still expire in the order they fell due.
            for entry in expired.sorted(by: { $0.deadline < $1.deadline }) { entry.expire() }
            guard let next else { return }
            wake = next
        }
    }
}

/// Resumes a continuation exactly once, whichever side gets there first.
final class ResumeOnce<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var cleanup: (@Sendable () -> Void)?
        var done = false
    }
    private let state: Mutex<State>

    init(_ continuation: CheckedContinuation<T, any Error>) {
        state = Mutex(State(continuation: continuation))
    }

    /// Returns true if this call resumed the continuation.
    @discardableResult
    func resume(with result: Result<T, any Error>) -> Bool {
        let taken = state.withLock { state -> (CheckedContinuation<T, any Error>, (@Sendable () -> Void)?)? in
            guard let continuation = state.continuation else { return nil }
            state.continuation = nil
            state.done = true
            defer { state.cleanup = nil }
            return (continuation, state.cleanup)
        }
        guard let (continuation, cleanup) = taken else { return false }
        cleanup?()
        continuation.resume(with: result)
        return true
    }

    /// Runs `cleanup` once resumed (at once if already resumed).
    func onResume(_ cleanup: @escaping @Sendable () -> Void) {
        let runNow = state.withLock { state -> Bool in
            if state.done { return true }
            state.cleanup = cleanup
            return false
        }
        if runNow { cleanup() }
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
