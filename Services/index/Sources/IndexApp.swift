import Foundation
import Hummingbird
import Logging
import PinganAccess
import PinganConnect
import ServiceLifecycle

/// Assembles index-service: schema `index`, `pingan.index.v1.IndexService`, and the
/// scheduler that recomputes the current month's index (`INDEX_INTERVAL_SECONDS`, default
/// 3600) so it is generated automatically every month without anyone asking.
public enum IndexApp {
    public static let name = "index-service"

    public static func build(
        configuration: ServiceConfiguration, mesh: MeshConfiguration, interval: Duration = .seconds(3600),
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let host = ServiceHost(name: name, configuration: configuration, migrator: IndexMigrations.migrator)
        let jurisdiction = try Jurisdiction(meshSecret: mesh.meshSecret)
        let transport = CurlTransport()
        let peers = IndexPeers(
            grid: ConnectClient(baseURL: mesh.url(.grid), transport: transport),
            dispute: ConnectClient(baseURL: mesh.url(.dispute), transport: transport),
            risk: ConnectClient(baseURL: mesh.url(.risk), transport: transport),
            jurisdiction: jurisdiction, root: mesh.root
        )
        let handler = IndexServiceHandler(pool: host.pool, jurisdiction: jurisdiction, peers: peers)
        var routes = ConnectRoutes()
        handler.register(into: &routes)
        let scheduler = MonthlyScheduler(handler: handler, interval: interval, logger: host.logger)
        return host.application(routes: routes, services: [scheduler], onServerRunning: onServerRunning)
    }
}

/// Recomputes the current month on an interval; a failed round (a peer down) is logged and
/// tried again next round.
struct MonthlyScheduler: Service {
    let handler: IndexServiceHandler
    let interval: Duration
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard !Task.isCancelled else { return }
                let month = Month(containing: Date())
                do {
                    let scored = try await handler.compute(month, trace: nil)
                    logger.info("computed the governance index", metadata: ["month": "\(month)", "divisions": "\(scored)"])
                } catch {
                    logger.warning("could not compute the governance index", metadata: ["month": "\(month)", "error": "\(error)"])
                }
            }
        }
    }
}
