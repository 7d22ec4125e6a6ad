import Hummingbird
import PinganAccess
import PinganConnect
import PinganContracts
import PinganOutbox

/// Assembles dispute-service: schema `dispute`, `pingan.dispute.v1.DisputeService`, and the
/// relay that sends opened cases to risk-service for assessment.
public enum DisputeApp {
    public static let name = "dispute-service"

    public static func build(
        configuration: ServiceConfiguration, mesh: MeshConfiguration,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let host = ServiceHost(name: name, configuration: configuration, migrator: DisputeMigrations.migrator)
        let jurisdiction = try Jurisdiction(meshSecret: mesh.meshSecret)
        var routes = ConnectRoutes()
        let wakeup = OutboxWakeup()
        DisputeServiceHandler(store: CaseStore(pool: host.pool, wakeup: wakeup), jurisdiction: jurisdiction).register(into: &routes)
        let relay = try OutboxRelay(
            schema: "dispute", pool: host.pool, topic: CaseStore.openedTopic, to: RiskServiceMethods.assessCase,
            at: mesh.url(.risk), as: name, mesh: mesh, wakeup: wakeup, logger: host.logger
        )
        return host.application(routes: routes, services: [relay], onServerRunning: onServerRunning)
    }
}
