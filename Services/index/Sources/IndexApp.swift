import Foundation
import Hummingbird
import Logging
import PinganAccess
import PinganDomain
import PinganConnect
import PinganContracts
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

/// Assembles index-service: schema `index`, `pingan.index.v1.IndexService`, and the
/// scheduler that recomputes the current month's index so it is generated automatically
/// every month without anyone asking.
public enum IndexApp {
    public static func build(
        settings: IndexSettings, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let mesh = settings.service.mesh
        let host = ServiceHost(.index, settings: settings.service, migrator: IndexMigrations.migrator)
        let verifier = try PrincipalVerifier(meshSecret: mesh.meshSecret)
        let transport = CurlTransport()
        let peers = IndexPeers(
            grid: ConnectClient(baseURL: mesh.url(.grid), transport: transport),
            dispute: ConnectClient(baseURL: mesh.url(.dispute), transport: transport),
            risk: ConnectClient(baseURL: mesh.url(.risk), transport: transport),
            verifier: verifier, root: mesh.root
        )
        let handler = IndexServiceHandler(store: PostgresIndexStore(pool: host.pool), verifier: verifier, peers: peers)
        var routes = ConnectRoutes()
        handler.register(into: &routes)
        // The index is generated every month without anyone asking: the current month is
        // recomputed on an interval.
        let logger = host.logger
        let scheduler = PeriodicTask("governance index", every: settings.interval, logger: logger) {
            let month = Month(containing: Date())
            let scored = try await handler.compute(month, trace: nil)
            logger.info("computed the governance index", metadata: ["month": "\(month)", "divisions": "\(scored)"])
        }
        return host.application(routes: routes, services: [scheduler], onServerRunning: onServerRunning)
    }
}
