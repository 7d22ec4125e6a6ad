import Foundation
@testable import NotifyService
import PinganConnect
import PinganContracts
import PinganPostgres
import PinganRuntime
import PinganTestSupport
import Testing

/// The record of what was pushed, kept for `DELIVERY_RETENTION_DAYS` and not for ever: a
/// township's escalation notice, which quotes what staff wrote about a party, reaches one
/// receiver, keeps failing at another and is dropped for a removed one; a resident is texted
/// a rating link. Half a year on, the finished records go and the one still being retried stays.
@Suite("notify-service: how long pushes are kept")
struct DeliveryRetentionTests {
    @Test func finishedPushesAndTextsGoAfterHalfAYearAndOneStillRetriedStays() async throws {
        let receiver = TestPushReceiver()
        try await receiver.withNotify(allowing: ["127.0.0.1:9"], configure: { $0.textResidents(through: "http://127.0.0.1:\($1)/hook") }) { rpc, port, database in
            let admin = try person(Place.townA, [.admin])
            var ids: [String: String] = [:]
            for (name, url) in [("arrives", "http://127.0.0.1:\(port)/hook"), ("refused", "http://127.0.0.1:9/refused"), ("removed", "http://127.0.0.1:9/removed")] {
                var subscribe = Pingan_Notify_V1_SubscribeRequest()
                subscribe.centreCode = Place.townA
                subscribe.url = url
                subscribe.secret = "a-shared-secret-of-24-b"
                ids[name] = try await rpc.call(NotifyServiceMethods.subscribe, subscribe, headers: [admin]).subscription.id
            }
            let escalation = notice("case.escalated", summary: "周某扬言报复吴某，升级至县中心")
            #expect(try await rpc.call(NotifyServiceMethods.deliverNotice, escalation, headers: try TestMesh.eventDelivery()).deliveries == 3)
            _ = try await rpc.call(NotifyServiceMethods.unsubscribe, .with { $0.subscriptionID = ids["removed"] ?? "" }, headers: [admin])

            var text = Pingan_Notify_V1_SendResidentTextRequest()
            text.kind = .ratingLink
            text.phone = "13900001111"
            text.trackingID = "R20260302001"
            text.ratingToken = String(repeating: "ab", count: 16)
            #expect(try await rpc.call(NotifyServiceMethods.sendResidentText, text, headers: try TestMesh.eventDelivery()).sent)

            // Listed by case: the receiver's push arrives; the refused one keeps failing.
            let staff = try person(Place.townA, [.staff])
            func listed() async throws -> [Pingan_Notify_V1_Delivery] {
                try await rpc.call(NotifyServiceMethods.listDeliveries, .with { $0.caseID = escalation.caseID }, headers: [staff]).deliveries
            }
            let bySubscription = { (deliveries: [Pingan_Notify_V1_Delivery]) in
                Dictionary(uniqueKeysWithValues: deliveries.map { ($0.subscriptionID, $0) })
            }
            #expect(await eventually(timeout: .seconds(20)) {
                let now = bySubscription(try await listed())
                return now[ids["arrives"] ?? ""]?.deliveredAt.isEmpty == false && (now[ids["refused"] ?? ""]?.attempts ?? 0) > 0
            })

            let pool = database.pool()
            defer { Task { await pool.close() } }
            func count(_ table: String) async throws -> Int {
                try await pool.query("SELECT count(*) FROM notify.\(table)")[0].decode(Int.self, at: 0)
            }
            func quoting() async throws -> Int {
                try await pool.query("SELECT count(*) FROM notify.deliveries WHERE payload LIKE '%周某%'")[0].decode(Int.self, at: 0)
            }
            #expect(try await quoting() == 3)
            #expect(try await count("resident_texts") == 1)
            let retention = DeliveryRetention(pool: pool, keep: TimeInterval(DeliveryRetention.defaultDays) * 86_400)
            let day: TimeInterval = 86_400

            // A day short of half a year nothing goes.
            #expect(try await retention.run(now: Date().addingTimeInterval(179 * day), limit: 10) == 0)
            #expect(try await listed().count == 3)
            #expect(try await count("resident_texts") == 1)

            // After it, batch by batch: the delivered push with its attempt, the removed
            // subscription's push and the text; not the push still being retried.
            let later = Date().addingTimeInterval(181 * day)
            let refusedAttempts = try #require(bySubscription(try await listed())[ids["refused"] ?? ""]?.attempts)
            #expect(try await PeriodicTask.drain(batch: 1) { try await retention.run(now: later, limit: 1) } == 2)
            let left = try await listed()
            #expect(left.map(\.subscriptionID) == [ids["refused"]])
            #expect(try await quoting() == 1)
            #expect(try await count("resident_texts") == 0)
            // The push still being retried keeps every attempt it made (the foreign key keeps
            // the others from outliving their pushes).
            let kept = try await pool.query("SELECT count(*) FROM notify.attempts WHERE delivery_id = $1::uuid", [try #require(left.first?.id)])
            #expect(try kept[0].decode(Int.self, at: 0) >= Int(refusedAttempts))
            #expect(try await retention.run(now: later, limit: 10) == 0)
        }
    }

    @Test func theTermIsASettingOfHalfAYearToTenYears() throws {
        let base = ["MESH_SECRET": TestMesh.secret]
        #expect(try NotifySettings(SettingsReader(base)).deliveryRetention == 180 * 86_400)
        var year = base
        year["DELIVERY_RETENTION_DAYS"] = "365"
        #expect(try NotifySettings(SettingsReader(year)).deliveryRetention == 365 * 86_400)
        expectRefused("DELIVERY_RETENTION_DAYS", ["179", "3651", "half a year"], over: base) { try NotifySettings($0) }
    }
}
