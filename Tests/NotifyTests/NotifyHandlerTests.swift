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
            let app = try NotifyApp.build(settings: NotifySettings(service: try TestMesh.settings(databaseURL: database.url), allowedHosts: try WebhookAllowList("127.0.0.1:9")))
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
                // One at a time: two pages, each delivery once, and the last page says so.
                list.pageSize = 1
                let first = try await rpc.call(NotifyServiceMethods.listDeliveries, list, headers: [try person(Place.lixian, [.staff])])
                #expect(first.deliveries.count == 1 && !first.nextPageToken.isEmpty)
                list.pageToken = first.nextPageToken
                let second = try await rpc.call(NotifyServiceMethods.listDeliveries, list, headers: [try person(Place.lixian, [.staff])])
                #expect(second.deliveries.count == 1 && second.nextPageToken.isEmpty)
                #expect(Set((first.deliveries + second.deliveries).map(\.id)) == Set(seen.map(\.id)))
                list.pageToken = "not-a-token"
                await expectCode(.invalidArgument, containing: "page_token:") {
                    _ = try await rpc.call(NotifyServiceMethods.listDeliveries, list, headers: [try person(Place.lixian, [.staff])])
                }
            }
        }
    }

    /// Migration 9 names the column for what it holds, a warning's id or the id of the event
    /// that carried a notice, and the constraint that keeps one delivery per subject and
    /// subscription with it.
    @Test func aDeliveryIsKeyedByItsSubjectAfterTheMigrations() async throws {
        try await TestDatabase.with { database in
            try await NotifyApp.build(settings: NotifySettings(service: try TestMesh.settings(databaseURL: database.url))).test(.router) { _ in }
            let pool = database.pool()
            let columns = try await pool.query(
                "SELECT column_name::text FROM information_schema.columns WHERE table_schema = 'notify' AND table_name = 'deliveries' AND column_name LIKE '%_id' ORDER BY 1"
            ).map { try $0.decode(String.self, at: 0) }
            // Migration 10 adds the case a push is about.
            #expect(columns == ["case_id", "subject_id", "subscription_id"])
            let unique = try await pool.query(
                "SELECT conname::text FROM pg_constraint WHERE conrelid = 'notify.deliveries'::regclass AND contype = 'u'"
            ).map { try $0.decode(String.self, at: 0) }
            #expect(unique == ["deliveries_subject_id_subscription_id_key"])
            await pool.close()
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
                // Its queue is paused as a whole: the breaker opened (and is only closed by a success).
                #expect(try await pool.query("SELECT count(*) FROM notify.subscriptions WHERE paused_until IS NOT NULL AND failures >= 1")[0].decode(Int.self, at: 0) == 1)
                await pool.close()
            }
        }
    }

    /// `Subscribe` refuses, as `invalid_argument` naming `url`, what no delivery could honestly
    /// be sent to: a control character (raw or percent-encoded), a part parsers could read
    /// two ways, any special-purpose address, and a port of an allowed host that is not the
    /// allowed one. Nothing is stored.
    @Test func subscribeRefusesControlCharactersSpecialPurposeAddressesAndUnlistedPortsNamingURL() async throws {
        let allowedPort = try freePort()
        try await TestDatabase.with { database in
            let settings = NotifySettings(service: try TestMesh.settings(databaseURL: database.url), allowedHosts: try WebhookAllowList("127.0.0.1:\(allowedPort)"))
            try await NotifyApp.build(settings: settings).test(.router) { client in
                let rpc = InProcessClient(client)
                let admin = try person(Place.townA, [.admin])
                var subscribe = Pingan_Notify_V1_SubscribeRequest()
                subscribe.centreCode = Place.townA
                subscribe.secret = "a-shared-secret-of-24-b"
                let refused: [(Pingan_Notify_V1_Channel, String, String)] = [
                    (.webhook, "http://8.8.8.8/hook%00", "control character (%00)"),
                    (.webhook, "http://8.8.8.8/hook?x=%0D%0AX-Injected:%201", "control character (%0D)"),
                    (.wecom, "https://8.8.8.8/cgi-bin/webhook/send?key=a%7f", "control character (%7f)"),
                    (.webhook, "http://8.8.8.8/a\u{1}b", "control character (U+0001)"),
                    (.webhook, "http://8.8.8.8/a\rb", "control character (U+000D)"),
                    (.webhook, "http://8.8.8.8/%G0", "two hexadecimal digits"),
                    (.webhook, "http://2130706433/", "looks like an IPv4 address"),
                    (.webhook, "http://198.18.0.1/hook", "198.18.0.1, a benchmarking address"),
                    (.webhook, "http://198.19.255.255/hook", "a benchmarking address"),
                    (.webhook, "http://192.0.2.1/hook", "a documentation address"),
                    (.webhook, "http://240.0.0.1/hook", "a reserved address"),
                    (.webhook, "http://[2001:db8::1]/hook", "a documentation address"),
                    (.webhook, "http://[::ffff:169.254.169.254]/", "a link-local or metadata address (169.254.169.254)"),
                    (.webhook, "http://127.0.0.1/hook", "a loopback address"),
                    (.webhook, "http://127.0.0.1:\(allowedPort + 1)/hook", "a loopback address"),
                ]
                for (channel, url, why) in refused {
                    subscribe.channel = channel
                    subscribe.url = url
                    await expectCode(.invalidArgument, containing: "url: ") { _ = try await rpc.call(NotifyServiceMethods.subscribe, subscribe, headers: [admin]) }
                    await expectCode(.invalidArgument, containing: why) { _ = try await rpc.call(NotifyServiceMethods.subscribe, subscribe, headers: [admin]) }
                }
                let pool = database.pool()
                #expect(try await pool.query("SELECT count(*) FROM notify.subscriptions")[0].decode(Int.self, at: 0) == 0)
                // The one allowed port of the host is a receiver like any public one.
                subscribe.channel = .webhook
                subscribe.url = "http://127.0.0.1:\(allowedPort)/hook"
                _ = try await rpc.call(NotifyServiceMethods.subscribe, subscribe, headers: [admin])
                #expect(try await pool.query("SELECT count(*) FROM notify.subscriptions")[0].decode(Int.self, at: 0) == 1)
                await pool.close()
            }
        }
    }

    /// A receiver the deployment allows on its own network that does not answer: the stored
    /// error says so and no more (no "connection refused", no curl text, no timing), so a
    /// centre administrator cannot map the network through `ListDeliveries`.
    @Test func aFailedDeliveryToAnAllowedInternalReceiverStoresNoDetail() async throws {
        let closedPort = try freePort()
        try await TestDatabase.with { database in
            let settings = NotifySettings(service: try TestMesh.settings(databaseURL: database.url), allowedHosts: try WebhookAllowList("127.0.0.1:\(closedPort)"))
            try await NotifyApp.build(settings: settings).test(.router) { client in
                let rpc = InProcessClient(client)
                var subscribe = Pingan_Notify_V1_SubscribeRequest()
                subscribe.centreCode = Place.townA
                subscribe.secret = "a-shared-secret-of-24-b"
                subscribe.url = "http://127.0.0.1:\(closedPort)/hook"
                _ = try await rpc.call(NotifyServiceMethods.subscribe, subscribe, headers: [try person(Place.townA, [.admin])])
                var warning = Pingan_Notify_V1_DeliverWarningRequest()
                warning.warningID = UUID().wire
                warning.caseID = UUID().wire
                warning.centreCode = Place.townA
                warning.villageCode = Place.villageA
                #expect(try await rpc.call(NotifyServiceMethods.deliverWarning, warning, headers: try TestMesh.eventDelivery()).deliveries == 1)
                let pool = database.pool()
                let attempted = await eventually(timeout: .seconds(20)) {
                    try await pool.query("SELECT count(*) FROM notify.attempts")[0].decode(Int.self, at: 0) >= 1
                }
                #expect(attempted)
                let errors = try await pool.query("SELECT DISTINCT coalesce(error, '') FROM notify.attempts").map { try $0.decode(String.self, at: 0) }
                #expect(errors == [HTTPPushSender.withheld])
                var list = Pingan_Notify_V1_ListDeliveriesRequest()
                list.warningID = warning.warningID
                let listed = try await rpc.call(NotifyServiceMethods.listDeliveries, list, headers: [try person(Place.townA, [.staff])]).deliveries
                #expect(listed.map(\.lastError) == [HTTPPushSender.withheld])
                await pool.close()
            }
        }
    }

    @Test func channelsFiltersAndManagedSubscriptionsDecideWhoIsPushedWhat() async throws {
        try await TestDatabase.with { database in
            let app = try NotifyApp.build(settings: NotifySettings(service: try TestMesh.settings(databaseURL: database.url), allowedHosts: try WebhookAllowList("127.0.0.1:9")))
            try await app.test(.router) { client in
                let rpc = InProcessClient(client)
                func subscribe(_ centre: String, _ channel: Pingan_Notify_V1_Channel, path: String, configure: (inout Pingan_Notify_V1_SubscribeRequest) -> Void = { _ in }) async throws -> Pingan_Notify_V1_Subscription {
                    var request = Pingan_Notify_V1_SubscribeRequest()
                    request.centreCode = centre
                    request.channel = channel
                    request.url = "http://127.0.0.1:9/\(path)"
                    request.secret = "a-shared-secret-of-24-b"
                    configure(&request)
                    return try await rpc.call(NotifyServiceMethods.subscribe, request, headers: [try person(centre, [.admin])]).subscription
                }
                let webhook = try await subscribe(Place.townA, .webhook, path: "hook")
                #expect(try await subscribe(Place.townA, .webhook, path: "hook").id == webhook.id)
                let wecom = try await subscribe(Place.lixian, .wecom, path: "cgi-bin/webhook/send?key=k") {
                    $0.eventTypes = ["warning.raised"]
                    $0.minScore = 70
                }
                let sms = try await subscribe(Place.townA, .sms, path: "sms") {
                    $0.phone = "13912345678"
                    $0.categories = [.land]
                }
                #expect(sms.phone == "139****5678")
                await expectCode(.invalidArgument, containing: "phone:") { _ = try await subscribe(Place.townA, .sms, path: "sms2") }
                await expectCode(.invalidArgument, containing: "event_types[0]:") { _ = try await subscribe(Place.townA, .webhook, path: "x") { $0.eventTypes = ["everything"] } }

                let pool = database.pool()
                func payloads(_ subject: String) async throws -> [String: String] {
                    Dictionary(uniqueKeysWithValues: try await pool.query(
                        "SELECT subscription_id, payload FROM notify.deliveries WHERE subject_id = $1", [try #require(UUID(uuidString: subject))]
                    ).map { (try $0.decode(UUID.self, at: 0).wire, try $0.decode(String.self, at: 1)) })
                }
                var warning = Pingan_Notify_V1_DeliverWarningRequest()
                warning.warningID = UUID().wire
                warning.caseID = UUID().wire
                warning.centreCode = Place.townA
                warning.villageCode = Place.villageA
                warning.score = 65
                warning.category = .neighbour
                warning.reasons = ["repeat_incident +40: the same parties clashed again"]
                #expect(try await rpc.call(NotifyServiceMethods.deliverWarning, warning, headers: try TestMesh.eventDelivery()).deliveries == 1)
                #expect(Set(try await payloads(warning.warningID).keys) == [webhook.id])

                warning.warningID = UUID().wire
                warning.score = 80
                warning.category = .land
                #expect(try await rpc.call(NotifyServiceMethods.deliverWarning, warning, headers: try TestMesh.eventDelivery()).deliveries == 3)
                let bodies = try await payloads(warning.warningID)
                let markdown = try JSONSerialization.jsonObject(with: Data(try #require(bodies[wecom.id]).utf8)) as? [String: Any]
                #expect(markdown?["msgtype"] as? String == "markdown")
                #expect(((markdown?["markdown"] as? [String: Any])?["content"] as? String)?.contains("80分") == true)
                let text = try JSONSerialization.jsonObject(with: Data(try #require(bodies[sms.id]).utf8)) as? [String: Any]
                #expect(text?["phone"] as? String == "13912345678")
                #expect(text?["template"] as? String == "pingan-notice")
                #expect((text?["text"] as? String)?.hasPrefix("【平安】风险预警") == true)
                let json = try JSONSerialization.jsonObject(with: Data(try #require(bodies[webhook.id]).utf8)) as? [String: Any]
                #expect(json?["score"] as? Int == 80 && json?["type"] as? String == "warning.raised")

                // Managed: listed within the caller's subtree, changed, deleted; siblings see none of it.
                var list = Pingan_Notify_V1_ListSubscriptionsRequest()
                list.centreCode = Place.lixian
                #expect(Set(try await rpc.call(NotifyServiceMethods.listSubscriptions, list, headers: [try person(Place.lixian, [.staff])]).subscriptions.map(\.id)) == [webhook.id, wecom.id, sms.id])
                list.centreCode = Place.townB
                #expect(try await rpc.call(NotifyServiceMethods.listSubscriptions, list, headers: [try person(Place.townB, [.staff])]).subscriptions.isEmpty)
                var unsubscribe = Pingan_Notify_V1_UnsubscribeRequest()
                unsubscribe.subscriptionID = sms.id
                await expectCode(.notFound, containing: "subscription \(sms.id) not found") {
                    _ = try await rpc.call(NotifyServiceMethods.unsubscribe, unsubscribe, headers: [try person(Place.townB, [.admin])])
                }
                _ = try await rpc.call(NotifyServiceMethods.unsubscribe, unsubscribe, headers: [try person(Place.townA, [.admin])])
                var update = Pingan_Notify_V1_UpdateSubscriptionRequest()
                update.subscriptionID = wecom.id
                update.eventTypes = ["warning.raised", "case.overdue"]
                // Where pushes go is the administrator's decision; staff may look, not change.
                await expectCode(.permissionDenied, containing: "this needs one of the roles admin") {
                    _ = try await rpc.call(NotifyServiceMethods.updateSubscription, update, headers: [try person(Place.lixian, [.staff, .leader])])
                }
                #expect(try await rpc.call(NotifyServiceMethods.updateSubscription, update, headers: [try person(Place.lixian, [.admin])]).subscription.minScore == 0)

                let overdue = notice("case.overdue", summary: "rung 3 is past its deadline")
                let delivery = try TestMesh.eventDelivery()
                #expect(try await rpc.call(NotifyServiceMethods.deliverNotice, overdue, headers: delivery).deliveries == 2)  // webhook and WeCom; SMS unsubscribed
                await pool.close()
            }
        }
    }

    @Test func anEmailSubscriptionReceivesTheWarningThroughARealSMTPServer() async throws {
        let port = try freePort()
        let directory = NSTemporaryDirectory() + "pingan-mail-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // Python's aiosmtpd, saving what it accepts in a Maildir.
        let server = try ChildProcess(
            name: "smtp", executable: "/usr/bin/env",
            arguments: ["python3", "-m", "aiosmtpd", "-n", "-l", "127.0.0.1:\(port)", "-c", "aiosmtpd.handlers.Mailbox", directory + "/box"],
            environment: [:], logDirectory: directory
        )
        // aiosmtpd finishes its SIGTERM handling lazily; the test does not wait for it.
        defer {
            server.stopWithoutWaiting(signal: SIGKILL)
            try? FileManager.default.removeItem(atPath: directory)
        }
        #expect(await eventually { accepts(port: port) }, "the SMTP server never listened")
        try await TestDatabase.with { database in
            let settings = NotifySettings(service: try TestMesh.settings(databaseURL: database.url), smtpURL: "smtp://127.0.0.1:\(port)", mailFrom: "pingan@example.org")
            try await NotifyApp.build(settings: settings).test(.router) { client in
                let rpc = InProcessClient(client)
                var subscribe = Pingan_Notify_V1_SubscribeRequest()
                subscribe.centreCode = Place.townA
                subscribe.channel = .email
                subscribe.email = "zongzhi@example.org"
                subscribe.secret = "a-shared-secret-of-24-b"
                subscribe.url = "http://127.0.0.1:9/"
                await expectCode(.invalidArgument, containing: "url: an e-mail subscription has no url") {
                    _ = try await rpc.call(NotifyServiceMethods.subscribe, subscribe, headers: [try person(Place.townA, [.admin])])
                }
                subscribe.url = ""
                let subscription = try await rpc.call(NotifyServiceMethods.subscribe, subscribe, headers: [try person(Place.townA, [.admin])]).subscription
                #expect(subscription.email == "z******@example.org")

                var warning = Pingan_Notify_V1_DeliverWarningRequest()
                warning.warningID = UUID().wire
                warning.caseID = UUID().wire
                warning.centreCode = Place.townA
                warning.villageCode = Place.villageA
                warning.score = 72
                warning.reasons = ["repeat_incident +40: the same parties clashed again"]
                #expect(try await rpc.call(NotifyServiceMethods.deliverWarning, warning, headers: try TestMesh.eventDelivery()).deliveries == 1)

                let received = await eventually(timeout: .seconds(60)) {
                    let files = (try? FileManager.default.contentsOfDirectory(atPath: directory + "/box/new")) ?? []
                    return !files.isEmpty
                }
                #expect(received)
                let files = try FileManager.default.contentsOfDirectory(atPath: directory + "/box/new")
                let message = try String(contentsOfFile: directory + "/box/new/" + (files.first ?? ""), encoding: .utf8)
                #expect(message.contains("To: <zongzhi@example.org>"))
                #expect(message.contains("X-Pingan-Event: warning.raised"))
                #expect(message.contains("Subject: =?UTF-8?B?"))
                let body = message.components(separatedBy: "\n\n").dropFirst().joined().filter { !$0.isWhitespace }
                let text = Data(base64Encoded: body).map { String(decoding: $0, as: UTF8.self) } ?? ""
                #expect(text.contains("72分") && text.contains("/ui/cases/"))
                // The server's 250 is recorded once the dispatcher's round commits, just after.
                let pool = database.pool()
                let recorded = await eventually(timeout: .seconds(20)) {
                    let delivered = try await pool.query("SELECT count(*) FROM notify.deliveries WHERE delivered_at IS NOT NULL")[0].decode(Int.self, at: 0)
                    let accepted = try await pool.query("SELECT count(*) FROM notify.attempts WHERE status = 250")[0].decode(Int.self, at: 0)
                    return delivered == 1 && accepted == 1
                }
                await pool.close()
                #expect(recorded)
                #expect(message.contains("X-Pingan-Delivery: "))
            }
        }
    }
}
