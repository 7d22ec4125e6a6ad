import Logging
import PinganContracts
import PinganDomain
import PinganPostgres

/// Settings every executable of the mesh reads, with the defaults that run the mesh on one
/// machine: where it listens, its database, and (``mesh``) its peers and the mesh's secret.
/// An executable with settings of its own wraps this in its own type and reads both in one
/// place, its `init(_ reader:)`.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `HOST` | `127.0.0.1` | address to listen on |
/// | `PORT` | the service's own | port to listen on (0 picks a free one): HTTP/1.1 for Connect and gRPC-Web |
/// | `GRPC_PORT` | (none) | a second port, cleartext HTTP/2 (h2c, prior knowledge), for gRPC clients; the same methods |
/// | `DATABASE_URL` | `postgresql://pingan@127.0.0.1:55432/pingan` | libpq URI |
/// | `DB_POOL_SIZE` | `8` | most PostgreSQL connections |
/// | `DB_ACQUIRE_TIMEOUT_MS` | `5000` | wait for a free connection |
/// | `MAX_BODY_BYTES` | `4194304` | largest request body accepted |
/// | `LOG_LEVEL` | `info` | swift-log level |
/// | `METRICS_TOKEN` | (none) | bearer token a scraper on another host sends for `/metrics`; without it only loopback may read them |
public struct ServiceSettings: Sendable {
    public var host: String
    public var port: Int
    /// Where gRPC clients connect over cleartext HTTP/2; `nil` serves none.
    public var grpcPort: Int?
    public var databaseURL: String
    public var poolSize: Int
    public var acquireTimeout: Duration
    public var maxBodyBytes: Int
    public var logLevel: Logger.Level
    public var mesh: MeshSettings
    /// Lets a scraper elsewhere read `/metrics`; loopback always may.
    public var metricsToken: String?

    public static let defaultDatabaseURL = "postgresql://pingan@127.0.0.1:55432/pingan"

    public init(
        host: String = "127.0.0.1", port: Int, databaseURL: String = defaultDatabaseURL, poolSize: Int = 8,
        acquireTimeout: Duration = .seconds(5), maxBodyBytes: Int = 4 << 20, logLevel: Logger.Level = .info,
        mesh: MeshSettings
    ) {
        self.host = host
        self.port = port
        self.databaseURL = databaseURL
        self.poolSize = poolSize
        self.acquireTimeout = acquireTimeout
        self.maxBodyBytes = maxBodyBytes
        self.logLevel = logLevel
        self.mesh = mesh
    }

    /// Reads the table above; a malformed value stops the service with a message naming it.
    public init(_ reader: SettingsReader, for service: MeshService) throws(ConfigurationError) {
        self.init(port: service.defaultPort, mesh: try MeshSettings(reader))
        host = reader.string("HOST") ?? host
        port = try reader.integer("PORT", in: 0...65535) ?? port
        grpcPort = try reader.integer("GRPC_PORT", in: 0...65535)
        databaseURL = reader.string("DATABASE_URL", isSecret: true) ?? databaseURL
        poolSize = try reader.integer("DB_POOL_SIZE", in: 1...512) ?? poolSize
        acquireTimeout = try reader.integer("DB_ACQUIRE_TIMEOUT_MS", in: 1...600_000).map { .milliseconds($0) } ?? acquireTimeout
        maxBodyBytes = try reader.integer("MAX_BODY_BYTES", in: 1...(256 << 20)) ?? maxBodyBytes
        if reader.string("METRICS_TOKEN", isSecret: true) != nil {
            metricsToken = try reader.secret("METRICS_TOKEN", minimumBytes: 16, purpose: "lets a scraper on another host read /metrics")
        }
        if let level = reader.string("LOG_LEVEL") {
            guard let parsed = Logger.Level(rawValue: level) else {
                throw ConfigurationError(variable: "LOG_LEVEL", problem: "\"\(level)\" is not a log level (trace, debug, info, notice, warning, error, critical)")
            }
            logLevel = parsed
        }
    }

    public var postgres: PostgresConfiguration {
        PostgresConfiguration(url: databaseURL, maxConnections: poolSize, acquireTimeout: acquireTimeout)
    }
}
