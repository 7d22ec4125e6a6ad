import Foundation
import PinganConnect
import PinganContracts
import PinganDomain
import PinganTestSupport
import Testing

/// 澧县 runs its own mesh. When it escalates a case to the city, the city must hear of it even
/// while the link to the city's mesh is cut: the county's administrators subscribe the city's
/// duty room in the county's notify-service, at the city's centre, and it is pushed as a
/// subscription of the city in the city's own mesh would be for the county's events.
@Suite("notify-service: a county mesh pushes to the city's duty room")
struct DutyRoomTests {
    static let city = "430700000000"

    func escalation(to centre: String, case id: String) -> Pingan_Notify_V1_DeliverNoticeRequest {
        var escalated = notice("case.escalated", about: id, summary: "\(Place.lixian) asks for support")
        escalated.centreCode = centre
        return escalated
    }

    @Test func theCountysAdministratorsSubscribeTheCityAndItHearsOnlyWhatIsAddressedToIt() async throws {
        let receiver = TestPushReceiver()
        try await receiver.withNotify(configure: { settings, _ in
            settings.service.mesh.root = try DivisionCode(validating: Place.lixian)
        }) { rpc, port, _ in
            let countyAdmin = try person(Place.lixian, [.admin])
            var subscribe = Pingan_Notify_V1_SubscribeRequest()
            subscribe.centreCode = Self.city
            subscribe.url = "http://127.0.0.1:\(port)/hook"
            subscribe.secret = SendTestPushTests.secret
            subscribe.eventTypes = ["case.escalated"]
            let dutyRoom = try await rpc.call(NotifyServiceMethods.subscribe, subscribe, headers: [countyAdmin]).subscription
            #expect(dutyRoom.centreCode == Self.city)

            // Only the root's own people reach above it, and only one level.
            await expectCode(.permissionDenied, containing: "centre_code") {
                _ = try await rpc.call(NotifyServiceMethods.subscribe, subscribe, headers: [try person(Place.townA, [.admin])])
            }
            var otherCounty = subscribe
            otherCounty.centreCode = "430724000000"
            await expectCode(.permissionDenied, containing: "centre_code") {
                _ = try await rpc.call(NotifyServiceMethods.subscribe, otherCounty, headers: [countyAdmin])
            }

            // The county lists it with its own; a township neither lists nor finds it.
            let listed = try await rpc.call(NotifyServiceMethods.listSubscriptions, .with { $0.centreCode = Place.lixian }, headers: [countyAdmin])
            #expect(listed.subscriptions.map(\.id) == [dutyRoom.id])
            let township = try await rpc.call(NotifyServiceMethods.listSubscriptions, .with { $0.centreCode = Place.townA }, headers: [try person(Place.townA, [.admin])])
            #expect(township.subscriptions.isEmpty)
            await expectCode(.notFound, containing: "subscription") {
                _ = try await rpc.call(NotifyServiceMethods.pauseSubscription, .with { $0.subscriptionID = dutyRoom.id }, headers: [try person(Place.townA, [.admin])])
            }

            // It is pushed as a subscription of the city in the city's own mesh would be: the
            // escalations under the city (its filter's type), the county's to the city among them.
            let toCounty = UUID().wire, toCity = UUID().wire
            #expect(try await rpc.call(NotifyServiceMethods.deliverNotice, notice("case.summoned", summary: "summoned"), headers: try TestMesh.eventDelivery()).deliveries == 0)
            #expect(try await rpc.call(NotifyServiceMethods.deliverNotice, escalation(to: Place.lixian, case: toCounty), headers: try TestMesh.eventDelivery()).deliveries == 1)
            #expect(try await rpc.call(NotifyServiceMethods.deliverNotice, escalation(to: Self.city, case: toCity), headers: try TestMesh.eventDelivery()).deliveries == 1)
            #expect(await eventually(timeout: .seconds(20)) { receiver.all.count == 2 })
            let pushed = receiver.all.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.body)) as? [String: Any])?["case_id"] as? String }
            #expect(Set(pushed) == [toCounty, toCity])

            // The county's staff read its delivery beside their own; the county manages it.
            let deliveries = try await rpc.call(NotifyServiceMethods.listDeliveries, .with { $0.caseID = toCity }, headers: [try person(Place.lixian, [.staff])])
            #expect(deliveries.deliveries.map(\.subscriptionID) == [dutyRoom.id])
            let townStaff = try person(Place.townA, [.staff])
            #expect(try await rpc.call(NotifyServiceMethods.listDeliveries, .with { $0.caseID = toCity }, headers: [townStaff]).deliveries.isEmpty)
            _ = try await rpc.call(NotifyServiceMethods.unsubscribe, .with { $0.subscriptionID = dutyRoom.id }, headers: [countyAdmin])
            #expect(try await rpc.call(NotifyServiceMethods.listSubscriptions, .with { $0.centreCode = Place.lixian }, headers: [countyAdmin]).subscriptions.isEmpty)
        }
    }

    /// In the city's own mesh nobody subscribes above it: the city has no level above in Pingan.
    @Test func theCitysMeshHasNoCentreAboveItToSubscribe() async throws {
        let receiver = TestPushReceiver()
        try await receiver.withNotify { rpc, port, _ in
            var subscribe = Pingan_Notify_V1_SubscribeRequest()
            subscribe.centreCode = Self.city
            subscribe.url = "http://127.0.0.1:\(port)/hook"
            subscribe.secret = SendTestPushTests.secret
            // The county's administrators in the city's mesh act for a county under it.
            await expectCode(.permissionDenied, containing: "centre_code") {
                _ = try await rpc.call(NotifyServiceMethods.subscribe, subscribe, headers: [try person(Place.lixian, [.admin])])
            }
            let cityAdmin = try person(Self.city, [.admin])
            #expect(try await rpc.call(NotifyServiceMethods.subscribe, subscribe, headers: [cityAdmin]).subscription.centreCode == Self.city)
        }
    }
}
