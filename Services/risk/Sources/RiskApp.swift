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
public struct RiskSettings: Sendable {
    public var service: ServiceSettings
    public var threshold: Int?
    public var acknowledgeWithin: Duration
    public var scanInterval: Duration

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
    }
}

/// Assembles risk-service: schema `risk`, `pingan.risk.v1.RiskService`, the escalation of
/// unacknowledged warnings, and the relay that sends warnings and notices to notify-service.
public enum RiskApp {
    /// - Parameter now: the time of day; tests pass a clock they control.
    public static func build(
        settings: RiskSettings, now: @escaping @Sendable () -> Date = { Date() },
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let mesh = settings.service.mesh
        let host = ServiceHost(.risk, settings: settings.service, migrator: RiskMigrations.migrator)
        let outbox = Outbox(schema: RiskMigrations.schema)
        let catalogue = try bundledModels()
        let policy = RiskPolicy(catalogue: catalogue, threshold: settings.threshold ?? catalogue.threshold, acknowledgeWithin: settings.acknowledgeWithin)
        let store = PostgresRiskStore(pool: host.pool, outbox: outbox)
        var routes = ConnectRoutes()
        let verifier = try PrincipalVerifier(meshSecret: mesh.meshSecret, previous: mesh.previousMeshSecrets)
        var events = EventConsumers(inbox: store.inbox, verifier: verifier)
        RiskServiceHandler(store: store, policy: policy, verifier: verifier, now: now).register(into: &routes, events: &events)
        events.register(into: &routes)
        let notify = ConnectClient(baseURL: mesh.url(.notify), transport: CurlTransport())
        let relay = OutboxRelay.dispatcher(
            for: outbox,
            routes: [
                WarningEvents.raised: try OutboxRelay.rpc(NotifyServiceMethods.deliverWarning, client: notify, as: .risk, mesh: mesh),
                WarningEvents.notice: try OutboxRelay.rpc(NotifyServiceMethods.deliverNotice, client: notify, as: .risk, mesh: mesh),
            ],
            pool: host.pool, logger: host.logger
        )
        // Warnings are urgent: one nobody acknowledged in time escalates a level on the wall clock.
        let escalation = PeriodicTask("warning escalation", every: settings.scanInterval, logger: host.logger) {
            while try await store.escalateUnacknowledged(now: now(), window: settings.acknowledgeWithin, limit: 200) == 200 {}
        }
        // A case left open scores higher each month it stays open, with no event to say so.
        let rescoring = PeriodicTask("re-scoring as time passes", every: settings.scanInterval, logger: host.logger) {
            while try await rescoreDue(store, policy: policy, now: now()) == 200 {}
        }
        return host.application(routes: routes, services: relay + [escalation, rescoring], onServerRunning: onServerRunning)
    }

    /// Re-scores up to 200 open cases whose score time alone has changed; returns how many.
    static func rescoreDue(_ store: any RiskStore, policy: RiskPolicy, now: Date) async throws -> Int {
        try await store.rescoreDue(now: now, limit: 200, score: { policy.score($0, now: now) }, threshold: policy.threshold) { score, village, open in
            policy.action(for: score, village: village, open: open, now: now)
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
