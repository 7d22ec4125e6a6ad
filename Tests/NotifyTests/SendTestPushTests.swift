import Foundation
import HTTPTypes
import Hummingbird
@testable import NotifyService
import PinganConnect
import PinganContracts
import PinganPostgres
import PinganTestSupport
import Synchronization
import Testing

/// A receiver that keeps what it was posted: each request's headers and body.
final class TestPushReceiver: Sendable {
    struct Received: Sendable {
        /// By lowercased name.
        let headers: [String: String]
        let body: [UInt8]
    }

    private let received = Mutex<[Received]>([])

    var all: [Received] { received.withLock { $0 } }

    func application(onRunning: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
        let router = Router()
        router.post("hook") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            self.received.withLock { $0.append(Received(headers: headers, body: Array(body.readableBytesView))) }
            return Response(status: .ok)
        }
        return Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { await onRunning($0.localAddress?.port ?? 0) }, logger: TestEnvironment.logger
        )
    }
}

extension TestPushReceiver {
    /// notify-service in process over a fresh database, with this receiver live on loopback and
    /// allowed to receive pushes (with `others`, more `host:port` entries); `configure` adjusts
    /// the settings, given the receiver's port.
    func withNotify(
        allowing others: [String] = [], configure: (inout NotifySettings, Int) throws -> Void = { _, _ in },
        _ body: @escaping @Sendable (InProcessClient, _ port: Int, TestDatabase) async throws -> Void
    ) async throws {
        try await withLiveServer({ application(onRunning: $0) }) { port in
            try await TestDatabase.with { database in
                var settings = NotifySettings(
                    service: try TestMesh.settings(databaseURL: database.url),
                    allowedHosts: try WebhookAllowList((["127.0.0.1:\(port)"] + others).joined(separator: ","))
                )
                try configure(&settings, port)
                try await NotifyApp.build(settings: settings).test(.router) { client in try await body(InProcessClient(client), port, database) }
            }
        }
    }
}

/// A notice about `caseID` in village A of township A, as dispute-service's relay delivers it.
func notice(_ type: String, about caseID: String = UUID().wire, summary: String) -> Pingan_Notify_V1_DeliverNoticeRequest {
    var notice = Pingan_Notify_V1_DeliverNoticeRequest()
    notice.type = type
    notice.caseID = caseID
    notice.centreCode = Place.townA
    notice.villageCode = Place.villageA
    notice.summary = summary
    return notice
}

/// `SendTestPush`: one push labelled 测试推送 to one subscription, through the same channel
/// code, signing and ledger as every push, for the subtree's administrators only.
@Suite("notify-service: test pushes")
struct SendTestPushTests {
    static let secret = "a-shared-secret-of-24-b"

    func subscribe(_ rpc: InProcessClient, _ centre: String, _ configure: (inout Pingan_Notify_V1_SubscribeRequest) -> Void) async throws -> Pingan_Notify_V1_Subscription {
        var request = Pingan_Notify_V1_SubscribeRequest()
        request.centreCode = centre
        request.secret = Self.secret
        configure(&request)
        return try await rpc.call(NotifyServiceMethods.subscribe, request, headers: [try person(centre, [.admin])]).subscription
    }

    func test(_ rpc: InProcessClient, _ subscription: String, as caller: (String, String)) async throws -> String {
        try await rpc.call(NotifyServiceMethods.sendTestPush, .with { $0.subscriptionID = subscription }, headers: [caller]).deliveryID
    }

    @Test func aWebhookTestIsSignedDeliveredAndListed() async throws {
        let receiver = TestPushReceiver()
        try await receiver.withNotify { rpc, port, _ in
            // Its filter admits only warnings of 90 and more: a test goes all the same.
            let hook = try await subscribe(rpc, Place.townA) {
                $0.url = "http://127.0.0.1:\(port)/hook"
                $0.eventTypes = ["warning.raised"]
                $0.minScore = 90
            }
            let delivery = try await test(rpc, hook.id, as: try person(Place.townA, [.admin]))
            #expect(UUID(uuidString: delivery) != nil)
            #expect(await eventually(timeout: .seconds(20)) { !receiver.all.isEmpty })
            let received = try #require(receiver.all.first)
            #expect(received.headers["webhook-id"] == delivery && received.headers["x-pingan-event"] == "push.test")
            let stamp = try #require(received.headers["webhook-timestamp"].flatMap(Int.init))
            let expected = WebhookSigning.signature(id: delivery, timestamp: stamp, body: received.body, key: try WebhookSecret(Self.secret))
            #expect(received.headers["webhook-signature"] == expected)

            let body = try #require(try JSONSerialization.jsonObject(with: Data(received.body)) as? [String: Any])
            #expect(body["type"] as? String == "push.test" && body["delivery_id"] as? String == delivery)
            #expect(body["case_id"] as? String == "" && body["score"] == nil && body["village_code"] as? String == "")
            let text = try #require(body["text"] as? String)
            #expect(text.hasPrefix("平安 · 测试推送") && text.contains("不涉及任何案件或当事人"))
            #expect((body["link"] as? String)?.hasSuffix("/ui/admin/subscriptions?centre=\(Place.townA)") == true)

            // Recorded as any delivery: by its id, by the centre, and by its type.
            let staff = try person(Place.townA, [.staff])
            let recorded = await eventually(timeout: .seconds(20)) {
                let listed = try await rpc.call(NotifyServiceMethods.listDeliveries, .with { $0.warningID = delivery }, headers: [staff]).deliveries
                return listed.count == 1 && !listed[0].deliveredAt.isEmpty && listed[0].attempts == 1
            }
            #expect(recorded)
            let byCentre = try await rpc.call(NotifyServiceMethods.listDeliveries, .with { $0.centreCode = Place.townA }, headers: [staff]).deliveries
            #expect(byCentre.map(\.id) == [delivery] && byCentre.first?.eventType == "push.test" && byCentre.first?.caseID == "")
            let byType = try await rpc.call(NotifyServiceMethods.listDeliveries, .with { $0.centreCode = Place.townA; $0.eventType = "push.test" }, headers: [staff])
            #expect(byType.deliveries.map(\.id) == [delivery])

            // Each call is a new delivery.
            let again = try await test(rpc, hook.id, as: try person(Place.townA, [.admin]))
            #expect(again != delivery)
            #expect(await eventually(timeout: .seconds(20)) { receiver.all.count == 2 })
        }
    }

    @Test func everyChannelRendersTheTestInChineseWithoutACase() async throws {
        try await TestDatabase.with { database in
            let settings = NotifySettings(service: try TestMesh.settings(databaseURL: database.url), allowedHosts: try WebhookAllowList("127.0.0.1:9"))
            try await NotifyApp.build(settings: settings).test(.router) { client in
                let rpc = InProcessClient(client)
                let admin = try person(Place.townA, [.admin])
                let wecom = try await subscribe(rpc, Place.townA) { $0.channel = .wecom; $0.url = "http://127.0.0.1:9/cgi-bin/webhook/send?key=k" }
                let sms = try await subscribe(rpc, Place.townA) { $0.channel = .sms; $0.url = "http://127.0.0.1:9/sms"; $0.phone = "13912345678" }
                let mail = try await subscribe(rpc, Place.townA) { $0.channel = .email; $0.email = "zongzhi@example.org" }
                let pool = database.pool()
                func payload(_ delivery: String) async throws -> (event: String, payload: String, digest: String) {
                    let row = try await pool.query(
                        "SELECT event, payload, digest FROM notify.deliveries WHERE id = $1 AND subject_id = id", [try #require(UUID(uuidString: delivery))]
                    )[0]
                    return (try row.decode(String.self, at: 0), try row.decode(String.self, at: 1), try row.decode(String.self, at: 2))
                }

                let robot = try await payload(try await test(rpc, wecom.id, as: admin))
                let markdown = try #require(
                    ((try JSONSerialization.jsonObject(with: Data(robot.payload.utf8)) as? [String: Any])?["markdown"] as? [String: Any])?["content"] as? String
                )
                #expect(robot.event == "push.test" && markdown.hasPrefix("**平安 · 测试推送**") && markdown.contains("无需处理"))
                #expect(markdown.contains("/ui/admin/subscriptions") && !markdown.contains("/ui/cases/") && robot.digest.hasPrefix("测试推送"))

                let message = try await payload(try await test(rpc, sms.id, as: admin))
                let text = try #require((try JSONSerialization.jsonObject(with: Data(message.payload.utf8)) as? [String: Any])?["text"] as? String)
                #expect(text.hasPrefix("【平安】测试推送：") && text.count <= SMSMessage.maxCharacters && !text.contains("/ui/cases/"))

                let email = try await payload(try await test(rpc, mail.id, as: admin))
                #expect(email.payload.contains("X-Pingan-Event: push.test") && email.payload.contains("To: <zongzhi@example.org>"))
                let encoded = email.payload.components(separatedBy: "\r\n\r\n").dropFirst().joined().filter { !$0.isWhitespace }
                let plain = Data(base64Encoded: encoded).map { String(decoding: $0, as: UTF8.self) } ?? ""
                #expect(plain.hasPrefix("平安 · 测试推送") && plain.contains("事由：这是一条测试推送"))
                await pool.close()
            }
        }
    }

    @Test func onlyTheSubtreesAdministratorsMayTestASubscription() async throws {
        try await TestDatabase.with { database in
            let settings = NotifySettings(service: try TestMesh.settings(databaseURL: database.url), allowedHosts: try WebhookAllowList("127.0.0.1:9"))
            try await NotifyApp.build(settings: settings).test(.router) { client in
                let rpc = InProcessClient(client)
                let hook = try await subscribe(rpc, Place.townA) { $0.url = "http://127.0.0.1:9/hook" }
                // A sibling's administrator is told what one told of no such subscription.
                await expectCode(.notFound, containing: "subscription \(hook.id) not found") {
                    _ = try await test(rpc, hook.id, as: try person(Place.townB, [.admin]))
                }
                await expectCode(.notFound) { _ = try await test(rpc, UUID().wire, as: try person(Place.townA, [.admin])) }
                // Staff and leaders may look at subscriptions, not push to them.
                await expectCode(.permissionDenied, containing: "this needs one of the roles admin") {
                    _ = try await test(rpc, hook.id, as: try person(Place.townA, [.staff, .leader]))
                }
                await expectCode(.invalidArgument, containing: "subscription_id") { _ = try await test(rpc, "nope", as: try person(Place.townA, [.admin])) }
                // The county above may test its township's subscription.
                _ = try await test(rpc, hook.id, as: try person(Place.lixian, [.admin]))
                _ = try await rpc.call(NotifyServiceMethods.unsubscribe, .with { $0.subscriptionID = hook.id }, headers: [try person(Place.townA, [.admin])])
                await expectCode(.notFound) { _ = try await test(rpc, hook.id, as: try person(Place.townA, [.admin])) }
                let pool = database.pool()
                #expect(try await pool.query("SELECT count(*) FROM notify.deliveries WHERE event = 'push.test'")[0].decode(Int.self, at: 0) == 1)
                await pool.close()
            }
        }
    }
}
