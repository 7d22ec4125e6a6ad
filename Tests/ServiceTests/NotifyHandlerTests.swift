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
            let app = try NotifyApp.build(settings: try TestMesh.settings(databaseURL: database.url))
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
}
