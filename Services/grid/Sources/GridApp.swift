import Foundation
import Hummingbird
import Logging
import PinganAccess
import PinganConnect
import PinganContracts
import PinganOutbox
import PinganRuntime

/// Assembles grid-service: schema `grid`, the division tree seeded with the real divisions of
/// Changde on first start, `pingan.grid.v1.DivisionService` and `GridService`, and the relay
/// that hands reported incidents to dispute-service.
public enum GridApp {
    /// The application for `settings`; `onServerRunning` receives the bound port.
    /// - Parameter now: the time of day; tests pass a clock they control.
    public static func build(
        settings: ServiceSettings, now: @escaping @Sendable () -> Date = { Date() }, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let host = ServiceHost(.grid, settings: settings, migrator: GridMigrations.migrator)
        let verifier = try PrincipalVerifier(meshSecret: settings.mesh.meshSecret, previous: settings.mesh.previousMeshSecrets)
        let outbox = Outbox(schema: GridMigrations.schema)
        let divisions = PostgresDivisionStore(pool: host.pool)
        var routes = ConnectRoutes()
        DivisionServiceHandler(store: divisions, verifier: verifier).register(into: &routes)
        GridServiceHandler(store: PostgresGridStore(pool: host.pool, outbox: outbox), verifier: verifier, now: now).register(into: &routes)
        let dispute = ConnectClient(baseURL: settings.mesh.url(.dispute), transport: CurlTransport())
        let relay = OutboxRelay.dispatcher(
            for: outbox,
            routes: Dictionary(uniqueKeysWithValues: [try OutboxRelay.route(IncidentEvents.reported, client: dispute, as: .grid, mesh: settings.mesh)]),
            pool: host.pool, logger: host.logger
        )
        return host.application(
            routes: routes,
            services: relay,
            beforeServing: { try await seedDivisions(divisions, logger: host.logger) },
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
    static func seedDivisions(_ store: any DivisionStore, logger: Logger) async throws {
        guard try await store.count() == 0 else { return }
        let result = try await store.importDivisions(try DivisionCSV(parsing: try bundledDivisionsCSV()))
        logger.notice("loaded the divisions of Changde", metadata: ["inserted": "\(result.inserted)"])
    }
}
