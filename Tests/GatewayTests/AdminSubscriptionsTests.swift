import Foundation
import Hummingbird
import HummingbirdTesting
@testable import GatewayService
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain
import PinganTestSupport
import SwiftProtobuf
import Synchronization
import Testing

/// The rest of the centre administrator's workbench (issue 25): the subscriptions page
/// (`/ui/admin/subscriptions`) with its test push, the department key on the create-user form,
/// and a department's clerk landing on `/ui/department`. Against the gateway with a fake
/// notify-service; the page against the whole mesh is in Tests/Interop/test_workbench_admin.py.
@Suite("dashboard subscriptions and the admin's workbench")
struct AdminSubscriptionsTests {
    static let password = "correct-horse-battery"
    typealias Browser = DashboardRouteTests.Browser

    func signIn(_ client: any TestClientProtocol, _ username: String) async throws -> (Browser, String) {
        try await AdminPageTests().signIn(client, username)
    }

    func withGateway(_ body: @escaping @Sendable (any TestClientProtocol, FakeNotifyService) async throws -> Void) async throws {
        let fake = FakeNotifyService()
        try await withLiveServer({ onRunning in fake.application(onRunning) }) { port in
            try await TestDatabase.with { database in
                let settings = GatewaySettings(
                    service: try TestMesh.settings(databaseURL: database.url, peers: [.notify: "http://127.0.0.1:\(port)"]),
                    centre: try DivisionCode(validating: Place.lixian), tokenSecret: TestMesh.tokenSecret, bcryptCost: 4
                )
                try await GatewayApp.withAccounts(settings: settings) { accounts in
                    try await accounts.saveUser(username: "town-a-admin", password: Self.password, centre: try DivisionCode(validating: Place.townA), roles: [.admin])
                    try await accounts.saveUser(username: "town-a-staff", password: Self.password, centre: try DivisionCode(validating: Place.townA), roles: [.staff])
                }
                try await GatewayApp.build(settings: settings).test(.live) { client in try await body(client, fake) }
            }
        }
    }

    @Test func thePageIsTheAdministratorsAndARefusedSubscriptionKeepsWhatWasTyped() async throws {
        try await withGateway { client, fake in
            // Staff may list subscriptions through the API, but the page is the administrator's.
            let (staff, staffCSRF) = try await signIn(client, "town-a-staff")
            let refused = try await staff.get("/ui/admin/subscriptions")
            #expect(refused.status == .forbidden && refused.text.contains("只有本中心的管理员可以管理推送订阅。"))
            #expect(try await staff.post("/ui/admin/subscriptions", "csrf=\(staffCSRF)&centre=\(Place.townA)&url=https%3A%2F%2Fexample.org%2Fhook").status == .forbidden)
            #expect(await fake.subscribed() == 0)

            let (admin, csrf) = try await signIn(client, "town-a-admin")
            #expect(try await admin.get("/ui/admin").text.contains("href=\"/ui/admin/subscriptions\""))
            let empty = try await admin.get("/ui/admin/subscriptions")
            #expect(empty.status == .ok && empty.text.contains("<h1>推送订阅</h1>") && empty.text.contains("还没有订阅。"))
            #expect(empty.text.contains("<label for=\"sub-url\">接收地址（URL）</label>") && empty.text.contains("value=\"\(Place.townA)\""))

            // Refused: the reason beside the form, the channel, address, types and score as
            // typed, and the secret not written back.
            let typed = "csrf=\(csrf)&page_centre=\(Place.townA)&channel=wecom&centre=\(Place.townA)&url=http%3A%2F%2F10.1.2.3%2Fhook&secret=do-not-echo-this-secret"
                + "&event_case.overdue=on&min_score=70"
            let refusal = try await admin.post("/ui/admin/subscriptions", typed)
            #expect(refusal.status == .badRequest && refusal.text.contains("接收地址须为可从外网访问的 http 或 https 地址"))
            #expect(refusal.text.contains("value=\"http://10.1.2.3/hook\"") && refusal.text.contains("value=\"wecom\" checked"))
            #expect(refusal.text.contains("name=\"event_case.overdue\" checked") && !refusal.text.contains("name=\"event_warning.raised\" checked"))
            #expect(refusal.text.contains("name=\"min_score\" type=\"number\" min=\"0\" max=\"100\" value=\"70\"") && !refusal.text.contains("do-not-echo-this-secret"))

            // Subscribed: back to the page saying so, the subscription listed with its channel.
            let done = try await admin.post("/ui/admin/subscriptions", typed.replacingOccurrences(of: "10.1.2.3", with: "hooks.example.org"))
            #expect(done.status == .seeOther && done.location == "/ui/admin/subscriptions?centre=\(Place.townA)&done=subscribed")
            let listed = try await admin.get(try #require(done.location))
            #expect(listed.text.contains("已添加订阅。") && listed.text.contains("企业微信群机器人") && listed.text.contains("推送类型：逾期提醒"))
            let id = try #require(await fake.ids().first)
            let sent = try #require(await fake.lastSubscribe())
            #expect(sent.channel == .wecom && sent.secret.isEmpty && sent.eventTypes == ["case.overdue"] && sent.minScore == 70)

            // A test push: the page returns to the row with its outcome.
            let tested = try await admin.post("/ui/admin/subscriptions/\(id)/test", "csrf=\(csrf)&page_centre=\(Place.townA)")
            let location = try #require(tested.location)
            #expect(tested.status == .seeOther && location.hasPrefix("/ui/admin/subscriptions?centre=\(Place.townA)&test="))
            let outcome = try await admin.get(location)
            #expect(outcome.text.contains("id=\"test-\(id)\"") && outcome.text.contains("测试推送已送达"))

            // A row's refusal sits beside that row.
            let gone = try await admin.post("/ui/admin/subscriptions/\(UUID().uuidString.lowercased())/unsubscribe", "csrf=\(csrf)")
            #expect(gone.status == .notFound && gone.text.contains("未找到该订阅"))
            #expect(try await admin.post("/ui/admin/subscriptions/\(id)/unsubscribe", "csrf=\(csrf)").location?.hasSuffix("done=unsubscribed") == true)
            // A form without the session's token does nothing.
            #expect(try await admin.post("/ui/admin/subscriptions", "csrf=x&centre=\(Place.townA)&url=https%3A%2F%2Fexample.org%2F").status == .forbidden)
        }
    }

    @Test func theCreateUserFormOffersTheDepartmentKeysAndAClerkLandsOnTheDepartmentPage() async throws {
        try await withGateway { client, _ in
            let (admin, csrf) = try await signIn(client, "town-a-admin")
            let before = try await admin.get("/ui/admin")
            #expect(before.text.contains("<select id=\"new-department-key\" name=\"department_key\"") && before.text.contains("还没有部门系统密钥"))
            _ = try await admin.post("/ui/admin/keys", "csrf=\(csrf)&name=xdk-police&centre=\(Place.townA)&role_department=on")
            _ = try await admin.post("/ui/admin/keys", "csrf=\(csrf)&name=xdk-staff-key&centre=\(Place.townA)&role_staff=on")
            let page = try await admin.get("/ui/admin")
            #expect(page.text.contains("<option value=\"xdk-police\">xdk-police（\(Place.townA)）</option>") && !page.text.contains("<option value=\"xdk-staff-key\""))

            // The role without a key: refused in words, with the form as typed.
            let missing = try await admin.post("/ui/admin/users", "csrf=\(csrf)&username=xdk-police-li&centre=\(Place.townA)&password=first-password-1&role_department=on&department_key=")
            #expect(missing.status == .badRequest && missing.text.contains("须选择该用户所代表部门的密钥"))
            #expect(missing.text.contains("value=\"xdk-police-li\"") && missing.text.contains("name=\"role_department\" checked"))
            let mixed = try await admin.post("/ui/admin/users", "csrf=\(csrf)&username=xdk-police-li&centre=\(Place.townA)&password=first-password-1&role_department=on&role_staff=on&department_key=xdk-police")
            #expect(mixed.status == .badRequest && mixed.text.contains("部门人员只能有“部门系统”一个角色"))
            #expect(mixed.text.contains("<option value=\"xdk-police\" selected>"))

            let created = try await admin.post("/ui/admin/users", "csrf=\(csrf)&username=xdk-police-li&centre=\(Place.townA)&password=\(Self.password)&role_department=on&department_key=xdk-police")
            #expect(created.location == "/ui/admin?done=created", "\(created.status) \(created.text)")

            // The clerk's home is the department's page; the administrator's is not.
            var (clerk, _) = try await signIn(client, "xdk-police-li")
            #expect(try await clerk.get("/ui/").location == "/ui/department")
            #expect(try await clerk.get("/ui").location == "/ui/department")
            #expect(try await admin.get("/ui/").location != "/ui/department")
            clerk.cookie = nil
            #expect(try await clerk.get("/ui/").location == "/ui/login")
        }
    }

    /// The view alone: a refusal beside its row, values escaped.
    @Test func theViewPutsARowsRefusalBesideItAndEscapes() {
        var page = SubscriptionsPage(
            centre: Place.townA,
            rows: [SubscriptionsPage.row(.with { $0.id = "s1"; $0.centreCode = Place.townA; $0.url = "https://x.org/<b>"; $0.channel = .webhook })],
            more: false, csrf: "c"
        )
        page.refusal = SubscriptionsPage.Refusal(form: "s1", message: "只有 Webhook 订阅有签名密钥")
        let html = page.render()
        #expect(html.contains("https://x.org/&lt;b&gt;") && html.contains("id=\"error-s1\">只有 Webhook 订阅有签名密钥"))
        #expect(html.contains("更换签名密钥") && html.contains("推送类型：全部类型") && !html.contains("id=\"subscribe-error\""))
    }
}

/// notify-service as the subscriptions page meets it: subscriptions kept in memory, a
/// private address refused as the real service refuses it, and test pushes delivered at once.
actor FakeNotifyService {
    private var subscriptions: [Pingan_Notify_V1_Subscription] = []
    private var last: Pingan_Notify_V1_SubscribeRequest?
    private var tests: [String: String] = [:]

    func subscribed() -> Int { subscriptions.count }
    func ids() -> [String] { subscriptions.map(\.id) }
    func lastSubscribe() -> Pingan_Notify_V1_SubscribeRequest? { last }

    nonisolated func application(_ onRunning: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
        let router = Router()
        router.post("pingan.notify.v1.NotifyService/ListSubscriptions") { _, _ in
            try Self.answer(await self.listed())
        }
        router.post("pingan.notify.v1.NotifyService/Subscribe") { request, _ in
            let asked = try await Self.decode(Pingan_Notify_V1_SubscribeRequest.self, request)
            guard !asked.url.contains("//10.") else { return Self.refuse(.invalidArgument(field: "url", "10.1.2.3 is a private address")) }
            return try Self.answer(await self.subscribe(asked))
        }
        router.post("pingan.notify.v1.NotifyService/SendTestPush") { request, _ in
            let asked = try await Self.decode(Pingan_Notify_V1_SendTestPushRequest.self, request)
            guard let delivery = await self.test(asked.subscriptionID) else { return Self.refuse(ConnectError(.notFound, "subscription not found")) }
            return try Self.answer(Pingan_Notify_V1_SendTestPushResponse.with { $0.deliveryID = delivery })
        }
        router.post("pingan.notify.v1.NotifyService/ListDeliveries") { request, _ in
            let asked = try await Self.decode(Pingan_Notify_V1_ListDeliveriesRequest.self, request)
            guard let subscription = await self.tested(asked.warningID) else { return try Self.answer(Pingan_Notify_V1_ListDeliveriesResponse()) }
            return try Self.answer(Pingan_Notify_V1_ListDeliveriesResponse.with {
                $0.deliveries = [.with {
                    $0.id = asked.warningID; $0.warningID = asked.warningID; $0.subscriptionID = subscription; $0.attempts = 1
                    $0.deliveredAt = Date().wireTimestamp; $0.eventType = "push.test"
                }]
            })
        }
        router.post("pingan.notify.v1.NotifyService/Unsubscribe") { request, _ in
            let asked = try await Self.decode(Pingan_Notify_V1_UnsubscribeRequest.self, request)
            guard await self.unsubscribe(asked.subscriptionID) else { return Self.refuse(ConnectError(.notFound, "subscription not found")) }
            return try Self.answer(Pingan_Notify_V1_UnsubscribeResponse())
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                           onServerRunning: { await onRunning($0.localAddress?.port ?? 0) })
    }

    private func listed() -> Pingan_Notify_V1_ListSubscriptionsResponse {
        .with { $0.subscriptions = subscriptions }
    }

    private func subscribe(_ request: Pingan_Notify_V1_SubscribeRequest) -> Pingan_Notify_V1_SubscribeResponse {
        last = request
        let subscription = Pingan_Notify_V1_Subscription.with {
            $0.id = UUID().uuidString.lowercased(); $0.centreCode = request.centreCode; $0.url = request.url; $0.channel = request.channel
            $0.eventTypes = request.eventTypes; $0.minScore = request.minScore
        }
        subscriptions.append(subscription)
        return .with { $0.subscription = subscription }
    }

    private func test(_ subscription: String) -> String? {
        guard subscriptions.contains(where: { $0.id == subscription }) else { return nil }
        let delivery = UUID().uuidString.lowercased()
        tests[delivery] = subscription
        return delivery
    }

    private func tested(_ delivery: String) -> String? { tests[delivery] }

    private func unsubscribe(_ id: String) -> Bool {
        let before = subscriptions.count
        subscriptions.removeAll { $0.id == id }
        return subscriptions.count < before
    }

    private static func decode<M: SwiftProtobuf.Message>(_ type: M.Type, _ request: Request) async throws -> M {
        let body = try await request.body.collect(upTo: 1 << 20)
        return try M(serializedBytes: Array(body.readableBytesView))
    }

    private static func answer(_ message: some SwiftProtobuf.Message) throws -> Response {
        let bytes: [UInt8] = try message.serializedBytes()
        return Response(status: .ok, headers: [.contentType: "application/proto"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    private static func refuse(_ error: ConnectError) -> Response {
        Response(status: .badRequest, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: error.jsonBody)))
    }
}
