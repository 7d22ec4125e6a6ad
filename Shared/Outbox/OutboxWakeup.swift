import Logging
import ServiceLifecycle
import Synchronization

/// Wakes a relay the moment its own process commits an event, instead of at its next poll.
///
/// Polling stays as the fallback: events written by another replica, or left over from
/// before a restart, are still found within the poll interval.
public final class OutboxWakeup: Sendable {
    private struct State {
        var signalled = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    public init() {}

    /// Call after the transaction that wrote an event has committed.
    public func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.signalled = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Whether a wait is parked for a signal: what tests watch instead of the clock.
    var hasWaiter: Bool { state.withLock { $0.waiter != nil } }

    /// Returns when signalled, or after `timeout`. One waiter at a time: the relay's loop.
    public func wait(upTo timeout: Duration) async {
        // The timeout is a signal of its own, so the continuation is always resumed.
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            guard !Task.isCancelled else { return }
            self?.signal()
        }
        defer { timer.cancel() }
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state -> Bool in
                if state.signalled {
                    state.signalled = false
                    return true
                }
                state.waiter = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }
}

extension OutboxWakeup {
    /// Runs `round` until graceful shutdown: again at once while it finds work, otherwise after
    /// a signal or `pollInterval`. A failed round is logged and the next one tries again.
    ///
    /// - Parameter round: does one batch of work and returns how many items it handled.
    public func repeatRounds(
        every pollInterval: Duration, logger: Logger, label: String,
        _ round: @escaping @Sendable () async throws -> Int
    ) async {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let handled: Int
                do {
                    handled = try await round()
                } catch is CancellationError {
                    return
                } catch {
                    logger.warning("\(label) round failed", metadata: ["error": "\(error)"])
                    handled = 0
                }
                if handled == 0 { await self.wait(upTo: pollInterval) }
            }
        }
    }
}
