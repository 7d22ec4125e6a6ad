import Foundation
@testable import NotifyService
import PinganConnect
import PinganContracts
import PinganPostgres
import PinganTestSupport
import Testing

@Suite("notify-service in process")
struct NotifyHandlerTests {
    @Test func aWarningIsQueuedOnceForTheCentreAndEveryCentreAboveIt() async throws {
        try await TestDatabase.with { database in
            let app = try NotifyApp.build(settings: NotifySettings(service: try TestMesh.settings(databaseURL: database.url), allowedHosts: ["127.0.0.1"]))
            try await app.test(.router) { client in
                let rpc = InProcessClient(client)
                var subscriptions: [String: String] = [:]
                for centre in [Place.townA, Place.lixian, Place.townB] {
                    var subscribe = Pingan_Notify_V1_SubscribeRequest()
                    subscribe.centreCode = centre
                    // Port 9 (discard) refuses: deliveries stay queued for the assertions below.
                    subscribe.url = "http://127.0.0.1:9/hook"
                    subscribe.secret = "a-shared-secret-of-24-b"
                    subscriptions[centre] = try await rpc.call(NotifyServiceMethods.subscribe, subscribe, headers: [try person(centre, [.admin])]).subscription.id
                }
                var subscribe = Pingan_Notify_V1_SubscribeRequest()
                subscribe.centreCode = Place.lixian
                subscribe.url = "ftp://example.org/"
                subscribe.secret = "a-shared-secret-of-24-b"
                await expectCode(.invalidArgument, containing: "url:") {
                    _ = try await rpc.call(NotifyServiceMethods.subscribe, subscribe, headers: [try person(Place.lixian, [.admin])])
                }
                subscribe.url = "http://127.0.0.1:9/hook"
                await expectCode(.permissionDenied, containing: "centre_code:") {
                    _ = try await rpc.call(NotifyServiceMethods.subscribe, subscribe, headers: [try person(Place.townA, [.admin])])
                }

                var warning = Pingan_Notify_V1_DeliverWarningRequest()
                warning.warningID = UUID().wire
                warning.caseID = UUID().wire
                warning.centreCode = Place.townA
                warning.villageCode = Place.villageA
                warning.score = 65
                let event = try TestMesh.eventDelivery()
                let queued = try await rpc.call(NotifyServiceMethods.deliverWarning, warning, headers: event)
                let again = try await rpc.call(NotifyServiceMethods.deliverWarning, warning, headers: event)
                #expect(queued.deliveries == 2)
                #expect(again.deliveries == 2)

                var list = Pingan_Notify_V1_ListDeliveriesRequest()
                list.warningID = warning.warningID
                let seen = try await rpc.call(NotifyServiceMethods.listDeliveries, list, headers: [try person(Place.lixian, [.staff])]).deliveries
                #expect(Set(seen.map(\.subscriptionID)) == Set([subscriptions[Place.townA], subscriptions[Place.lixian]].compactMap { $0 }))
                #expect(seen.allSatisfy { $0.warningID == warning.warningID })
                let sibling = try await rpc.call(NotifyServiceMethods.listDeliveries, list, headers: [try person(Place.townB, [.staff])]).deliveries
                #expect(sibling.isEmpty)
            }
        }
    }

    @Test func subscribersOnTheServicesOwnNetworkAreRefusedAtSubscribeAndAgainAtDelivery() async throws {
        try await TestDatabase.with { database in
            let app = try NotifyApp.build(settings: NotifySettings(service: try TestMesh.settings(databaseURL: database.url)))
            try await app.test(.router) { client in
                let rpc = InProcessClient(client)
                let admin = try person(Place.townA, [.admin])
                var subscribe = Pingan_Notify_V1_SubscribeRequest()
                subscribe.centreCode = Place.townA
                subscribe.secret = "a-shared-secret-of-24-b"
                for (url, why) in [
                    ("http://127.0.0.1:9/hook", "a loopback address"), ("http://169.254.169.254/latest/meta-data", "a link-local or metadata address"),
                    ("http://10.1.2.3/", "a private address"), ("http://[::1]:8080/", "a loopback address"), ("http://localhost:9/", "a loopback address"),
                    ("file:///etc/passwd", "must be an http or https URL"), ("gopher://example.org/", "must be an http or https URL"),
                ] {
                    subscribe.url = url
                    await expectCode(.invalidArgument, containing: why) { _ = try await rpc.call(NotifyServiceMethods.subscribe, subscribe, headers: [admin]) }
                }
                let pool = database.pool()
                #expect(try await pool.query("SELECT count(*) FROM notify.subscriptions")[0].decode(Int.self, at: 0) == 0)

                // A name that resolves to loopback by the time of delivery (DNS changed): refused
                // then too, recorded without the URL's credentials, and nothing is sent.
                let subscription = UUID()
                try await pool.query(
                    "INSERT INTO notify.subscriptions (id, centre_code, url, secret) VALUES ($1, $2, 'http://user:hunter2@localhost:9/hook', 'a-shared-secret-of-24-b')",
                    [subscription, Place.townA]
                )
                var warning = Pingan_Notify_V1_DeliverWarningRequest()
                warning.warningID = UUID().wire
                warning.caseID = UUID().wire
                warning.centreCode = Place.townA
                warning.villageCode = Place.villageA
                #expect(try await rpc.call(NotifyServiceMethods.deliverWarning, warning, headers: try TestMesh.eventDelivery()).deliveries == 1)
                let refused = await eventually(timeout: .seconds(20)) {
                    try await pool.query("SELECT count(*) FROM notify.attempts WHERE error LIKE 'refused: localhost resolves to %loopback%'")[0].decode(Int.self, at: 0) >= 1
                }
                #expect(refused)
                #expect(try await pool.query("SELECT count(*) FROM notify.attempts WHERE error LIKE '%hunter2%' OR status IS NOT NULL")[0].decode(Int.self, at: 0) == 0)
                // Its queue is paused as a whole: the breaker is open.
                #expect(try await pool.query("SELECT count(*) FROM notify.subscriptions WHERE paused_until > now() AND failures >= 1")[0].decode(Int.self, at: 0) == 1)
                await pool.close()
            }
        }
    }
}
