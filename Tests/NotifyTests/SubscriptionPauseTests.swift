import Foundation
@testable import NotifyService
import PinganConnect
import PinganContracts
import PinganPostgres
import PinganTestSupport
import Testing

/// `PauseSubscription` and `ResumeSubscription`: a township's administrator holds the pushes
/// to its department's system while the receiver moves; what is pushed meanwhile waits, none
/// is lost, and all of it goes once the subscription is resumed.
@Suite("notify-service: pausing a subscription")
struct SubscriptionPauseTests {
    @Test func pushesWaitWhilePausedAndAllGoWhenResumed() async throws {
        let receiver = TestPushReceiver()
        try await receiver.withNotify { rpc, port, database in
            let admin = try person(Place.townA, [.admin])
            var subscribe = Pingan_Notify_V1_SubscribeRequest()
            subscribe.centreCode = Place.townA
            subscribe.url = "http://127.0.0.1:\(port)/hook"
            subscribe.secret = "a-shared-secret-of-24-b"
            let id = try await rpc.call(NotifyServiceMethods.subscribe, subscribe, headers: [admin]).subscription.id
            #expect(try await rpc.call(NotifyServiceMethods.subscribe, subscribe, headers: [admin]).subscription.pausedAt.isEmpty)

            // Staff may look, not pause; another township's administrator finds nothing.
            await expectCode(.permissionDenied, containing: "admin") {
                _ = try await rpc.call(NotifyServiceMethods.pauseSubscription, .with { $0.subscriptionID = id }, headers: [try person(Place.townA, [.staff])])
            }
            await expectCode(.notFound, containing: "subscription \(id)") {
                _ = try await rpc.call(NotifyServiceMethods.pauseSubscription, .with { $0.subscriptionID = id }, headers: [try person(Place.townB, [.admin])])
            }
            await expectCode(.invalidArgument, containing: "subscription_id") {
                _ = try await rpc.call(NotifyServiceMethods.pauseSubscription, .with { $0.subscriptionID = "that one" }, headers: [admin])
            }
            let paused = try await rpc.call(NotifyServiceMethods.pauseSubscription, .with { $0.subscriptionID = id }, headers: [admin]).subscription
            #expect(!paused.pausedAt.isEmpty)
            // Pausing again keeps when it was first paused; the list says it is paused.
            #expect(try await rpc.call(NotifyServiceMethods.pauseSubscription, .with { $0.subscriptionID = id }, headers: [admin]).subscription.pausedAt == paused.pausedAt)
            let listed = try await rpc.call(NotifyServiceMethods.listSubscriptions, .with { $0.centreCode = Place.townA }, headers: [admin]).subscriptions
            #expect(listed.map(\.pausedAt) == [paused.pausedAt])
            // A new secret for the same endpoint keeps the pause: only resuming ends it.
            var rotated = subscribe
            rotated.secret = "a-new-shared-secret-of-24"
            let again = try await rpc.call(NotifyServiceMethods.subscribe, rotated, headers: [admin]).subscription
            #expect(again.id == id && again.pausedAt == paused.pausedAt)
            await expectCode(.failedPrecondition, containing: "is paused") {
                _ = try await rpc.call(NotifyServiceMethods.sendTestPush, .with { $0.subscriptionID = id }, headers: [admin])
            }

            // Three notices while paused: queued, not handed to the workers, and no claim takes them.
            var cases: [String] = []
            for type in ["case.overdue", "case.escalated", "case.summoned"] {
                let held = notice(type, summary: type)
                #expect(try await rpc.call(NotifyServiceMethods.deliverNotice, held, headers: try TestMesh.eventDelivery()).deliveries == 1)
                cases.append(held.caseID)
            }
            let pool = database.pool()
            defer { Task { await pool.close() } }
            func waiting() async throws -> Int {
                try await pool.query(
                    "SELECT count(*) FROM notify.deliveries WHERE delivered_at IS NULL AND attempts = 0 AND next_attempt_at <= clock_timestamp()"
                )[0].decode(Int.self, at: 0)
            }
            #expect(try await waiting() == 3)
            #expect(try await DeliveryLedger(pool: pool).lease(limit: 10, inFlight: [:]).isEmpty)
            // Still due and never tried: neither this claim nor the service's workers leased one.
            #expect(try await waiting() == 3)
            #expect(receiver.all.isEmpty)

            // Resumed: all three arrive.
            let resumed = try await rpc.call(NotifyServiceMethods.resumeSubscription, .with { $0.subscriptionID = id }, headers: [admin]).subscription
            #expect(resumed.pausedAt.isEmpty)
            #expect(await eventually(timeout: .seconds(20)) { receiver.all.count == 3 })
            let arrived = receiver.all.compactMap { received in
                (try? JSONSerialization.jsonObject(with: Data(received.body)) as? [String: Any])?["case_id"] as? String
            }
            #expect(Set(arrived) == Set(cases))
            #expect(try await waiting() == 0)
            #expect(try await rpc.call(NotifyServiceMethods.resumeSubscription, .with { $0.subscriptionID = id }, headers: [admin]).subscription.pausedAt.isEmpty)
        }
    }
}
