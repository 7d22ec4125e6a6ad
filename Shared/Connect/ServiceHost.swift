import Foundation
import Hummingbird
import Logging
import NIOCore
import PinganContracts
import PinganPostgres
import ServiceLifecycle
import Synchronization

/// Settings every service reads from its environment, with the defaults that run the mesh on
/// one machine.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `HOST` | `127.0.0.1` | address to listen on |
/// | `PORT` | the service's own | port to listen on (0 picks a free one) |
/// | `DATABASE_URL` | `postgresql://pingan@127.0.0.1:55432/pingan` | libpq URI |
/// | `DB_POOL_SIZE` | `8` | most PostgreSQL connections |
/// | `DB_ACQUIRE_TIMEOUT_MS` | `5000` | wait for a free connection |
/// | `MAX_BODY_BYTES` | `4194304` | largest request body accepted |
/// | `LOG_LEVEL` | `info` | swift-log level |
public struct ServiceConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var databaseURL: String
    public var poolSize: Int
    public var acquireTimeout: Duration
    public var maxBodyBytes: Int
    public var logLevel: Logger.Level

    public static let defaultDatabaseURL = "postgresql://pingan@127.0.0.1:55432/pingan"

    public init(
        host: String = "127.0.0.1", port: Int, databaseURL: String = defaultDatabaseURL, poolSize: Int = 8,
        acquireTimeout: Duration = .seconds(5), maxBodyBytes: Int = 4 << 20, logLevel: Logger.Level = .info
    ) {
        self.host = host
        self.port = port
        self.databaseURL = databaseURL
        self.poolSize = poolSize
        self.acquireTimeout = acquireTimeout
        self.maxBodyBytes = maxBodyBytes
        self.logLevel = logLevel
    }

    /// Reads the table above; a malformed value stops the service with a message naming it.
    public static func fromEnvironment(defaultPort: Int, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ServiceConfiguration {
        var configuration = ServiceConfiguration(port: defaultPort)
        let reader = EnvironmentReader(environment)
        configuration.host = reader.string("HOST") ?? configuration.host
        configuration.port = try reader.integer("PORT", in: 0...65535) ?? configuration.port
        configuration.databaseURL = reader.string("DATABASE_URL") ?? configuration.databaseURL
        configuration.poolSize = try reader.integer("DB_POOL_SIZE", in: 1...512) ?? configuration.poolSize
        configuration.acquireTimeout = try reader.integer("DB_ACQUIRE_TIMEOUT_MS", in: 1...600_000).map { .milliseconds($0) } ?? configuration.acquireTimeout
        configuration.maxBodyBytes = try reader.integer("MAX_BODY_BYTES", in: 1...(256 << 20)) ?? configuration.maxBodyBytes
        if let level = reader.string("LOG_LEVEL") {
            guard let parsed = Logger.Level(rawValue: level) else {
                throw ConfigurationError(variable: "LOG_LEVEL", problem: "\"\(level)\" is not a log level (trace, debug, info, notice, warning, error, critical)")
            }
            configuration.logLevel = parsed
        }
        return configuration
    }

    public var postgres: PostgresConfiguration {
        PostgresConfiguration(url: databaseURL, maxConnections: poolSize, acquireTimeout: acquireTimeout)
    }
}

/// A bad environment variable, named so the operator knows what to fix.
public struct ConfigurationError: Error, CustomStringConvertible {
    public let variable: String
    public let problem: String
    public init(variable: String, problem: String) {
        self.variable = variable
        self.problem = problem
    }
    public var description: String { "\(variable): \(problem)" }
}

/// Typed access to environment variables.
public struct EnvironmentReader: Sendable {
    let environment: [String: String]
    public init(_ environment: [String: String] = ProcessInfo.processInfo.environment) { self.environment = environment }

    public func string(_ name: String) -> String? {
        environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    public func integer(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let text = string(name) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw ConfigurationError(variable: name, problem: "\"\(text)\" is not an integer in \(range)")
        }
        return value
    }
}

/// Assembles one service's HTTP application: its Connect routes plus the health, readiness
/// and metrics endpoints, the PostgreSQL pool and its migrations, started and stopped together.
public struct ServiceHost: Sendable {
    public let name: String
    public let configuration: ServiceConfiguration
    public let pool: PostgresPool
    public let migrator: Migrator
    public let metrics: ServiceMetrics
    public let logger: Logger

    public init(name: String, configuration: ServiceConfiguration, migrator: Migrator) {
        var logger = Logger(label: name)
        logger.logLevel = configuration.logLevel
        self.name = name
        self.configuration = configuration
        self.migrator = migrator
        self.logger = logger
        pool = PostgresPool(configuration: configuration.postgres, logger: logger)
        metrics = ServiceMetrics(pool: pool)
    }

    /// Database reachable and every migration of this build applied.
    public func readiness() async -> Readiness {
        do {
            return try await migrator.isCurrent(pool) ? .ready : .notReady("migrations of schema \(migrator.schema) are not applied")
        } catch {
            return .notReady("database unreachable: \(error)")
        }
    }

    /// Builds the application. Migrations run before the server accepts connections, so a
    /// refused migration stops the service before it serves anything.
    ///
    /// - Parameters:
    ///   - routes: the service's own methods; `grpc.health.v1.Health/Check` is added here.
    ///   - services: long-lived parts (relays, consumers) to run beside the server.
    ///   - beforeServing: set-up that needs the migrated database, such as loading seed data.
    ///   - onServerRunning: called with the bound port, which tests use with port 0.
    public func application(
        routes: ConnectRoutes,
        services: [any Service] = [],
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
            routes: routes, maxBodyBytes: configuration.maxBodyBytes, metrics: metrics,
            readiness: { await host.readiness() }
        )
        let name = self.name
        let logger = self.logger
        let migrated = StartGate()
        var app = Application(
            responder: responder,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: name),
            services: [PoolLifecycle(pool: pool)] + services.map { AfterGate(gate: migrated, service: $0) },
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.notice("\(name) listening", metadata: ["address": "http://\(host.configuration.host):\(port)"])
                await onServerRunning(port)
            },
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

/// Closes the pool when the application shuts down.
struct PoolLifecycle: Service {
    let pool: PostgresPool
    func run() async throws {
        try? await gracefulShutdown()
        await pool.close()
    }
}

/// Opens once; services that need the migrated schema wait on it.
final class StartGate: Sendable {
    private let isOpen = Mutex(false)

    func open() { isOpen.withLock { $0 = true } }

    /// Returns when the gate opens, or early if the task is cancelled.
    func wait() async {
        while !isOpen.withLock({ $0 }), !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// Runs `service` only after `gate` opens: a relay must not poll an outbox table that the
/// migrations have not created yet.
struct AfterGate: Service {
    let gate: StartGate
    let service: any Service

    func run() async throws {
        await gate.wait()
        guard !Task.isCancelled else { return }
        try await service.run()
    }
}
