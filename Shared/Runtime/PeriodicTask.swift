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
