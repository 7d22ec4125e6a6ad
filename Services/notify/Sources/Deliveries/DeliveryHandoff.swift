import Foundation
import PinganOutbox
import Synchronization

/// Deliveries this process stored already leased to itself, handed to its workers once the
/// transaction that stored them commits: the usual warning goes out without a claim query
/// between the commit and the send.
///
/// Memory is never the only copy: each delivery here is a row leased for ``leaseSeconds``.
/// One that waits longer than ``maxWait`` is dropped and
/// goes out when its lease runs out, as after a crash, so a send never starts late enough
/// for the lease to run out under it and another process to send it too.
final class DeliveryHandoff: Sendable {
    private struct Waiting {
        let delivery: OutgoingDelivery
        let since: ContinuousClock.Instant
    }

    /// The most that wait here for one subscription; more are stored due, for the claim.
    let perSubscription: Int
    /// How long a delivery handed over is leased to this process: longer than a send takes.
    let leaseSeconds: Double
    /// How long one may wait here: it must still be leased when its send ends.
    let maxWait: Duration
    /// The workers' wake-up, signalled when deliveries are handed over.
    let wakeup: OutboxWakeup
    private let waiting = Mutex<[Waiting]>([])

    /// - Parameters:
    ///   - ledger: whose lease and send timeout bound how long a delivery may wait.
    ///   - maxWait: shorter than that bound (the lease less the send timeout and a second).
    /// The time, for how long a delivery has waited; tests pass one they hold still.
    let now: @Sendable () -> ContinuousClock.Instant

    init(wakeup: OutboxWakeup, ledger: DeliveryLedger, perSubscription: Int = 64, maxWait: Duration? = nil,
         now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.wakeup = wakeup
        self.now = now
        self.perSubscription = perSubscription
        leaseSeconds = ledger.leaseSeconds
        let bound = Duration.seconds(leaseSeconds) - ledger.sendTimeout - .seconds(1)
        self.maxWait = min(maxWait ?? bound, bound)
    }

    /// Whether a delivery to `subscription` stored now may be handed over rather than claimed.
    func hasRoom(for subscription: UUID) -> Bool {
        waiting.withLock { waiting in waiting.count { $0.delivery.subscription == subscription } < perSubscription }
    }

    func hand(_ deliveries: [OutgoingDelivery]) {
        let since = now()
        waiting.withLock { $0.append(contentsOf: deliveries.map { Waiting(delivery: $0, since: since) }) }
        wakeup.signal()
    }

    /// Up to `room` deliveries, oldest first, none that would take a subscription past
    /// `perSubscriber` sends in flight (counting `inFlight`).
    func take(room: Int, inFlight: [UUID: Int], perSubscriber: Int) -> [OutgoingDelivery] {
        guard room > 0 else { return [] }
        let current = now()
        return waiting.withLock { waiting in
            var sending = inFlight
            var taken: [OutgoingDelivery] = []
            waiting.removeAll { entry in
                if current - entry.since > maxWait { return true }
                let subscription = entry.delivery.subscription
                guard taken.count < room, sending[subscription, default: 0] < perSubscriber else { return false }
                sending[subscription, default: 0] += 1
                taken.append(entry.delivery)
                return true
            }
            return taken
        }
    }

    /// Drops what waits for `subscription`: a send to it just failed, so its breaker decides
    /// when the rest go, through the claim, once their leases run out.
    func drop(_ subscription: UUID) {
        waiting.withLock { $0.removeAll { $0.delivery.subscription == subscription } }
    }
}
