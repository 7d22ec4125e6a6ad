import Hummingbird
import PinganAccess
import PinganConnect
import PinganContracts
import PinganOutbox
import PinganRuntime

/// Assembles dispute-service: schema `dispute`, `pingan.dispute.v1.DisputeService`, and the
/// relay that sends opened cases to risk-service for assessment.
public enum DisputeApp {
    public static func build(
        settings: ServiceSettings, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let host = ServiceHost(.dispute, settings: settings, migrator: DisputeMigrations.migrator)
        let outbox = Outbox(schema: DisputeMigrations.schema)
        var routes = ConnectRoutes()
        DisputeServiceHandler(
            store: PostgresCaseStore(pool: host.pool, outbox: outbox),
            verifier: try PrincipalVerifier(meshSecret: settings.mesh.meshSecret)
        ).register(into: &routes)
        let risk = ConnectClient(baseURL: settings.mesh.url(.risk), transport: CurlTransport())
        let relay = OutboxRelay.dispatcher(
            for: outbox,
            routes: [CaseEvents.opened: try OutboxRelay.rpc(RiskServiceMethods.assessCase, client: risk, as: .dispute, mesh: settings.mesh)],
            pool: host.pool, logger: host.logger
        )
        return host.application(routes: routes, services: [relay], onServerRunning: onServerRunning)
    }
}
