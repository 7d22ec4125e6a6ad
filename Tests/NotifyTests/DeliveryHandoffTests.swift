import Foundation
import PinganAccess
import PinganConnect
import PinganDomain
@testable import NotifyService
@testable import PinganOutbox
import PinganPostgres
import PinganTestSupport
import Synchronization
import Testing

/// A delivery notify-service stores for a healthy subscriber is leased to the storing process
/// and handed to its workers when the transaction commits, so it goes out without a claim
/// query; every other delivery waits for the claim, as all did before.
@Suite("notify-service: deliveries handed over at commit")
struct DeliveryHandoffTests {
    struct Setup {
        let pool: PostgresPool
        let store: PostgresDeliveryStore
        let handoff: DeliveryHandoff
        let ledger: DeliveryLedger
        let healthy: UUID
        let paused: UUID

        /// Queues a warning raised in township A, as risk-service's relay would deliver it: in
        /// `batch`, or in a batch of its own.
        @discardableResult
        func warn(in batch: EventBatch? = nil) async throws -> UUID {
            let warning = UUID()
            let content = PushContent(
                type: "warning.raised", subject: warning, caseID: UUID().wire, centre: Place.townA, village: Place.villageA,
                summary: "", score: 80, reasons: ["threat_of_violence +40"], incidentID: UUID().wire, dueAt: "", category: nil
            )
            let centre = try DivisionCode(validating: Place.townA)
            if let batch {
                _ = try await store.queue(content, centre: centre, applying: try Self.event(in: batch))
            } else {
                _ = try await store.inbox.batch { try await store.queue(content, centre: centre, applying: try Self.event(in: $0)) }
            }
            return warning
        }

        static func sender() throws -> Principal {
            Principal(subject: "service:risk", centre: try DivisionCode(validating: Place.townA), roles: [.system], expiresAt: Date().addingTimeInterval(60))
        }

        static func event(in batch: EventBatch) throws -> EventDelivery {
            EventDelivery(id: UUID(), sender: try sender(), batch: batch)
        }

        /// Each delivery's subscription and whether it is leased (due only after the lease).
        func rows() async throws -> [(id: UUID, subscription: UUID, leased: Bool)] {
            try await pool.query(
                "SELECT id, subscription_id, next_attempt_at > clock_timestamp() + interval '5 seconds' FROM notify.deliveries ORDER BY created_at, id"
            ).map { (try $0.decode(UUID.self, at: 0), try $0.decode(UUID.self, at: 1), try $0.decode(Bool.self, at: 2)) }
        }
    }

    /// Two subscriptions that both receive township A's warnings: one healthy, one whose last
    /// send failed (its breaker decides when it is sent). No workers run: the test takes what
    /// is handed over itself.
    /// The handoff's clock stands still unless `maxWait` is given, and leases last minutes: how
    /// long a delivery may wait, and a lease, are seconds of wall time, which a loaded CI
    /// machine can spend between two lines of a test.
    func withSetup(perSubscription: Int = 2, maxWait: Duration? = nil, _ body: (Setup) async throws -> Void) async throws {
        try await TestDatabase.with { database in
            // notify-service's own migrations make its schema.
            try await NotifyApp.build(settings: NotifySettings(service: try TestMesh.settings(databaseURL: database.url))).test(.router) { _ in }
            let pool = database.pool()
            let healthy = UUID(), paused = UUID()
            try await pool.query(
                """
                INSERT INTO notify.subscriptions (id, centre_code, url, secret, failures) VALUES
                    ($1, $2, 'http://127.0.0.1:9/healthy', 'a-shared-secret-of-24-b', 0), ($3, $4, 'http://127.0.0.1:9/failing', 'a-shared-secret-of-24-b', 1)
                """,
                [healthy, Place.townA, paused, Place.lixian]
            )
            // Leases of ten minutes, so PostgreSQL's clock does not end one mid-test either.
            var ledger = DeliveryLedger(pool: pool)
            ledger.sendTimeout = .seconds(600)
            let clock = HandoffClock(still: maxWait == nil ? ContinuousClock.now : nil)
            let handoff = DeliveryHandoff(wakeup: OutboxWakeup(), ledger: ledger, perSubscription: perSubscription, maxWait: maxWait, now: clock.now)
            let store = PostgresDeliveryStore(pool: pool, outbox: Outbox(schema: "notify"), push: PushSettings(), handoff: handoff)
            do {
                try await body(Setup(pool: pool, store: store, handoff: handoff, ledger: ledger, healthy: healthy, paused: paused))
            } catch {
                await pool.close()
                throw error
            }
            await pool.close()
        }
    }

    @Test func aHealthySubscribersDeliveryIsLeasedAndHandedOverAndNoClaimTakesIt() async throws {
        try await withSetup { setup in
            for _ in 1...3 { try await setup.warn() }
            let rows = try await setup.rows()
            #expect(rows.count == 6)
            let handed = setup.handoff.take(room: 10, inFlight: [:], perSubscriber: 10)
            // Room for two per subscription here: the third healthy one is stored due, and
            // the failing subscription's never skip the claim.
            let leased = rows.filter(\.leased)
            #expect(leased.map(\.subscription) == [setup.healthy, setup.healthy])
            #expect(handed.map(\.id) == leased.map(\.id))
            #expect(handed.allSatisfy { $0.secret == "a-shared-secret-of-24-b" && $0.url.hasSuffix("/healthy") && $0.attempts == 0 })
            // Another replica's claim takes only what is due: the third healthy delivery and
            // one probe of the failing subscription.
            let claimed = try await setup.ledger.lease(limit: 10, inFlight: [:])
            #expect(Set(claimed.map(\.id)).isDisjoint(with: handed.map(\.id)))
            let claimedFrom: Set<UUID> = Set(claimed.map(\.subscription))
            #expect(claimed.count == 2 && claimedFrom == [setup.healthy, setup.paused])
            // What was taken is gone from the hand-over.
            #expect(setup.handoff.take(room: 10, inFlight: [:], perSubscriber: 10).isEmpty)
        }
    }

    @Test func aDeliveryWhoseSubscriptionIsRemovedMidSendIsNotTriedAgain() async throws {
        try await withSetup { setup in
            try await setup.warn()
            let sending = try #require(setup.handoff.take(room: 1, inFlight: [:], perSubscriber: 1).first)
            // The administrator removes the subscription while the send is in flight; it fails.
            try await setup.store.unsubscribe(setup.healthy)
            try await setup.ledger.record(sending, DeliveryAttempt(status: nil, error: "connection refused", duration: .milliseconds(3)))
            let row = try await setup.pool.query(
                "SELECT attempts, next_attempt_at = 'infinity', delivered_at IS NULL FROM notify.deliveries WHERE id = $1", [sending.id]
            )[0]
            #expect(try row.decode(Int.self, at: 0) == 1 && row.decode(Bool.self, at: 1) && row.decode(Bool.self, at: 2))
            #expect(try await setup.ledger.lease(limit: 10, inFlight: [:]).allSatisfy { $0.subscription != setup.healthy })
        }
    }

    @Test func nothingIsHandedOverFromARolledBackBatchAndTheWorkersLimitsHold() async throws {
        try await withSetup(perSubscription: 8) { setup in
            struct Refused: Error {}
            await #expect(throws: Refused.self) {
                try await setup.store.inbox.batch { batch in
                    try await setup.warn(in: batch)
                    throw Refused()
                }
            }
            #expect(try await setup.rows().isEmpty)
            #expect(setup.handoff.take(room: 10, inFlight: [:], perSubscriber: 10).isEmpty)

            // A batch that commits hands over each healthy delivery once, after the commit.
            try await setup.store.inbox.batch { batch in
                for _ in 1...4 { try await setup.warn(in: batch) }
            }
            // Two sends already in flight to the healthy subscriber leave room for two more.
            let first = setup.handoff.take(room: 10, inFlight: [setup.healthy: 2], perSubscriber: 4)
            #expect(first.count == 2)
            let second = setup.handoff.take(room: 1, inFlight: [:], perSubscriber: 4)
            #expect(second.count == 1)
            // A failed send to the subscriber drops the rest: its breaker and the claim decide.
            setup.handoff.drop(setup.healthy)
            #expect(setup.handoff.take(room: 10, inFlight: [:], perSubscriber: 4).isEmpty)
            #expect(try await setup.rows().filter(\.leased).count == 4)
        }
    }

    @Test func aDeliveryThatWaitedTooLongIsLeftToItsLease() async throws {
        try await withSetup(maxWait: .zero) { setup in
            try await setup.warn()
            #expect(try await setup.rows().filter(\.leased).count == 1)
            #expect(setup.handoff.take(room: 10, inFlight: [:], perSubscriber: 4).isEmpty)
        }
    }

    /// The rule under the hand-over, for any consumer: work an event leaves for after its
    /// commit runs once for each event whose change committed, and never for one whose change
    /// was rolled back, even when its batch runs twice.
    @Test func workLeftForAfterTheCommitRunsOnlyForEventsThatCommitted() async throws {
        try await withSetup { setup in
            let ran = Mutex<[String]>([])
            let inbox = setup.store.inbox
            let sender = try Setup.sender()
            let events = ["a", "b", "c"].map { ($0, UUID()) }
            let passes = Mutex(0)
            try await inbox.batch { batch in
                passes.withLock { $0 += 1 }
                for (label, id) in events {
                    _ = try? await inbox.apply(EventDelivery(id: id, sender: sender, batch: batch)) { change in
                        change.afterCommit { ran.withLock { $0.append(label) } }
                        // "b" fails inside its change: the first pass is rolled back and the
                        // batch runs again with a savepoint per event.
                        if label == "b" { _ = try await change.transaction.query("SELECT 1 / 0") }
                    }
                }
            }
            #expect(passes.withLock { $0 } == 2)
            #expect(ran.withLock { $0 } == ["a", "c"])
            #expect(try await setup.pool.query("SELECT count(*) FROM notify.inbox")[0].decode(Int.self, at: 0) == 2)
            // A batch of one: after its commit, and not after a rollback.
            try await inbox.batch { batch in
                _ = try await inbox.apply(EventDelivery(id: UUID(), sender: sender, batch: batch)) { change in
                    change.afterCommit { ran.withLock { $0.append("d") } }
                }
            }
            _ = try? await inbox.batch { batch in
                _ = try await inbox.apply(EventDelivery(id: UUID(), sender: sender, batch: batch)) { change in
                    change.afterCommit { ran.withLock { $0.append("e") } }
                    _ = try await change.transaction.query("SELECT 1 / 0")
                }
            }
            #expect(ran.withLock { $0 } == ["a", "c", "d"])
        }
    }
}

/// The handoff's clock in these tests: held still, or the real one.
struct HandoffClock: Sendable {
    let still: ContinuousClock.Instant?

    @Sendable func now() -> ContinuousClock.Instant { still ?? ContinuousClock.now }
}
