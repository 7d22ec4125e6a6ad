import Foundation
@testable import NotifyService
import PinganConnect
import PinganContracts
import PinganPostgres
import PinganTestSupport
import Testing

/// Whom a raised warning reaches, and what its push says (issue 24): every push names the
/// owning centre, and the village separately; a decisive warning also reaches the village's
/// own subscribers.
@Suite("notify: a warning's centre and village")
struct WarningRoutingTests {
    @Test func aDecisiveWarningReachesTheVillageAndStillNamesTheOwningCentre() async throws {
        try await TestDatabase.with { database in
            let app = try NotifyApp.build(settings: NotifySettings(service: try TestMesh.settings(databaseURL: database.url), allowedHosts: try WebhookAllowList("127.0.0.1:9")))
            try await app.test(.router) { client in
                let rpc = InProcessClient(client)
                for centre in [Place.villageA, Place.townA, Place.lixian] {
                    var subscribe = Pingan_Notify_V1_SubscribeRequest()
                    subscribe.centreCode = centre
                    subscribe.url = "http://127.0.0.1:9/hook"
                    subscribe.secret = "a-shared-secret-of-24-b"
                    _ = try await rpc.call(NotifyServiceMethods.subscribe, subscribe, headers: [try person(centre, [.admin])])
                }
                var warning = Pingan_Notify_V1_DeliverWarningRequest()
                warning.warningID = UUID().wire
                warning.caseID = UUID().wire
                warning.centreCode = Place.townA
                warning.villageCode = Place.villageA
                warning.score = 100
                warning.decisive = true
                #expect(try await rpc.call(NotifyServiceMethods.deliverWarning, warning, headers: try TestMesh.eventDelivery()).deliveries == 3)
                let pool = database.pool()
                let bodies = try await pool.query("SELECT payload FROM notify.deliveries WHERE subject_id = $1", [try #require(UUID(uuidString: warning.warningID))])
                    .map { try JSONSerialization.jsonObject(with: Data(try $0.decode(String.self, at: 0).utf8)) as? [String: Any] ?? [:] }
                await pool.close()
                #expect(bodies.count == 3)
                #expect(bodies.allSatisfy { $0["centre_code"] as? String == Place.townA && $0["village_code"] as? String == Place.villageA })

                // Not decisive: the township and above, not the village.
                warning.warningID = UUID().wire
                warning.decisive = false
                #expect(try await rpc.call(NotifyServiceMethods.deliverWarning, warning, headers: try TestMesh.eventDelivery()).deliveries == 2)

                // A decisive warning about a village outside its owner is refused, naming the field.
                warning.warningID = UUID().wire
                warning.decisive = true
                warning.villageCode = Place.villageB
                await expectCode(.invalidArgument, containing: "village_code:") {
                    _ = try await rpc.call(NotifyServiceMethods.deliverWarning, warning, headers: try TestMesh.eventDelivery())
                }
            }
        }
    }
}
