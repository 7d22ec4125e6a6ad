import Foundation
import Logging
import PinganPostgres

/// The PostgreSQL the tests run against, from `deploy/scripts/test.sh`.
public enum TestEnvironment {
    /// `PINGAN_TEST_DATABASE_URL`: a superuser connection to the test cluster.
    public static var databaseURL: String {
        get throws { try variable("PINGAN_TEST_DATABASE_URL") }
    }

    public static func variable(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            throw TestSetupError("\(name) is not set; run the tests with deploy/scripts/test.sh, which starts PostgreSQL")
        }
        return value
    }

    public static var logger: Logger {
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        return logger
    }
}

public struct TestSetupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A database created for one test and dropped after it, so tests run in parallel without
/// seeing each other's rows.
public struct TestDatabase: Sendable {
    public let name: String
    public let url: String
    let adminURL: String

    /// Creates a fresh, empty database on the cluster behind `adminURL`.
    public static func create(adminURL: String? = nil) async throws -> TestDatabase {
        let admin = try adminURL ?? TestEnvironment.databaseURL
        let name = "test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let pool = PostgresPool(configuration: .init(url: admin, maxConnections: 1), logger: TestEnvironment.logger)
        defer { Task { await pool.close() } }
        try await pool.query("CREATE DATABASE \(name)")
        guard let slash = admin.lastIndex(of: "/") else { throw TestSetupError("cannot parse \(admin)") }
        return TestDatabase(name: name, url: String(admin[..<slash]) + "/" + name, adminURL: admin)
    }

    public func drop() async {
        let pool = PostgresPool(configuration: .init(url: adminURL, maxConnections: 1), logger: TestEnvironment.logger)
        _ = try? await pool.query("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        await pool.close()
    }

    /// Runs `body` with a fresh database and drops it afterwards, even if `body` throws.
    public static func with<R>(adminURL: String? = nil, _ body: (TestDatabase) async throws -> R) async throws -> R {
        let database = try await create(adminURL: adminURL)
        do {
            let result = try await body(database)
            await database.drop()
            return result
        } catch {
            await database.drop()
            throw error
        }
    }

    /// A pool on this database.
    public func pool(maxConnections: Int = 4, acquireTimeout: Duration = .seconds(5), replanFirstAfter: Duration = .seconds(5)) -> PostgresPool {
        PostgresPool(
            configuration: .init(url: url, maxConnections: maxConnections, acquireTimeout: acquireTimeout, replanFirstAfter: replanFirstAfter),
            logger: TestEnvironment.logger
        )
    }
}
