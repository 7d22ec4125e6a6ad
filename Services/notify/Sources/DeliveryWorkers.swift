import Foundation
import Logging
import PinganOutbox
import PinganPostgres
import ServiceLifecycle
import Synchronization

/// Sends notify-service's deliveries until shutdown, each on its own: a claim leases what
/// is due, each lease is sent and recorded independently, and the next claim does not wait
/// for the slowest send. At most ``maxInFlight`` sends run at once in this process, and a
/// subscription never has more than its ``WebhookDeliveries/perSubscriber`` of them.
struct DeliveryWorkers: Service {
    let deliveries: WebhookDeliveries
    let pool: PostgresPool
    let wakeup: OutboxWakeup
    let logger: Logger
    var maxInFlight = 256
    var claimBatch = 64
    var pollInterval: Duration = .milliseconds(100)

    /// Sends in flight in this process, per subscription.
    final class InFlight: Sendable {
        private let counts = Mutex<[UUID: Int]>([:])

        var snapshot: [UUID: Int] { counts.withLock { $0 } }
        var total: Int { counts.withLock { $0.values.reduce(0, +) } }

        func start(_ subscription: UUID) { counts.withLock { $0[subscription, default: 0] += 1 } }

        func finish(_ subscription: UUID) {
            counts.withLock { counts in
                let left = (counts[subscription] ?? 1) - 1
                counts[subscription] = left > 0 ? left : nil
            }
        }
    }

    func run() async throws {
        let inFlight = InFlight()
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                while !Task.isCancelled {
                    let room = min(claimBatch, maxInFlight - inFlight.total)
                    var claimed: [WebhookDeliveries.Delivery] = []
                    if room > 0 {
                        do {
                            let busy = inFlight.snapshot
                            claimed = try await pool.withConnection { try await deliveries.lease($0, limit: room, inFlight: busy) }
                        } catch is CancellationError {
                            return
                        } catch {
                            logger.warning("delivery claim failed", metadata: ["error": "\(error)"])
                        }
                    }
                    for delivery in claimed {
                        inFlight.start(delivery.subscription)
                        group.addTask {
                            await deliver(delivery)
                            inFlight.finish(delivery.subscription)
                            // A finished send frees room: claim again without waiting for the poll.
                            wakeup.signal()
                        }
                    }
                    // Fewer than there was room for: nothing else is due, or every due subscription
                    // is at its limit. Claim again when a send finishes or a delivery is queued
                    // (both signal), instead of asking a query that would find nothing.
                    if claimed.isEmpty || claimed.count < room { await wakeup.wait(upTo: pollInterval) }
                }
            }
        }
    }

    /// Sends one delivery and records the outcome. An outcome that cannot be recorded is
    /// logged; the lease runs out and the delivery goes again, under the same id.
    func deliver(_ delivery: WebhookDeliveries.Delivery) async {
        let attempt = await deliveries.send(delivery)
        do {
            try await pool.transaction { try await deliveries.record(delivery, attempt, in: $0) }
        } catch {
            logger.warning("recording a delivery failed", metadata: ["delivery": "\(delivery.id.uuidString.lowercased())", "error": "\(error)"])
        }
    }
}
