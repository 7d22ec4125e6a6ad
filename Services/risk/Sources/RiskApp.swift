import Foundation
import Hummingbird
import PinganAccess
import PinganConnect
import PinganContracts
import PinganOutbox
import PinganRuntime

/// risk-service's settings: the common ones and its own.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `RISK_THRESHOLD` | the models' (60) | score that raises a warning |
/// | `WARNING_ACK_MINUTES` | `30` | wall-clock minutes a raised warning waits for an acknowledgement before it escalates a level |
/// | `WARNING_SCAN_SECONDS` | `30` | how often unacknowledged warnings are looked for |
/// | `CLUSTER_RULES_FILE` | the rules shipped in `Data/risk-models.json` | a JSON file of versioned cluster rules (`{"versions": [...]}`) |
/// | `CLUSTER_GROUP_WAIT_SECONDS` | `30` | how long a new cluster warning gathers members before its push, and a cluster that has doubled before it is pushed again |
public struct RiskSettings: Sendable {
    public var service: ServiceSettings
    public var threshold: Int?
    public var acknowledgeWithin: Duration
    public var scanInterval: Duration
    /// A file of cluster rules to use instead of the shipped ones; `nil` for the shipped ones.
    public var clusterRulesFile: String? = nil
    /// Alertmanager's `group_wait`: members arriving meanwhile go in the cluster's push, or in
    /// its push again once it has doubled.
    public var groupWait: Duration = .seconds(30)

    public init(service: ServiceSettings, threshold: Int? = nil, acknowledgeWithin: Duration = .seconds(30 * 60), scanInterval: Duration = .seconds(30)) {
        self.service = service
        self.threshold = threshold
        self.acknowledgeWithin = acknowledgeWithin
        self.scanInterval = scanInterval
    }

    public init(_ reader: SettingsReader) throws(ConfigurationError) {
        self.init(
            service: try ServiceSettings(reader, for: .risk),
            threshold: try reader.integer("RISK_THRESHOLD", in: 0...100),
            acknowledgeWithin: .seconds(60 * (try reader.integer("WARNING_ACK_MINUTES", in: 1...10_080) ?? 30)),
            scanInterval: .seconds(try reader.integer("WARNING_SCAN_SECONDS", in: 1...3600) ?? 30)
        )
        clusterRulesFile = reader.string("CLUSTER_RULES_FILE")
        groupWait = .seconds(try reader.integer("CLUSTER_GROUP_WAIT_SECONDS", in: 0...3600) ?? 30)
    }
}

/// Assembles risk-service: schema `risk`, `pingan.risk.v1.RiskService`, the chores time sets
/// off (escalating unacknowledged warnings, re-scoring open cases, ``RiskChores``), and the
/// relay that sends warnings and notices to notify-service (``WarningEvents``).
public enum RiskApp {
    /// - Parameter now: the time of day; tests pass a clock they control.
    public static func build(
        settings: RiskSettings, now: @escaping @Sendable () -> Date = { Date() },
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let mesh = settings.service.mesh
        let host = ServiceHost(.risk, settings: settings.service, migrator: RiskMigrations.migrator)
        let outbox = Outbox(schema: RiskMigrations.schema)
        let models = try bundledModels()
        let rules = WarningRules(threshold: settings.threshold ?? models.threshold, acknowledgeWithin: settings.acknowledgeWithin)
        let clusters = ClusterPolicy(book: try clusterRules(settings.clusterRulesFile), grouping: ClusterGrouping(groupWait: settings.groupWait))
        let store = PostgresRiskStore(pool: host.pool, outbox: outbox)
        var routes = ConnectRoutes()
        let verifier = try PrincipalVerifier(meshSecret: mesh.meshSecret, previous: mesh.previousMeshSecrets)
        var events = EventConsumers(inbox: store.inbox, verifier: verifier)
        RiskServiceHandler(store: store, models: models, rules: rules, clusters: clusters, verifier: verifier, now: now).register(into: &routes, events: &events)
        events.register(into: &routes)
        let notify = ConnectClient(baseURL: mesh.url(.notify), transport: CurlTransport())
        let relay = OutboxRelay.dispatcher(
            for: outbox,
            routes: Dictionary(uniqueKeysWithValues: [
                try OutboxRelay.route(WarningEvents.raised, client: notify, as: .risk, mesh: mesh),
                try OutboxRelay.route(WarningEvents.notice, client: notify, as: .risk, mesh: mesh),
            ]),
            pool: host.pool, logger: host.logger
        )
        let chores = RiskChores(store: store, models: models, rules: rules, clusterRules: clusters.book)
        // Warnings are urgent: one nobody acknowledged in time escalates a level on the wall clock.
        let escalation = PeriodicTask("warning escalation", every: settings.scanInterval, logger: host.logger) {
            try await PeriodicTask.drain(batch: RiskChores.batch) { try await chores.escalateDue(now: now()) }
        }
        // A case left open scores higher each month it stays open, with no event to say so.
        let rescoring = PeriodicTask("re-scoring as time passes", every: settings.scanInterval, logger: host.logger) {
            try await PeriodicTask.drain(batch: RiskChores.batch) { try await chores.rescoreDue(now: now()) }
        }
        // A cluster's push goes out when its group wait is over, and again when it has doubled.
        let clusterPushes = PeriodicTask("cluster pushes", every: min(settings.scanInterval, .seconds(max(1, settings.groupWait.components.seconds))), logger: host.logger) {
            try await PeriodicTask.drain(batch: RiskChores.batch) { try await chores.pushDueClusters(now: now()) }
        }
        return host.application(routes: routes, services: relay + [escalation, rescoring, clusterPushes], onServerRunning: onServerRunning)
    }

    /// The cluster rules: `file` when set, otherwise those shipped beside the models.
    static func clusterRules(_ file: String?) throws -> ClusterRuleBook {
        let data: Data
        if let file {
            guard let read = FileManager.default.contents(atPath: file) else {
                throw ConfigurationError(variable: "CLUSTER_RULES_FILE", problem: "\(file) cannot be read")
            }
            data = read
        } else {
            guard let url = Bundle.module.url(forResource: "risk-models", withExtension: "json") else {
                throw ConfigurationError(variable: "resources", problem: "risk-models.json is missing from the risk-service bundle")
            }
            data = try Data(contentsOf: url)
        }
        do {
            return try ClusterRuleBook.parse(data)
        } catch {
            throw ConfigurationError(variable: file == nil ? "resources" : "CLUSTER_RULES_FILE", problem: error.description)
        }
    }

    /// The models per category shipped with the service (`Data/risk-models.json`).
    static func bundledModels() throws -> RiskModelCatalogue {
        guard let url = Bundle.module.url(forResource: "risk-models", withExtension: "json") else {
            throw ConfigurationError(variable: "resources", problem: "risk-models.json is missing from the risk-service bundle")
        }
        return try RiskModelCatalogue.parse(try Data(contentsOf: url))
    }
}
