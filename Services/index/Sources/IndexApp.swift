import Foundation
import Hummingbird
import Logging
import PinganAccess
import PinganDomain
import PinganConnect
import PinganContracts
import PinganOutbox
import PinganRuntime
import ServiceLifecycle

/// index-service's settings: the common ones and `INDEX_INTERVAL_SECONDS` (default 3600),
/// how often the current month is recomputed.
public struct IndexSettings: Sendable {
    public var service: ServiceSettings
    public var interval: Duration

    public init(service: ServiceSettings, interval: Duration = .seconds(3600)) {
        self.service = service
        self.interval = interval
    }

    public init(_ reader: SettingsReader) throws(ConfigurationError) {
        self.init(
            service: try ServiceSettings(reader, for: .index),
            interval: .seconds(try reader.integer("INDEX_INTERVAL_SECONDS", in: 1...(86_400 * 31)) ?? 3600)
        )
    }
}

/// Assembles index-service: schema `index`, `pingan.index.v1.IndexService`, the scheduler
/// that recomputes the running month and freezes the month before it without anyone asking,
/// and the relay that pushes actions and published results through notify-service.
public enum IndexApp {
    /// - Parameter now: the time of day; tests pass a clock they control.
    public static func build(
        settings: IndexSettings, now: @escaping @Sendable () -> Date = { Date() },
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let mesh = settings.service.mesh
        let host = ServiceHost(.index, settings: settings.service, migrator: IndexMigrations.migrator)
        let verifier = try PrincipalVerifier(meshSecret: mesh.meshSecret, previous: mesh.previousMeshSecrets)
        let transport = CurlTransport()
        let peers = IndexPeers(
            grid: ConnectClient(baseURL: mesh.url(.grid), transport: transport),
            dispute: ConnectClient(baseURL: mesh.url(.dispute), transport: transport),
            risk: ConnectClient(baseURL: mesh.url(.risk), transport: transport),
            verifier: verifier, root: mesh.root
        )
        let outbox = Outbox(schema: IndexMigrations.schema)
        let handler = IndexServiceHandler(
            months: PostgresMonthStore(pool: host.pool, outbox: outbox), actions: PostgresActionStore(pool: host.pool),
            thresholds: PostgresThresholdRuleStore(pool: host.pool), surveys: PostgresSurveyStore(pool: host.pool),
            verifier: verifier, peers: peers, catalogue: try bundledCatalogue(), now: now, logger: host.logger
        )
        var routes = ConnectRoutes()
        handler.register(into: &routes)
        let notify = ConnectClient(baseURL: mesh.url(.notify), transport: transport)
        let relay = OutboxRelay.dispatcher(
            for: outbox,
            routes: Dictionary(uniqueKeysWithValues: [try OutboxRelay.route(IndexEvents.notice, client: notify, as: .index, mesh: mesh)]),
            pool: host.pool, logger: host.logger
        )
        let logger = host.logger
        let scheduler = PeriodicTask("governance index", every: settings.interval, logger: logger) {
            for version in try await handler.scheduledRound() {
                logger.info("computed the governance index", metadata: [
                    "month": "\(version.month)", "version": "\(version.version)", "status": "\(version.status.rawValue)",
                ])
            }
        }
        return host.application(routes: routes, services: relay + [scheduler], onServerRunning: onServerRunning)
    }

    /// The indicator catalogue shipped with the service (`Data/indicator-catalogue.json`).
    static func bundledCatalogue() throws -> IndicatorCatalogue {
        guard let url = Bundle.module.url(forResource: "indicator-catalogue", withExtension: "json") else {
            throw ConfigurationError(variable: "resources", problem: "indicator-catalogue.json is missing from the index-service bundle")
        }
        return try IndicatorCatalogue.parse(try Data(contentsOf: url))
    }
}
