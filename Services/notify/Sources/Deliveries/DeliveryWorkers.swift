import Foundation
import Logging
import PinganOutbox
import ServiceLifecycle
import Synchronization

/// Sends notify-service's deliveries until shutdown, each on its own: what this process
/// stored is handed over at commit (``DeliveryHandoff``), a claim leases what else is due,
/// each is sent and recorded independently, and the next claim does not wait for the slowest
/// send. At most ``maxInFlight`` sends run at once in this process, and a subscription never
/// has more than its ``DeliveryLedger/perSubscriber`` of them.
struct DeliveryWorkers: Service {
    let ledger: DeliveryLedger
    let senders: PushSenders
    let handoff: DeliveryHandoff
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
                // The claim runs when the last one found work (there may be more) or a poll
                // interval after one that found none; between, handed-over deliveries need no
                // query. Due rows come from retries, breakers, other replicas and restarts.
                var claimAt = ContinuousClock.now
                while !Task.isCancelled {
                    let room = min(claimBatch, maxInFlight - inFlight.total)
                    var started = handoff.take(room: room, inFlight: inFlight.snapshot, perSubscriber: ledger.perSubscriber)
                    if room > started.count, ContinuousClock.now >= claimAt {
                        do {
                            let busy = inFlight.snapshot.merging(Dictionary(started.map { ($0.subscription, 1) }, uniquingKeysWith: +), uniquingKeysWith: +)
                            let claimed = try await ledger.lease(limit: room - started.count, inFlight: busy)
                            claimAt = claimed.isEmpty ? ContinuousClock.now + pollInterval : ContinuousClock.now
                            started += claimed
                        } catch is CancellationError {
                            return
                        } catch {
                            claimAt = ContinuousClock.now + pollInterval
                            logger.warning("delivery claim failed", metadata: ["error": "\(error)"])
                        }
                    }
                    for delivery in started {
                        inFlight.start(delivery.subscription)
                        group.addTask {
                            await deliver(delivery)
                            inFlight.finish(delivery.subscription)
                            // A finished send frees room: go again without waiting for the poll.
                            handoff.wakeup.signal()
                        }
                    }
                    // Fewer than there was room for: wait for a send to finish, a delivery to be
                    // handed over or queued (each signals), or the poll.
                    if started.count < room || room == 0 { await handoff.wakeup.wait(upTo: pollInterval) }
                }
            }
        }
    }

    /// Sends one delivery and records the outcome. An outcome that cannot be recorded is
    /// logged; the lease runs out and the delivery goes again, under the same id.
    func deliver(_ delivery: OutgoingDelivery) async {
        guard delivery.channel == .wecom else { return await send(delivery, others: []) }
        // A robot takes 20 messages a minute: its turn is decided first (``RobotPacing``).
        let plan: RobotPlan
        do {
            plan = try await ledger.pace(delivery)
        } catch {
            logger.warning("pacing a robot message failed", metadata: ["delivery": "\(delivery.id.uuidString.lowercased())", "error": "\(error)"])
            return
        }
        switch plan {
        case .skip: return
        case .wait: handoff.drop(delivery.subscription)
        case .send: await send(delivery, others: [])
        case let .group(payload, others):
            var grouped = delivery
            grouped.payload = payload
            await send(grouped, others: others)
        }
    }

    /// Sends one delivery, with the `others` its message names, and records the outcome.
    private func send(_ delivery: OutgoingDelivery, others: [UUID]) async {
        let attempt = await senders.send(delivery)
        if !attempt.succeeded { handoff.drop(delivery.subscription) }
        if let detail = attempt.withheldDetail {
            logger.info("delivery to an allowed internal receiver failed", metadata: ["delivery": "\(delivery.id.uuidString.lowercased())", "error": "\(detail)"])
        }
        do {
            if others.isEmpty {
                try await ledger.record(delivery, attempt)
            } else {
                try await ledger.recordGroup(delivery, others: others, attempt)
            }
        } catch {
            logger.warning("recording a delivery failed", metadata: ["delivery": "\(delivery.id.uuidString.lowercased())", "error": "\(error)"])
        }
    }
}
