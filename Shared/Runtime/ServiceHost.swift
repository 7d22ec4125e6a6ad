import Hummingbird
import HummingbirdHTTP2
import Logging
import NIOCore
import NIOPosix
import PinganConnect
import PinganContracts
import PinganPostgres
import ServiceLifecycle

/// Assembles one service's HTTP application: its Connect routes plus the health, readiness
/// and metrics endpoints, the PostgreSQL pool and its migrations, started and stopped together.
public struct ServiceHost: Sendable {
    public let name: String
    public let settings: ServiceSettings
    public let pool: PostgresPool
    public let migrator: Migrator
    public let metrics: ServiceMetrics
    public let logger: Logger

    /// The one thread that reads and writes every connection of the process's servers.
    ///
    /// A request's own work runs on Swift's concurrency threads; the event loop only parses
    /// and writes bytes, which one thread does for the whole mesh's load on a node of a few
    /// cores. One thread per core (NIO's default) handed each request between more threads:
    /// with one, the gateway spent 153–156 µs of CPU per forwarded `GetCase` against 171–199,
    /// and dispute-service 198–203 against 221–243 (docs/performance.md).
    static let eventLoops = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    public init(_ service: MeshService, settings: ServiceSettings, migrator: Migrator) {
        let name = service.executable
        var logger = Logger(label: name)
        logger.logLevel = settings.logLevel
        self.name = name
        self.settings = settings
        self.migrator = migrator
        self.logger = logger
        pool = PostgresPool(configuration: settings.postgres, logger: logger)
        metrics = ServiceMetrics(pool: pool)
    }

    /// Runs `body` on the migrated database and closes the pool, whether it throws or not: the
    /// service's commands (imports, accounts, a scan run once) work without serving.
    public func onMigratedDatabase<R>(_ body: (PostgresPool) async throws -> R) async throws -> R {
        do {
            try await migrator.migrate(pool, logger: logger)
            let result = try await body(pool)
            await pool.close()
            return result
        } catch {
            await pool.close()
            throw error
        }
    }

    /// Database reachable and every migration of this build applied. The answer says which
    /// of the two failed and nothing more (no host, user or driver text, which an outsider
    /// could learn from); the cause is logged.
    public func readiness() async -> Readiness {
        do {
            return try await migrator.isCurrent(pool) ? .ready : .notReady("migrations not applied")
        } catch {
            logger.warning("not ready: the database is unreachable", metadata: ["error": "\(error)"])
            return .notReady("database unreachable")
        }
    }

    /// Builds the application. Migrations run before the server accepts connections, so a
    /// refused migration stops the service before it serves anything.
    ///
    /// - Parameters:
    ///   - routes: the service's own methods; `grpc.health.v1.Health/Check` is added here.
    ///   - services: long-lived parts (relays, consumers) to run beside the server.
    ///   - beforeServing: set-up that needs the migrated database, such as loading seed data.
    ///   - trustedProxies: the proxies whose `X-Forwarded-For` names the client (the gateway's
    ///     `TRUSTED_PROXIES`); none by default, the services being reached by the mesh only.
    ///   - onServerRunning: called with the bound port, which tests use with port 0.
    public func application(
        routes: ConnectRoutes,
        services: [any Service] = [],
        pages: ServiceResponder.Pages? = nil,
        trustedProxies: TrustedProxies = TrustedProxies(),
        beforeServing: @escaping @Sendable () async throws -> Void = {},
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        var routes = routes
        let host = self
        routes.register(HealthMethods.check) { _, _ in
            var response = Grpc_Health_V1_HealthCheckResponse()
            response.status = await host.readiness() == .ready ? .serving : .notServing
            return response
        }
        let responder = ServiceResponder(
            connect: ConnectResponder(routes: routes, maxBodyBytes: settings.maxBodyBytes, observer: metrics),
            metrics: metrics, metricsToken: settings.metricsToken, pages: pages, trustedProxies: trustedProxies,
            readiness: { await host.readiness() }
        )
        let name = self.name
        let logger = self.logger
        let migrated = StartGate()
        // gRPC needs HTTP/2; gRPC clients connect with prior knowledge (no upgrade, no TLS
        // inside the mesh), so it has a port of its own, served by the same responder.
        let grpc = settings.grpcPort.map { port in
            Application(
                responder: responder,
                server: .grpc(configuration: .init(idleTimeout: .seconds(60))),
                configuration: .init(address: .hostname(settings.host, port: port), serverName: name),
                onServerRunning: { channel in
                    logger.notice("\(name) serving gRPC (h2c)", metadata: ["address": "http://\(host.settings.host):\(channel.localAddress?.port ?? 0)"])
                },
                eventLoopGroupProvider: .shared(Self.eventLoops),
                logger: logger
            )
        }
        var app = Application(
            responder: responder,
            // A connection that sends nothing for a minute is closed, so idle sockets cannot
            // pile up.
            server: .http1(configuration: .init(idleTimeout: .seconds(60))),
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: name),
            services: [PoolLifecycle(pool: pool)] + (services + (grpc.map { [$0] } ?? [])).map { AfterGate(gate: migrated, service: $0) },
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.notice("\(name) listening", metadata: ["address": "http://\(host.settings.host):\(port)"])
                await onServerRunning(port)
            },
            eventLoopGroupProvider: .shared(Self.eventLoops),
            logger: logger
        )
        app.beforeServerStarts {
            try await host.migrator.migrate(host.pool, logger: logger)
            migrated.open()
            try await beforeServing()
        }
        return app
    }
}
