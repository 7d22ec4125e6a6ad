import Crypto
import Foundation
import Hummingbird
import HTTPTypes
import PinganAccess
import PinganDomain
import PinganConnect
import PinganContracts
import PinganPostgres
import PinganTestSupport
import Synchronization

/// Codes used by the end-to-end tests: two sibling townships of 澧县 with generated villages.
enum Place {
    static let city = "430700000000"
    static let lixian = "430723000000"  // 澧县
    static let jinshi = "430781000000"  // 津市市, another county
    static let townA = "430723102000"  // 小渡口镇
    static let townB = "430723103000"  // 梦溪镇
    static let villageA1 = "430723102201"
    static let villageA2 = "430723102202"
    static let villageB1 = "430723103201"

    static let generatedVillages = """
        code,name,level,parent_code
        430723102201,小渡口一村（生成）,village,430723102000
        430723102202,小渡口二村（生成）,village,430723102000
        430723103201,梦溪一村（生成）,village,430723103000
        """
}

/// What the webhook receiver got: one entry per HTTP request.
struct ReceivedWebhook: Sendable {
    let delivery: String
    let signature: String
    let body: [UInt8]

    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]) ?? [:] }
    var caseID: String { json["case_id"] as? String ?? "" }
}

/// What arrived at one of the receiver's other channels (a WeCom robot, an SMS gateway).
struct ChannelMessage: Sendable {
    let channel: String
    let delivery: String
    let body: [UInt8]

    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]) ?? [:] }
}

/// A real HTTP webhook receiver that can be told to fail or to answer slowly, as a
/// department system would; it also stands in for a WeCom group robot and an SMS gateway
/// at `/channel/<name>`.
final class WebhookReceiver: Sendable {
    static let secret = "receiver-shared-secret-0123456789"
    private let state = Mutex<(received: [ReceivedWebhook], failing: Bool)>(([], false))
    private let channelState = Mutex<(messages: [ChannelMessage], delay: Duration, answering: Int)>(([], .zero, 0))
    private let boundPort = Mutex(0)

    var channelMessages: [ChannelMessage] { channelState.withLock { $0.messages } }
    /// Requests being held by the delay right now.
    var answering: Int { channelState.withLock { $0.answering } }
    func setDelay(_ delay: Duration) { channelState.withLock { $0.delay = delay } }

    /// Holds a request for the current delay, as a slow receiver does.
    private func slowly() async {
        let delay = channelState.withLock { state -> Duration in
            state.answering += 1
            return state.delay
        }
        if delay > .zero { try? await Task.sleep(for: delay) }
        channelState.withLock { $0.answering -= 1 }
    }

    /// The loopback port it listens on, once running.
    var port: Int { boundPort.withLock { $0 } }

    var received: [ReceivedWebhook] { state.withLock { $0.received } }
    func setFailing(_ failing: Bool) { state.withLock { $0.failing = failing } }

    func application(onRunning: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
        let router = Router()
        router.post("channel/:name") { request, context -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            await self.slowly()
            let message = ChannelMessage(
                channel: context.parameters.get("name") ?? "", delivery: request.headers[HTTPField.Name("X-Pingan-Delivery")!] ?? "",
                body: Array(buffer: body)
            )
            self.channelState.withLock { $0.messages.append(message) }
            return Response(status: .ok)
        }
        router.post("hook") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            await self.slowly()
            let failing = self.state.withLock { $0.failing }
            if failing { return Response(status: .serviceUnavailable) }
            let webhook = ReceivedWebhook(
                delivery: request.headers[HTTPField.Name("X-Pingan-Delivery")!] ?? "",
                signature: request.headers[HTTPField.Name("X-Pingan-Signature")!] ?? "",
                body: Array(buffer: body)
            )
            self.state.withLock { $0.received.append(webhook) }
            return Response(status: .ok)
        }
        return Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                self.boundPort.withLock { $0 = port }
                await onRunning(port)
            },
            logger: TestEnvironment.logger
        )
    }

    /// True if the signature is HMAC-SHA256 of the body with the subscription's secret.
    static func verify(_ webhook: ReceivedWebhook) -> Bool {
        let mac = HMAC<SHA256>.authenticationCode(for: webhook.body, using: SymmetricKey(data: Data(secret.utf8)))
        return webhook.signature == "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
    }
}

/// Every executable of Pingan started as a real process on loopback, on one fresh database.
final class Mesh: @unchecked Sendable {
    static let services = ["grid": "grid-service", "dispute": "dispute-service", "risk": "risk-service", "index": "index-service", "notify": "notify-service", "gateway": "gateway"]
    static let password = "correct-horse-battery"

    let database: TestDatabase
    let logDirectory: String
    let bin: String
    var ports: [String: Int] = [:]
    var processes: [String: ChildProcess] = [:]
    let transport = CurlTransport()
    var tokens: [String: String] = [:]
    /// The test's webhook receiver, the one loopback port notify-service may push to.
    var receiverPort = 0

    init(database: TestDatabase) throws {
        self.database = database
        bin = ProcessInfo.processInfo.environment["PINGAN_BIN"]
            ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent(".build/debug").path
        logDirectory = NSTemporaryDirectory() + "pingan-e2e-" + database.name
        try FileManager.default.createDirectory(atPath: logDirectory, withIntermediateDirectories: true)
        for name in Self.services.keys { ports[name] = try freePort() }
    }

    func url(_ service: String) -> String { "http://127.0.0.1:\(ports[service] ?? 0)" }

    /// Services log in as their own roles, as deployed (`deploy/postgres/roles.sql`, which
    /// test.sh runs on the test cluster): each owns its schema and cannot read the others'.
    /// Without those roles (the suite run by hand) they share the test's user.
    var perServiceRoles = false

    func databaseURL(for service: String) -> String {
        guard perServiceRoles, let scheme = database.url.range(of: "://"),
              let at = database.url[scheme.upperBound...].firstIndex(of: "@") else { return database.url }
        return database.url.replacingCharacters(in: scheme.upperBound..<at, with: "pingan_\(service):test")
    }

    /// Lets the six service roles into this test's database, if the cluster has them, with
    /// the grants `deploy/postgres/roles.sql` gives a deployment's database and nothing more:
    /// its privilege list is read from the file, so the two cannot drift apart.
    func grantServiceRoles() async throws {
        let pool = database.pool(maxConnections: 1)
        defer { Task { await pool.close() } }
        let roles = try await pool.query("SELECT count(*) FROM pg_roles WHERE rolname LIKE 'pingan\\_%'")[0].decode(Int.self, at: 0)
        guard roles >= Self.services.count else { return }
        let privileges = try Self.databasePrivileges()
        try await pool.query("REVOKE ALL ON DATABASE \(database.name) FROM PUBLIC")
        for service in Self.services.keys.sorted() {
            try await pool.query("GRANT \(privileges) ON DATABASE \(database.name) TO pingan_\(service)")
        }
        perServiceRoles = true
    }

    /// What `roles.sql` grants each service role on the database (`CONNECT, CREATE, ...`).
    static func databasePrivileges() throws -> String {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("deploy/postgres/roles.sql")
        let text = try String(contentsOf: file, encoding: .utf8)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("SELECT format('GRANT ") && $0.contains(" ON DATABASE ") }),
              let start = line.range(of: "GRANT "), let end = line.range(of: " ON DATABASE ")
        else { throw TestSetupError("no GRANT ... ON DATABASE line in \(file.path)") }
        return String(line[start.upperBound..<end.lowerBound])
    }

    func environment(for service: String, extra: [String: String] = [:]) -> [String: String] {
        var environment = [
            "PORT": String(ports[service] ?? 0), "HOST": "127.0.0.1", "DATABASE_URL": databaseURL(for: service), "DB_POOL_SIZE": "6",
            "MESH_SECRET": TestMesh.secret, "TOKEN_SECRET": TestMesh.tokenSecret, "ROOT_DIVISION": Place.city,
            "BCRYPT_COST": "4", "LOG_LEVEL": "info", "INDEX_INTERVAL_SECONDS": "3600",
            // The test's webhook receiver listens on loopback, which notify-service refuses
            // unless allowed: its port only, as a deployment allows a receiver (host:port).
            "WEBHOOK_ALLOWED_HOSTS": receiverPort > 0 ? "127.0.0.1:\(receiverPort)" : "",
        ]
        for peer in MeshService.peers { environment[peer.rawValue.uppercased() + "_URL"] = url(peer.rawValue) }
        for (key, value) in extra { environment[key] = value }
        if service == "gateway", environment["ACCESS_LOG_SPOOL"] == nil {
            // Each gateway a spool of its own, kept across its restarts and removed with the logs.
            environment["ACCESS_LOG_SPOOL"] = "\(logDirectory)/access-spool-\(environment["PORT"] ?? "0")"
        }
        return environment
    }

    /// Starts (or restarts) one service and waits until it is ready.
    func start(_ service: String, extra: [String: String] = [:]) async throws {
        guard let executable = Self.services[service] else { throw TestSetupError("no service \(service)") }
        processes[service] = try ChildProcess(
            name: service, executable: "\(bin)/\(executable)", environment: environment(for: service, extra: extra), logDirectory: logDirectory
        )
        let ready = await eventually(timeout: .seconds(60)) { try await self.get(self.url(service) + "/readyz").status == 200 }
        guard ready else {
            let log = (try? String(contentsOfFile: "\(logDirectory)/\(service).log", encoding: .utf8)) ?? ""
            throw TestSetupError("\(service) did not become ready:\n\(log.suffix(2000))")
        }
    }

    func kill(_ service: String) async { await processes[service]?.stop(signal: SIGKILL) }

    func stopAll() async {
        for process in processes.values { await process.stop(signal: SIGTERM) }
        processes.removeAll()
    }

    /// Starts every service, registers villages, users, grids and the receiver's subscriptions.
    func startAll(receiverPort: Int) async throws -> Setup {
        self.receiverPort = receiverPort
        try await grantServiceRoles()
        // Grid first: it loads the divisions the others' data hangs from.
        try await start("grid")
        for service in ["dispute", "risk", "notify", "index", "gateway"] { try await start(service) }
        let users: [(String, String, String)] = [
            ("city-admin", Place.city, "admin,staff,leader,mediator"),
            ("lixian-staff", Place.lixian, "staff,leader"),
            ("town-a", Place.townA, "staff,mediator,grid_worker"),
            ("town-b", Place.townB, "staff,mediator,grid_worker"),
            ("village-a1", Place.villageA1, "staff,grid_worker"),
            ("jinshi-staff", Place.jinshi, "staff"),
        ]
        for (name, centre, roles) in users {
            var environment = environment(for: "gateway")
            environment["PINGAN_PASSWORD"] = Self.password
            let (status, output) = try await ChildProcess.run(
                "\(bin)/gateway", ["add-user", name, centre, roles], environment: environment, logPath: "\(logDirectory)/add-user-\(name).log"
            )
            guard status == 0 else { throw TestSetupError("add-user \(name) failed: \(output)") }
            tokens[name] = try await login(name)
        }
        var importRequest = Pingan_Grid_V1_ImportDivisionsRequest()
        importRequest.csv = Place.generatedVillages
        _ = try await call(DivisionServiceMethods.importDivisions, importRequest, as: "city-admin")
        var setup = Setup()
        for village in [Place.villageA1, Place.villageA2, Place.villageB1] {
            var grid = Pingan_Grid_V1_CreateGridRequest()
            grid.villageCode = village
            grid.name = "第一网格"
            let created = try await call(GridServiceMethods.createGrid, grid, as: "city-admin").grid
            var member = Pingan_Grid_V1_AddGridMemberRequest()
            member.gridID = created.id
            member.name = "王小明"
            member.role = .gridWorker
            setup.grids[village] = (created.id, try await call(GridServiceMethods.addGridMember, member, as: "city-admin").member.id)
        }
        for centre in [Place.townA, Place.townB] {
            var subscribe = Pingan_Notify_V1_SubscribeRequest()
            subscribe.centreCode = centre
            subscribe.url = "http://127.0.0.1:\(receiverPort)/hook"
            subscribe.secret = WebhookReceiver.secret
            _ = try await call(NotifyServiceMethods.subscribe, subscribe, as: "city-admin")
        }
        return setup
    }

    struct Setup {
        /// Village code → (grid id, grid worker's member id).
        var grids: [String: (grid: String, member: String)] = [:]
    }

    func login(_ username: String, at gateway: String? = nil) async throws -> String {
        var request = Pingan_Gateway_V1_LoginRequest()
        request.username = username
        request.password = Self.password
        return try await ConnectClient(baseURL: gateway ?? url("gateway"), transport: transport).call(AuthServiceMethods.login, request).token
    }

    /// Calls a method through the gateway as `user`.
    func call<Input, Output>(_ method: ConnectMethod<Input, Output>, _ request: Input, as user: String, gateway: String? = nil) async throws -> Output {
        try await ConnectClient(baseURL: gateway ?? url("gateway"), transport: transport)
            .call(method, request, options: CallOptions(timeout: .seconds(20), headers: [("Authorization", "Bearer \(tokens[user] ?? "")")]))
    }

    /// Sends raw JSON through the gateway as `user`, for input no typed client would produce.
    func postJSON(_ path: String, _ json: String, as user: String) async throws -> [UInt8] {
        try await ConnectClient(baseURL: url("gateway"), transport: transport).send(
            path: path, body: Array(json.utf8), codec: .json, retry: false,
            options: CallOptions(timeout: .seconds(20), headers: [("Authorization", "Bearer \(tokens[user] ?? "")")])
        )
    }

    func get(_ url: String) async throws -> HTTPReply {
        try await transport.get(url: url)
    }

    /// Reports an incident. Each report is between other people unless `parties` says who:
    /// a new incident between the same parties joins their open case instead of opening one.
    func report(in village: String, setup: Setup, highRisk: Bool, as user: String = "city-admin", parties: [String]? = nil) async throws -> Pingan_Grid_V1_Incident {
        guard let grid = setup.grids[village] else { throw TestSetupError("no grid in \(village)") }
        var request = Pingan_Grid_V1_ReportIncidentRequest()
        request.gridID = grid.grid
        request.reporterMemberID = grid.member
        request.category = .neighbour
        request.description_p = highRisk ? "两户邻居因宅基地边界反复争吵，一方扬言动手" : "邻居之间因噪音发生口角"
        let names = parties ?? nextParties()
        var first = Pingan_Grid_V1_Party()
        first.name = names[0]
        first.phone = "13812345678"
        var second = Pingan_Grid_V1_Party()
        second.name = names[1]
        request.parties = [first, second]
        // The neighbour model: 20 + repeat 40 + threat of violence 40 = 100, over the threshold of 60; else 20.
        request.threatOfViolence = highRisk
        request.repeatIncident = highRisk
        return try await call(GridServiceMethods.reportIncident, request, as: user).incident
    }

    private let reports = Mutex(0)

    /// Two people no earlier report named: 张 and 李 with a given name of their own.
    func nextParties() -> [String] {
        let n = reports.withLock { count -> Int in
            count += 1
            return count
        }
        let given = { (offset: Int) in String(Character(UnicodeScalar(0x4E00 + 2 * n + offset) ?? "甲")) }
        return ["张" + given(0), "李" + given(1)]
    }

    /// The township's half of the warning's loop, as `user`: assigned, fed back, evaluated
    /// and closed with `outcome`. Returns the closed warning.
    func handleToClosed(_ warning: String, as user: String, assignee: String, feedback: String, evaluation: String, outcome: String) async throws -> Pingan_Risk_V1_Warning {
        var assign = Pingan_Risk_V1_AssignWarningRequest()
        assign.warningID = warning
        assign.assignee = assignee
        _ = try await call(RiskServiceMethods.assignWarning, assign, as: user)
        var feedBack = Pingan_Risk_V1_FeedBackOnWarningRequest()
        feedBack.warningID = warning
        feedBack.feedback = feedback
        _ = try await call(RiskServiceMethods.feedBackOnWarning, feedBack, as: user)
        var evaluate = Pingan_Risk_V1_EvaluateWarningRequest()
        evaluate.warningID = warning
        evaluate.evaluation = evaluation
        _ = try await call(RiskServiceMethods.evaluateWarning, evaluate, as: user)
        var close = Pingan_Risk_V1_CloseWarningRequest()
        close.warningID = warning
        close.outcome = outcome
        return try await call(RiskServiceMethods.closeWarning, close, as: user).warning
    }

    /// A pool on the mesh's database, for checking what the services stored.
    func count(_ sql: String) async throws -> Int {
        let pool = database.pool(maxConnections: 1)
        defer { Task { await pool.close() } }
        return try await pool.query(sql)[0].decode(Int.self, at: 0)
    }
}

/// Runs `body` with a fresh database, a webhook receiver and the whole mesh, and stops it all after.
func withMesh<R: Sendable>(_ body: (Mesh, Mesh.Setup, WebhookReceiver) async throws -> R) async throws -> R {
    try await TestDatabase.with { database in
        let receiver = WebhookReceiver()
        return try await withLiveServer({ receiver.application(onRunning: $0) }) { receiverPort in
            let mesh = try Mesh(database: database)
            do {
                let setup = try await mesh.startAll(receiverPort: receiverPort)
                let result = try await body(mesh, setup, receiver)
                await mesh.stopAll()
                // The services' logs are kept only for a run that failed, to read why.
                try? FileManager.default.removeItem(atPath: mesh.logDirectory)
                return result
            } catch {
                await mesh.stopAll()
                throw error
            }
        }
    }
}
