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

/// Receivers for the isolation test: one that answers at once, and fifty paths that hold
/// every request open until the test lets them go, as a blackholed department system would.
final class IsolationReceivers: Sendable {
    private let healthy = Mutex<[String: Date]>([:])
    private let held = Atomic<Int>(0)
    private let answeredDead = Atomic<Int>(0)
    private let gate = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    var healthyArrivals: [String: Date] { healthy.withLock { $0 } }
    var heldRequests: Int { held.load(ordering: .relaxed) }
    var deadAnswered: Int { answeredDead.load(ordering: .relaxed) }

    func release() {
        let waiters = gate.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    private func waitForRelease() async {
        await withCheckedContinuation { continuation in
            let open = gate.withLock { state -> Bool in
                if !state.open { state.waiters.append(continuation) }
                return state.open
            }
            if open { continuation.resume() }
        }
    }

    func application(onRunning: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
        let router = Router()
        router.post("hook") { request, _ -> Response in
            let delivery = request.headers[HTTPField.Name("X-Pingan-Delivery")!] ?? ""
            self.healthy.withLock { $0[delivery] = $0[delivery] ?? Date() }
            return Response(status: .ok)
        }
        router.post("huge") { _, _ -> Response in
            Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(repeating: UInt8(ascii: "x"), count: 8 << 20)))
        }
        router.post("dead/:n") { _, _ -> Response in
            self.held.add(1, ordering: .relaxed)
            await self.waitForRelease()
            self.answeredDead.add(1, ordering: .relaxed)
            return Response(status: .serviceUnavailable)
        }
        return Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { await onRunning($0.localAddress?.port ?? 0) }, logger: TestEnvironment.logger
        )
    }
}

@Suite("notify-service: one subscriber never delays another")
struct SubscriberIsolationTests {
    @Test func fiftyBlackholedSubscribersDoNotDelayAHealthyOne() async throws {
        let receivers = IsolationReceivers()
        try await withLiveServer({ receivers.application(onRunning: $0) }) { port in
            try await TestDatabase.with { database in
                var settings = NotifySettings(service: try TestMesh.settings(databaseURL: database.url), allowedHosts: try WebhookAllowList("127.0.0.1:\(port)"))
                // Sends are given up on after a minute here, not five seconds, so that "no
                // blackholed send was given up on before the healthy ones arrived" is about
                // the dispatcher, not about how busy the machine running the test is.
                settings.sendTimeout = .seconds(60)
                try await NotifyApp.build(settings: settings).test(.router) { client in
                    let rpc = InProcessClient(client)
                    let admin = try person(Place.townA, [.admin])
                    var subscribe = Pingan_Notify_V1_SubscribeRequest()
                    subscribe.centreCode = Place.townA
                    subscribe.secret = "a-shared-secret-of-24-b"
                    subscribe.url = "http://127.0.0.1:\(port)/hook"
                    _ = try await rpc.call(NotifyServiceMethods.subscribe, subscribe, headers: [admin])

                    func warn(_ count: Int) async throws -> [String: Date] {
                        var queued: [String: Date] = [:]
                        for _ in 0..<count {
                            var warning = Pingan_Notify_V1_DeliverWarningRequest()
                            warning.warningID = UUID().wire
                            warning.caseID = UUID().wire
                            warning.centreCode = Place.townA
                            warning.villageCode = Place.villageA
                            warning.score = 80
                            _ = try await rpc.call(NotifyServiceMethods.deliverWarning, warning, headers: try TestMesh.eventDelivery())
                            queued[warning.warningID] = Date()
                        }
                        return queued
                    }
                    let pool = database.pool()
                    defer { Task { await pool.close() } }
                    func healthyLatencies(_ queued: [String: Date]) async throws -> [Double] {
                        let rows = try await pool.query(
                            "SELECT d.id, d.subject_id FROM notify.deliveries d JOIN notify.subscriptions s ON s.id = d.subscription_id WHERE s.url LIKE '%/hook'"
                        )
                        let arrivals = receivers.healthyArrivals
                        return try rows.compactMap { row in
                            let delivery = try row.decode(UUID.self, at: 0).wire
                            let warning = try row.decode(UUID.self, at: 1).wire
                            guard let sent = queued[warning], let arrived = arrivals[delivery] else { return nil }
                            return arrived.timeIntervalSince(sent) * 1000
                        }
                    }

                    // Alone.
                    let alone = try await warn(20)
                    #expect(await eventually(timeout: .seconds(30)) { try await healthyLatencies(alone).count == 20 })

                    // Beside fifty subscribers whose every request hangs.
                    for index in 1...50 {
                        subscribe.url = "http://127.0.0.1:\(port)/dead/\(index)"
                        _ = try await rpc.call(NotifyServiceMethods.subscribe, subscribe, headers: [admin])
                    }
                    let beside = try await warn(20)
                    let arrived = await eventually(timeout: .seconds(30)) { try await healthyLatencies(beside).count == 20 }
                    #expect(arrived)
                    // Every healthy delivery arrived while the blackholed ones were still held
                    // open: none was answered, and none had been given up on (a send gives up
                    // after 60 s here) before the last healthy one arrived. A dispatcher that waited
                    // for its slowest send would record those failures first.
                    let heldThen = receivers.heldRequests
                    #expect(receivers.deadAnswered == 0)
                    let lastHealthy = try #require(receivers.healthyArrivals.values.max())
                    let firstDeadAttempt = try await pool.query(
                        "SELECT min(a.at) FROM notify.attempts a JOIN notify.deliveries d ON d.id = a.delivery_id JOIN notify.subscriptions s ON s.id = d.subscription_id WHERE s.url LIKE '%/dead/%'"
                    )[0].decode(Date?.self, at: 0)
                    #expect(firstDeadAttempt.map { lastHealthy < $0 } ?? true, "a blackholed send was given up on before the healthy deliveries arrived")
                    #expect(heldThen >= 50)
                    // No subscriber has more sends in flight than its share.
                    #expect(heldThen <= 50 * 4)
                    let p99 = { (values: [Double]) in values.sorted()[max(0, Int((Double(values.count) * 0.99).rounded(.up)) - 1)] }
                    let (aloneP99, besideP99) = (p99(try await healthyLatencies(alone)), p99(try await healthyLatencies(beside)))
                    print("healthy subscriber delivery p99: alone \(Int(aloneP99)) ms, beside 50 blackholed \(Int(besideP99)) ms")
                    receivers.release()
                }
            }
        }
    }

    /// curl connects where the egress check looked, and reads no more of an answer than it
    /// must: a huge one is cut off, and a 2xx is still a delivery.
    @Test func sendsArePinnedToTheCheckedAddressAndHugeAnswersAreCut() async throws {
        let receivers = IsolationReceivers()
        try await withLiveServer({ receivers.application(onRunning: $0) }) { port in
            let transport = CurlTransport()
            // A name no DNS knows reaches the receiver only through the pin.
            let pinned = try await transport.post(
                url: "http://pingan-pinned.invalid:\(port)/hook", headers: [("X-Pingan-Delivery", "pinned")], body: [], timeout: .seconds(5),
                resolve: ["pingan-pinned.invalid:\(port):127.0.0.1"]
            )
            #expect(pinned.status == 200 && receivers.healthyArrivals["pinned"] != nil)
            // Without the pin (a transport of its own, so no cached answer) the name goes nowhere.
            await expectCode(.unavailable) {
                _ = try await CurlTransport().post(url: "http://pingan-pinned.invalid:\(port)/hook", headers: [], body: [], timeout: .seconds(5))
            }
            let huge = try await transport.post(url: "http://127.0.0.1:\(port)/huge", headers: [], body: [], timeout: .seconds(5), maxResponseBytes: 64 << 10)
            #expect(huge.status == 200 && huge.truncated && huge.body.count == 64 << 10)

            // The egress check pins what it resolved, and nothing for a literal address.
            let egress = EgressPolicy(allowed: try WebhookAllowList("127.0.0.1:\(port),[::1]:\(port)"))
            let pins = try await egress.check("http://localhost:\(port)/hook").pins
            #expect(pins.count == 1 && pins[0].hasPrefix("localhost:\(port):") && pins[0].contains("127.0.0.1"))
            #expect(try await egress.check("http://127.0.0.1:\(port)/hook").pins.isEmpty)
        }
    }
}
