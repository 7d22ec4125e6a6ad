import Hummingbird
import PinganAccess
import PinganConnect
import PinganContracts
import PinganOutbox
import PinganRuntime

/// risk-service's settings: the common ones and `RISK_THRESHOLD` (0–100, default 60), the
/// score that raises a warning.
public struct RiskSettings: Sendable {
    public var service: ServiceSettings
    public var threshold: Int

    public init(service: ServiceSettings, threshold: Int = 60) {
        self.service = service
        self.threshold = threshold
    }

    public init(_ reader: SettingsReader) throws(ConfigurationError) {
        self.init(service: try ServiceSettings(reader, for: .risk), threshold: try reader.integer("RISK_THRESHOLD", in: 0...100) ?? 60)
    }
}

/// Assembles risk-service: schema `risk`, `pingan.risk.v1.RiskService`, and the relay that
/// sends raised warnings to notify-service.
public enum RiskApp {
    public static func build(
        settings: RiskSettings, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let mesh = settings.service.mesh
        let host = ServiceHost(.risk, settings: settings.service, migrator: RiskMigrations.migrator)
        let outbox = Outbox(schema: RiskMigrations.schema)
        var routes = ConnectRoutes()
        RiskServiceHandler(
            store: PostgresRiskStore(pool: host.pool, outbox: outbox), policy: RiskPolicy(threshold: settings.threshold),
            verifier: try PrincipalVerifier(meshSecret: mesh.meshSecret)
        ).register(into: &routes)
        let notify = ConnectClient(baseURL: mesh.url(.notify), transport: CurlTransport())
        let relay = OutboxRelay.dispatcher(
            for: outbox,
            routes: [WarningEvents.raised: try OutboxRelay.rpc(NotifyServiceMethods.deliverWarning, client: notify, as: .risk, mesh: mesh)],
            pool: host.pool, logger: host.logger
        )
        return host.application(routes: routes, services: [relay], onServerRunning: onServerRunning)
    }
}
