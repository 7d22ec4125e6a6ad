import Foundation
import Hummingbird
import Logging
import PinganAccess
import PinganConnect
import PinganContracts
import PinganOutbox
import PinganRuntime

/// Assembles grid-service: schema `grid`, the division tree seeded with the real divisions of
/// Changde on first start, `pingan.grid.v1.DivisionService` and `GridService`, the relay
/// that hands reported incidents to dispute-service, and the list of counties that run their
/// own platform, read from dispute-service (``FederatedCounties``).
public enum GridApp {
    /// The application for `settings`; `onServerRunning` receives the bound port.
    /// - Parameter now: the time of day; tests pass a clock they control.
    public static func build(
        settings: ServiceSettings, now: @escaping @Sendable () -> Date = { Date() }, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        try build(settings: GridSettings(service: settings), now: now, onServerRunning: onServerRunning)
    }

    /// The application for `settings`, with the upkeep of the screening partitions
    /// (``ScreeningPartitions``): once before serving, then hourly.
    public static func build(
        settings gridSettings: GridSettings, now: @escaping @Sendable () -> Date = { Date() },
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let settings = gridSettings.service
        let host = ServiceHost(.grid, settings: settings, migrator: GridMigrations.migrator)
        let partitions = ScreeningPartitions(pool: host.pool, retention: gridSettings.screeningRetention)
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
        let upkeep = partitions.table.hourly(now: now, firstKept: { partitions.firstKept(at: $0) }, logger: host.logger)
        let counties = FederatedCounties(pool: host.pool, dispute: dispute, verifier: verifier, root: settings.mesh.root)
        return host.application(
            routes: routes,
            services: relay + [upkeep, counties.task(now: now, logger: host.logger)],
            beforeServing: {
                try await seedDivisions(divisions, logger: host.logger)
                // A failure is logged, not thrown: months are made two ahead, and the hourly round retries.
                let start = now()
                await partitions.table.keepAtStart(now: start, firstKept: partitions.firstKept(at: start), logger: host.logger)
            },
            onServerRunning: onServerRunning
        )
    }

    /// Runs `body` with an importer on the database `settings` name, after applying the
    /// migrations, for `grid-service import` (the executable's own command, with the settings
    /// `serve` reads).
    public static func withImporter<R>(settings: GridSettings, batchSize: Int, _ body: (GridImporter) async throws -> R) async throws -> R {
        var service = settings.service
        service.poolSize = 2
        return try await ServiceHost(.grid, settings: service, migrator: GridMigrations.migrator).onMigratedDatabase { pool in
            try await body(GridImporter(pool: pool, retention: settings.screeningRetention, batchSize: batchSize))
        }
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
