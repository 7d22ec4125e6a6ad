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

/// index-service's settings: the common ones, `INDEX_INTERVAL_SECONDS` (default 3600), how
/// often the current month is recomputed, and at a county that runs its own mesh
/// `FEDERATION_URL` and `FEDERATION_KEY`, where its counts go each round (``CountyFactsRelay``).
public struct IndexSettings: Sendable {
    public var service: ServiceSettings
    public var interval: Duration
    /// Where this county's mesh sends its counts; `nil` for a mesh that sends them nowhere (the city's).
    public var federation: FederationUpstream? = nil

    public init(service: ServiceSettings, interval: Duration = .seconds(3600), federation: FederationUpstream? = nil) {
        self.service = service
        self.interval = interval
        self.federation = federation
    }

    public init(_ reader: SettingsReader) throws(ConfigurationError) {
        self.init(
            service: try ServiceSettings(reader, for: .index),
            interval: .seconds(try reader.integer("INDEX_INTERVAL_SECONDS", in: 1...(86_400 * 31)) ?? 3600),
            federation: try FederationUpstream.read(reader)
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
        let counties = CountyCountsStore(pool: host.pool)
        let handler = IndexServiceHandler(
            months: PostgresMonthStore(pool: host.pool, outbox: outbox), actions: PostgresActionStore(pool: host.pool),
            thresholds: PostgresThresholdRuleStore(pool: host.pool), surveys: PostgresSurveyStore(pool: host.pool),
            counties: counties, verifier: verifier, peers: peers, catalogue: try bundledCatalogue(), now: now, logger: host.logger
        )
        var routes = ConnectRoutes()
        handler.register(into: &routes)
        IndexFederationHandler(store: counties, verifier: verifier, now: now).register(into: &routes)
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
        var federation: [any Service] = []
        if let upstream = settings.federation {
            let counts = CountyFactsRelay(
                client: upstream.client(transport: transport), credentials: ("X-Api-Key", upstream.key), peers: peers, store: counties, now: now
            )
            federation.append(PeriodicTask("county counts to the city", every: settings.interval, logger: logger) {
                let sent = try await counts.round()
                logger.info("sent the city this county's counts", metadata: ["months": "\(sent.map(\.description).joined(separator: ","))"])
            })
        }
        return host.application(routes: routes, services: relay + [scheduler] + federation, onServerRunning: onServerRunning)
    }

    /// The indicator catalogue shipped with the service (`Data/indicator-catalogue.json`).
    static func bundledCatalogue() throws -> IndicatorCatalogue {
        guard let url = Bundle.module.url(forResource: "indicator-catalogue", withExtension: "json") else {
            throw ConfigurationError(variable: "resources", problem: "indicator-catalogue.json is missing from the index-service bundle")
        }
        return try IndicatorCatalogue.parse(try Data(contentsOf: url))
    }
}
