import Crypto
import Foundation
import Logging

/// One versioned schema change, shipped with the service that owns the schema.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }

    /// Has `tables` vacuumed after every thousand changed rows, not after a fifth of the table
    /// as PostgreSQL's default would: for the queues (outboxes, notify's deliveries), where each
    /// finished row leaves a dead entry in the index its claims read, and under a steady flow
    /// claims read thousands of them between vacuums. How soon the vacuum comes after that is
    /// `autovacuum_naptime` (docs/operating.md, PostgreSQL).
    public static func vacuumOften(version: Int, _ tables: String...) -> Migration {
        Migration(version: version, name: "vacuum the queues often", sql: tables.map { table in
            "ALTER TABLE \(table) SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000);\n"
        }.joined())
    }

    /// SHA-256 of the SQL text: an applied migration must never change.
    public var checksum: String {
        SHA256.hash(data: Data(sql.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

/// Why migrations were refused.
public enum MigrationError: Error, Sendable, CustomStringConvertible {
    /// A migration that was already applied has different SQL now.
    case changedAfterApply(schema: String, version: Int, name: String)
    /// The database has a migration this build does not know, so it is older than the data.
    case unknownApplied(schema: String, version: Int, name: String)
    /// Versions must be unique and ascending.
    case badOrder(schema: String, version: Int)

    public var description: String {
        switch self {
        case let .changedAfterApply(schema, version, name):
            "migration \(schema) #\(version) \"\(name)\" was already applied, and its SQL has changed since; "
                + "add a new migration instead of editing an applied one"
        case let .unknownApplied(schema, version, name):
            "the database has migration \(schema) #\(version) \"\(name)\", which this build does not know; "
                + "it is older than the schema it is pointed at"
        case let .badOrder(schema, version):
            "migrations for \(schema) must have unique ascending versions; #\(version) is out of order"
        }
    }
}

/// Applies a service's migrations to its own schema.
///
/// Runs under a PostgreSQL advisory lock, so replicas starting together apply each migration
/// exactly once; each migration and its bookkeeping row commit in one transaction.
public struct Migrator: Sendable {
    public let schema: String
    public let migrations: [Migration]

    public init(schema: String, migrations: [Migration]) {
        self.schema = schema
        self.migrations = migrations
    }

    private var table: String { "\(schema).schema_migrations" }

    /// Applies every migration not yet applied, after checking the applied ones are unchanged.
    /// - Returns: the versions applied by this call.
    @discardableResult
    public func migrate(_ pool: PostgresPool, logger: Logger) async throws -> [Int] {
        guard PostgresConnection.isPlainIdentifier(schema) else {
            throw PostgresError(.invalidIdentifier, "\"\(schema)\" is not a plain lower-case identifier")
        }
        var previous = Int.min
        for migration in migrations {
            guard migration.version > previous else { throw MigrationError.badOrder(schema: schema, version: migration.version) }
            previous = migration.version
        }
        return try await pool.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(hashtextextended($1, 0))", ["pingan.migrate.\(schema)"])
            do {
                let applied = try await applyPending(connection, logger: logger)
                try await connection.query("SELECT pg_advisory_unlock(hashtextextended($1, 0))", ["pingan.migrate.\(schema)"])
                return applied
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(hashtextextended($1, 0))", ["pingan.migrate.\(schema)"])
                throw error
            }
        }
    }

    /// True when every migration of this build is applied unchanged; `/readyz` asks this.
    public func isCurrent(_ pool: PostgresPool) async throws -> Bool {
        let exists = try await pool.query("SELECT to_regclass($1) IS NOT NULL", [table])[0].decode(Bool.self, at: 0)
        guard exists else { return false }
        let rows = try await pool.query("SELECT version, checksum FROM \(table)")
        let applied = try Dictionary(uniqueKeysWithValues: rows.map { (try $0.decode(Int.self, at: 0), try $0.decode(String.self, at: 1)) })
        return migrations.allSatisfy { applied[$0.version] == $0.checksum }
    }

    private func applyPending(_ connection: PostgresConnection, logger: Logger) async throws -> [Int] {
        try await connection.query("CREATE SCHEMA IF NOT EXISTS \(schema)")
        try await connection.query("""
            CREATE TABLE IF NOT EXISTS \(table) (
                version    integer PRIMARY KEY,
                name       text NOT NULL,
                checksum   text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
        let rows = try await connection.query("SELECT version, name, checksum FROM \(table) ORDER BY version")
        var appliedChecksums: [Int: String] = [:]
        for row in rows {
            let version = try row.decode(Int.self, at: 0)
            let name = try row.decode(String.self, at: 1)
            guard let known = migrations.first(where: { $0.version == version }) else {
                throw MigrationError.unknownApplied(schema: schema, version: version, name: name)
            }
            guard known.checksum == (try row.decode(String.self, at: 2)) else {
                throw MigrationError.changedAfterApply(schema: schema, version: version, name: known.name)
            }
            appliedChecksums[version] = known.checksum
        }
        var applied: [Int] = []
        for migration in migrations where appliedChecksums[migration.version] == nil {
            try await connection.transaction { transaction in
                try await transaction.runScript(migration.sql)
                try await transaction.query(
                    "INSERT INTO \(table) (version, name, checksum) VALUES ($1, $2, $3)",
                    [migration.version, migration.name, migration.checksum]
                )
            }
            logger.info("applied migration", metadata: ["schema": "\(schema)", "version": "\(migration.version)", "name": "\(migration.name)"])
            applied.append(migration.version)
        }
        return applied
    }
}
