import Logging
import ServiceLifecycle

/// Background work done every `interval` until graceful shutdown: the overdue scan, the
/// escalation of unacknowledged warnings, the monthly index. The first round waits one
/// interval; a failed round is logged and the next one tries again.
public struct PeriodicTask: Service {
    let label: String
    let interval: Duration
    let logger: Logger
    let round: @Sendable () async throws -> Void

    public init(_ label: String, every interval: Duration, logger: Logger, round: @escaping @Sendable () async throws -> Void) {
        self.label = label
        self.interval = interval
        self.logger = logger
        self.round = round
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard !Task.isCancelled else { return }
                do {
                    try await round()
                } catch {
                    logger.warning("\(label) failed; the next round tries again", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}

extension PeriodicTask {
    /// Runs `round` (one batch of at most `batch` rows, in its own transaction) until a round
    /// does fewer, so a backlog is worked off in short transactions instead of one long one.
    /// - Returns: how many rows the rounds did in all.
    @discardableResult
    public static func drain(batch: Int, _ round: () async throws -> Int) async throws -> Int {
        var total = 0
        var done = batch
        while done == batch {
            done = try await round()
            total += done
        }
        return total
    }
}
