import Hummingbird
import PinganAccess
import PinganConnect
import PinganContracts
import PinganOutbox

/// Assembles risk-service: schema `risk`, `pingan.risk.v1.RiskService`, and the relay that
/// sends raised warnings to notify-service.
///
/// Reads `RISK_THRESHOLD` (0–100, default 60) besides the common variables.
public enum RiskApp {
    public static let name = "risk-service"

    public static func build(
        configuration: ServiceConfiguration, mesh: MeshConfiguration, threshold: Int,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let host = ServiceHost(name: name, configuration: configuration, migrator: RiskMigrations.migrator)
        let jurisdiction = try Jurisdiction(meshSecret: mesh.meshSecret)
        var routes = ConnectRoutes()
        let wakeup = OutboxWakeup()
        RiskServiceHandler(store: RiskStore(pool: host.pool, threshold: threshold, wakeup: wakeup), jurisdiction: jurisdiction).register(into: &routes)
        let relay = try OutboxRelay(
            schema: "risk", pool: host.pool, topic: RiskStore.warningTopic, to: NotifyServiceMethods.deliverWarning,
            at: mesh.url(.notify), as: name, mesh: mesh, wakeup: wakeup, logger: host.logger
        )
        return host.application(routes: routes, services: [relay], onServerRunning: onServerRunning)
    }
}
