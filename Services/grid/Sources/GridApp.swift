import Foundation
import Hummingbird
import Logging
import PinganAccess
import PinganConnect
import PinganContracts
import PinganOutbox
import PinganPostgres

/// Assembles grid-service: schema `grid`, the division tree seeded with the real divisions of
/// Changde on first start, and `pingan.grid.v1.DivisionService`.
public enum GridApp {
    public static let name = "grid-service"
    public static let defaultPort = 8081

    /// The application for `configuration`; `onServerRunning` receives the bound port.
    public static func build(
        configuration: ServiceConfiguration, mesh: MeshConfiguration,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let host = ServiceHost(name: name, configuration: configuration, migrator: GridMigrations.migrator)
        let jurisdiction = try Jurisdiction(meshSecret: mesh.meshSecret)
        let store = PostgresDivisionStore(pool: host.pool)
        var routes = ConnectRoutes()
        DivisionServiceHandler(store: store, jurisdiction: jurisdiction).register(into: &routes)
        let wakeup = OutboxWakeup()
        GridServiceHandler(store: GridStore(pool: host.pool, wakeup: wakeup), jurisdiction: jurisdiction).register(into: &routes)
        let relay = try OutboxRelay(
            schema: "grid", pool: host.pool, topic: GridStore.incidentTopic, to: DisputeServiceMethods.openCase,
            at: mesh.url(.dispute), as: name, mesh: mesh, wakeup: wakeup, logger: host.logger
        )
        return host.application(
            routes: routes,
            services: [relay],
            beforeServing: { try await seedDivisions(store, logger: host.logger) },
            onServerRunning: onServerRunning
        )
    }

    /// The real divisions of Changde, shipped with the service (see Data/).
    public static func bundledDivisionsCSV() throws -> String {
        guard let url = Bundle.module.url(forResource: "changde-divisions", withExtension: "csv") else {
            throw ConfigurationError(variable: "resources", problem: "changde-divisions.csv is missing from the grid-service bundle")
        }
        return try String(contentsOf: url, encoding: .utf8)
    }

    /// Loads the shipped divisions into an empty tree; a tree that has rows is left as the
    /// deployment made it.
    static func seedDivisions(_ store: PostgresDivisionStore, logger: Logger) async throws {
        guard try await store.count() == 0 else { return }
        let result = try await store.importDivisions(try DivisionCSV(parsing: try bundledDivisionsCSV()))
        logger.notice("loaded the divisions of Changde", metadata: ["inserted": "\(result.inserted)"])
    }
}
