import Foundation
@testable import NotifyService
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain
import PinganPostgres
import PinganTestSupport
import Testing

/// `ListDeliveries` by warning, by case, by centre and by type of push: exactly the right
/// deliveries, in queue order across pages, within the caller's subtree.
@Suite("notify-service: listing deliveries")
struct DeliveryListingTests {
    /// What the listings below are checked against: subscriptions and what was pushed.
    struct Pushed {
        var subscriptions: [String: String] = [:]
        let caseOne = UUID().wire
        let caseTwo = UUID().wire
        let warning = UUID().wire
    }

    /// Subscribes a webhook and a WeCom robot at township A, a webhook at the county and at
    /// township B (port 9 refuses, so everything stays queued), then pushes, in this order:
    /// a warning about case one at township A (3 deliveries: A's two and the county's), its
    /// case.escalated at the county (1), its case.summoned at township A (3), case two's
    /// case.overdue at township B (2: B's and the county's) and index.published at the county (1).
    func pushAll(_ rpc: InProcessClient) async throws -> Pushed {
        var pushed = Pushed()
        for (name, centre, channel, path) in [
            ("townA", Place.townA, Pingan_Notify_V1_Channel.webhook, "a"), ("townA-wecom", Place.townA, .wecom, "a-robot"),
            ("lixian", Place.lixian, .webhook, "county"), ("townB", Place.townB, .webhook, "b"),
        ] {
            var subscribe = Pingan_Notify_V1_SubscribeRequest()
            subscribe.centreCode = centre
            subscribe.channel = channel
            subscribe.url = "http://127.0.0.1:9/\(path)"
            subscribe.secret = "a-shared-secret-of-24-b"
            pushed.subscriptions[name] = try await rpc.call(NotifyServiceMethods.subscribe, subscribe, headers: [try person(centre, [.admin])]).subscription.id
        }
        var warning = Pingan_Notify_V1_DeliverWarningRequest()
        warning.warningID = pushed.warning
        warning.caseID = pushed.caseOne
        warning.centreCode = Place.townA
        warning.villageCode = Place.villageA
        warning.score = 75
        warning.level = .serious
        #expect(try await rpc.call(NotifyServiceMethods.deliverWarning, warning, headers: try TestMesh.eventDelivery()).deliveries == 3)
        for (type, caseID, centre, village, expected) in [
            ("case.escalated", pushed.caseOne, Place.lixian, Place.villageA, 1), ("case.summoned", pushed.caseOne, Place.townA, Place.villageA, 3),
            ("case.overdue", pushed.caseTwo, Place.townB, Place.villageB, 2), ("index.published", "", Place.lixian, "", 1),
        ] {
            var notice = Pingan_Notify_V1_DeliverNoticeRequest()
            notice.type = type
            notice.caseID = caseID
            notice.centreCode = centre
            notice.villageCode = village
            notice.summary = type
            #expect(try await rpc.call(NotifyServiceMethods.deliverNotice, notice, headers: try TestMesh.eventDelivery()).deliveries == Int32(expected))
        }
        return pushed
    }

    func withNotify(_ body: @escaping @Sendable (InProcessClient, Pushed) async throws -> Void) async throws {
        try await TestDatabase.with { database in
            let settings = NotifySettings(service: try TestMesh.settings(databaseURL: database.url), allowedHosts: try WebhookAllowList("127.0.0.1:9"))
            try await NotifyApp.build(settings: settings).test(.router) { client in
                let rpc = InProcessClient(client)
                try await body(rpc, try await pushAll(rpc))
            }
        }
    }

    /// Every page of a listing, following next_page_token.
    func all(_ rpc: InProcessClient, as centre: String, pageSize: Int32 = 0, _ configure: (inout Pingan_Notify_V1_ListDeliveriesRequest) -> Void) async throws -> [[Pingan_Notify_V1_Delivery]] {
        var request = Pingan_Notify_V1_ListDeliveriesRequest()
        configure(&request)
        request.pageSize = pageSize
        var pages: [[Pingan_Notify_V1_Delivery]] = []
        repeat {
            let page = try await rpc.call(NotifyServiceMethods.listDeliveries, request, headers: [try person(centre, [.staff])])
            pages.append(page.deliveries)
            request.pageToken = page.nextPageToken
        } while !request.pageToken.isEmpty && pages.count < 20
        return pages
    }

    @Test func aCasesDeliveriesAreListedByCaseAndByTypeOfNotice() async throws {
        try await withNotify { rpc, pushed in
            let county = try await all(rpc, as: Place.lixian) { $0.caseID = pushed.caseOne }.joined().map { $0 }
            #expect(county.map(\.eventType) == ["warning.raised", "warning.raised", "warning.raised", "case.escalated", "case.summoned", "case.summoned", "case.summoned"])
            #expect(county.allSatisfy { $0.caseID == pushed.caseOne })
            #expect(county.filter { $0.eventType == "warning.raised" }.allSatisfy { $0.warningID == pushed.warning })

            let escalated = try await all(rpc, as: Place.lixian) { $0.caseID = pushed.caseOne; $0.eventType = "case.escalated" }.joined().map { $0 }
            #expect(escalated.map(\.subscriptionID) == [pushed.subscriptions["lixian"]])
            let summoned = try await all(rpc, as: Place.lixian) { $0.caseID = pushed.caseOne; $0.eventType = "case.summoned" }.joined().map { $0 }
            #expect(Set(summoned.map(\.subscriptionID)) == Set(["townA", "townA-wecom", "lixian"].compactMap { pushed.subscriptions[$0] }))
            // The other case's notice, and the index's, never show under case one.
            let other = try await all(rpc, as: Place.lixian) { $0.caseID = pushed.caseTwo }.joined().map { $0 }
            #expect(other.map(\.eventType) == ["case.overdue", "case.overdue"])
            // By warning and case together: the warning's deliveries only.
            let warned = try await all(rpc, as: Place.lixian) { $0.caseID = pushed.caseOne; $0.warningID = pushed.warning }.joined().map { $0 }
            #expect(warned.count == 3 && warned.allSatisfy { $0.eventType == "warning.raised" })
        }
    }

    /// A warning's later notices (escalated unacknowledged, a cluster grown) name it, and its
    /// listing holds them after its own push; only those two kinds may name a warning.
    @Test func aWarningsNoticesAreListedWithIt() async throws {
        try await withNotify { rpc, pushed in
            func escalation(_ type: String = "warning.escalated", warning: String) -> Pingan_Notify_V1_DeliverNoticeRequest {
                .with {
                    $0.type = type
                    $0.warningID = warning
                    $0.caseID = pushed.caseOne
                    $0.centreCode = Place.lixian
                    $0.villageCode = Place.villageA
                    $0.level = .major
                }
            }
            #expect(try await rpc.call(NotifyServiceMethods.deliverNotice, escalation(warning: pushed.warning), headers: try TestMesh.eventDelivery()).deliveries == 1)
            let listed = try await all(rpc, as: Place.lixian) { $0.warningID = pushed.warning }.joined().map { $0 }
            #expect(listed.map(\.eventType) == ["warning.raised", "warning.raised", "warning.raised", "warning.escalated"])
            #expect(listed.last?.subscriptionID == pushed.subscriptions["lixian"] && listed.last?.warningID != pushed.warning)
            // The township does not see the county's delivery of it.
            #expect(try await all(rpc, as: Place.townA) { $0.warningID = pushed.warning }.joined().map(\.eventType) == ["warning.raised", "warning.raised"])

            await expectCode(.invalidArgument, containing: "warning_id") {
                _ = try await rpc.call(NotifyServiceMethods.deliverNotice, escalation(warning: "预警一"), headers: try TestMesh.eventDelivery())
            }
            await expectCode(.invalidArgument, containing: "warning_id") {
                _ = try await rpc.call(NotifyServiceMethods.deliverNotice, escalation("case.summoned", warning: pushed.warning), headers: try TestMesh.eventDelivery())
            }
            #expect(try await all(rpc, as: Place.lixian) { $0.warningID = pushed.warning }.joined().count == 4)
        }
    }

    @Test func aCentresDeliveriesAreThoseToItsOwnSubscriptionsInQueueOrder() async throws {
        try await withNotify { rpc, pushed in
            let county = try await all(rpc, as: Place.lixian) { $0.centreCode = Place.lixian }.joined().map { $0 }
            #expect(county.map(\.eventType) == ["warning.raised", "case.escalated", "case.summoned", "case.overdue", "index.published"])
            #expect(county.allSatisfy { $0.subscriptionID == pushed.subscriptions["lixian"] })
            #expect(county.map(\.caseID) == [pushed.caseOne, pushed.caseOne, pushed.caseOne, pushed.caseTwo, ""])
            let townA = try await all(rpc, as: Place.lixian) { $0.centreCode = Place.townA }.joined().map { $0 }
            #expect(townA.count == 4 && Set(townA.map(\.subscriptionID)) == Set(["townA", "townA-wecom"].compactMap { pushed.subscriptions[$0] }))
            let summonedAtA = try await all(rpc, as: Place.townA) { $0.centreCode = Place.townA; $0.eventType = "case.summoned" }.joined().map { $0 }
            #expect(summonedAtA.count == 2 && summonedAtA.allSatisfy { $0.caseID == pushed.caseOne })
            let nothing = try await all(rpc, as: Place.townB) { $0.centreCode = Place.townB; $0.eventType = "case.summoned" }.joined().map { $0 }
            #expect(nothing.isEmpty)
        }
    }

    /// Pages follow queue order without a gap or a repeat, whichever filter leads.
    @Test func pagesFollowQueueOrderForEveryFilter() async throws {
        try await withNotify { rpc, pushed in
            let filters: [(Int, (inout Pingan_Notify_V1_ListDeliveriesRequest) -> Void)] = [
                (5, { $0.centreCode = Place.lixian }), (7, { $0.caseID = pushed.caseOne }), (3, { $0.warningID = pushed.warning }),
            ]
            for (count, filter) in filters {
                let whole = try await all(rpc, as: Place.lixian, filter)
                #expect(whole.count == 1 && whole[0].count == count)
                let paged = try await all(rpc, as: Place.lixian, pageSize: 2, filter)
                #expect(paged.map(\.count) == Array(repeating: 2, count: count / 2) + (count % 2 == 1 ? [1] : []))
                #expect(paged.joined().map(\.id) == whole[0].map(\.id))
            }
        }
    }

    /// A caller sees the deliveries to subscriptions of its subtree only: by case, a
    /// township sees its own and a sibling nothing (an empty list, as for a warning it cannot
    /// see); naming a centre outside its subtree is permission_denied.
    @Test func aCallerSeesOnlyDeliveriesToSubscriptionsOfItsSubtree() async throws {
        try await withNotify { rpc, pushed in
            let townA = try await all(rpc, as: Place.townA) { $0.caseID = pushed.caseOne }.joined().map { $0 }
            #expect(townA.count == 4 && !townA.contains { $0.subscriptionID == pushed.subscriptions["lixian"] })
            #expect(try await all(rpc, as: Place.townB) { $0.caseID = pushed.caseOne }.joined().isEmpty)
            #expect(try await all(rpc, as: Place.townB) { $0.warningID = pushed.warning }.joined().isEmpty)
            #expect(try await all(rpc, as: Place.villageA) { $0.caseID = pushed.caseOne }.joined().isEmpty)
            var request = Pingan_Notify_V1_ListDeliveriesRequest()
            request.centreCode = Place.townA
            await expectCode(.permissionDenied, containing: "centre_code:") {
                _ = try await rpc.call(NotifyServiceMethods.listDeliveries, request, headers: [try person(Place.townB, [.staff])])
            }
            request.centreCode = Place.lixian
            await expectCode(.permissionDenied, containing: "centre_code:") {
                _ = try await rpc.call(NotifyServiceMethods.listDeliveries, request, headers: [try person(Place.townA, [.staff])])
            }
        }
    }

    @Test func aListingWithoutWarningCaseOrCentreIsRefusedNamingThem() async throws {
        try await withNotify { rpc, pushed in
            let staff = try person(Place.lixian, [.staff])
            var request = Pingan_Notify_V1_ListDeliveriesRequest()
            await expectCode(.invalidArgument, containing: "warning_id, case_id, centre_code:") {
                _ = try await rpc.call(NotifyServiceMethods.listDeliveries, request, headers: [staff])
            }
            request.eventType = "case.escalated"
            await expectCode(.invalidArgument, containing: "warning_id, case_id, centre_code:") {
                _ = try await rpc.call(NotifyServiceMethods.listDeliveries, request, headers: [staff])
            }
            request.caseID = pushed.caseOne
            request.eventType = "case.exploded"
            await expectCode(.invalidArgument, containing: "event_type:") {
                _ = try await rpc.call(NotifyServiceMethods.listDeliveries, request, headers: [staff])
            }
            request.eventType = ""
            request.caseID = "not-a-case"
            await expectCode(.invalidArgument, containing: "case_id:") {
                _ = try await rpc.call(NotifyServiceMethods.listDeliveries, request, headers: [staff])
            }
            request.caseID = ""
            request.centreCode = "4307"
            await expectCode(.invalidArgument, containing: "centre_code:") {
                _ = try await rpc.call(NotifyServiceMethods.listDeliveries, request, headers: [staff])
            }
        }
    }

    /// Each shape of listing can walk an index in queue order rather than the table (on a
    /// table this small the planner would rather scan it, so scans are priced out here).
    @Test func everyFilterHasAnIndexToWalk() async throws {
        try await TestDatabase.with { database in
            try await NotifyApp.build(settings: NotifySettings(service: try TestMesh.settings(databaseURL: database.url))).test(.router) { _ in }
            let pool = database.pool()
            defer { Task { await pool.close() } }
            let root = try DivisionCode(validating: Place.lixian)
            let cursor = PageCursor(time: Date(), id: UUID())
            let shapes: [(DeliveryFilter, [String])] = [
                (DeliveryFilter(caseID: UUID(), eventType: "case.escalated"), ["deliveries_case"]),
                (DeliveryFilter(centre: root), ["deliveries_subscription"]),
                (DeliveryFilter(eventType: "case.summoned", centre: root), ["deliveries_subscription"]),
                (DeliveryFilter(subject: UUID()), ["deliveries_subject_id_subscription_id_key", "deliveries_about_warning"]),
            ]
            for (filter, indexes) in shapes {
                let query = DeliveryQuery(filter: filter, root: root, cursor: cursor, limit: 51)
                let plan = try await pool.withConnection { connection in
                    try await connection.query("SET enable_seqscan = off")
                    return try await connection.query("EXPLAIN " + query.sql, query.parameters).map { try $0.decode(String.self, at: 0) }.joined(separator: "\n")
                }
                #expect(indexes.allSatisfy(plan.contains), "\(filter): \(plan)")
            }
        }
    }

    /// Migration 10 gives deliveries queued before it the case their payload names, and a
    /// push's SMS delivery the case of its webhook sibling; an SMS-only push keeps none.
    @Test func theCaseIsBackfilledFromStoredPayloads() async throws {
        try await TestDatabase.with { database in
            let pool = database.pool()
            defer { Task { await pool.close() } }
            let before = Migrator(schema: NotifyMigrations.schema, migrations: NotifyMigrations.all.filter { $0.version < 10 })
            _ = try await before.migrate(pool, logger: TestEnvironment.logger)
            let (webhook, wecom, sms) = (UUID(), UUID(), UUID())
            for (id, channel) in [(webhook, "webhook"), (wecom, "wecom"), (sms, "sms")] {
                try await pool.query(
                    "INSERT INTO notify.subscriptions (id, centre_code, url, secret, channel) VALUES ($1, $2, 'http://127.0.0.1:9/', 'a-shared-secret-of-24-b', $3)",
                    [id, Place.townA, channel]
                )
            }
            let caseID = UUID(), robotCase = UUID()
            let content = PushContent(
                type: "warning.raised", subject: UUID(), caseID: caseID.wire, centre: Place.townA, village: Place.villageA, summary: "",
                score: 70, reasons: ["r"], incidentID: "", dueAt: "", category: nil
            )
            let robotOnly = PushContent(
                type: "case.summoned", subject: UUID(), caseID: robotCase.wire, centre: Place.townA, village: Place.villageA, summary: "案件：x",
                score: nil, reasons: [], incidentID: "", dueAt: "", category: nil
            )
            let smsOnly = PushContent(
                type: "case.overdue", subject: UUID(), caseID: UUID().wire, centre: Place.townA, village: Place.villageA, summary: "s",
                score: nil, reasons: [], incidentID: "", dueAt: "", category: nil
            )
            let index = PushContent(
                type: "index.published", subject: UUID(), caseID: "", centre: Place.townA, village: "", summary: "s",
                score: nil, reasons: [], incidentID: "", dueAt: "", category: nil
            )
            func insert(_ content: PushContent, _ subscription: UUID, _ channel: PushChannel) async throws -> UUID {
                let id = UUID()
                // The payloads as notify wrote them before migration 10, which reads them.
                let body = switch channel {
                case .webhook: #"{"case_id":"\#(content.caseID)","centre_code":"\#(content.centre)","type":"\#(content.type)"}"#
                case .wecom: #"{"markdown":{"content":"**平安 · 吹哨报到**\n> 案件：\#(content.caseID)"},"msgtype":"markdown"}"#
                case .sms, .email: #"{"phone":"13912345678","template":"pingan-notice","text":"【平安】逾期提醒"}"#
                }
                try await pool.query(
                    "INSERT INTO notify.deliveries (id, subject_id, subscription_id, centre_code, payload, event) VALUES ($1, $2, $3, $4, $5, $6)",
                    [id, content.subject, subscription, Place.townA, body, content.type]
                )
                return id
            }
            let fromWebhook = try await insert(content, webhook, .webhook)
            let sibling = try await insert(content, sms, .sms)
            let fromRobot = try await insert(robotOnly, wecom, .wecom)
            let alone = try await insert(smsOnly, sms, .sms)
            let indexed = try await insert(index, webhook, .webhook)
            _ = try await Migrator(schema: NotifyMigrations.schema, migrations: NotifyMigrations.all).migrate(pool, logger: TestEnvironment.logger)
            let cases = try await pool.query("SELECT id, case_id FROM notify.deliveries").reduce(into: [UUID: UUID?]()) { found, row in
                found[try row.decode(UUID.self, at: 0)] = try row.decode(UUID?.self, at: 1)
            }
            #expect(cases[fromWebhook] == caseID && cases[sibling] == caseID)
            #expect(cases[fromRobot] == robotCase)
            #expect(cases[alone] == .some(nil) && cases[indexed] == .some(nil))
        }
    }
}
