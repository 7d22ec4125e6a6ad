import Logging
import PinganPostgres
import PinganTestSupport
import Testing

@Suite("migrations")
struct MigrationTests {
    let first = Migration(version: 1, name: "create notes", sql: "CREATE TABLE app.notes (id bigint PRIMARY KEY); CREATE INDEX notes_id ON app.notes (id);")
    let second = Migration(version: 2, name: "add body", sql: "ALTER TABLE app.notes ADD COLUMN body text")

    @Test func appliesOnceAndRecordsChecksums() async throws {
        try await TestDatabase.with { database in
            let pool = database.pool()
            let migrator = Migrator(schema: "app", migrations: [first, second])
            do { let got = try await migrator.isCurrent(pool); #expect(got == false) }
            do { let got = try await migrator.migrate(pool, logger: TestEnvironment.logger); #expect(got == [1, 2]) }
            do { let got = try await migrator.migrate(pool, logger: TestEnvironment.logger); #expect(got == []) }
            do { let got = try await migrator.isCurrent(pool); #expect(got) }
            try await pool.query("INSERT INTO app.notes (id, body) VALUES (1, 'x')")
            let stored = try await pool.query("SELECT checksum FROM app.schema_migrations WHERE version = 2")[0].decode(String.self, at: 0)
            #expect(stored == second.checksum)
            await pool.close()
        }
    }

    @Test func changedAppliedMigrationIsRefusedByName() async throws {
        try await TestDatabase.with { database in
            let pool = database.pool()
            try await Migrator(schema: "app", migrations: [first]).migrate(pool, logger: TestEnvironment.logger)
            let edited = Migration(version: 1, name: "create notes", sql: first.sql + " -- edited")
            let migrator = Migrator(schema: "app", migrations: [edited, second])
            await #expect { try await migrator.migrate(pool, logger: TestEnvironment.logger) } throws: { error in
                guard case .changedAfterApply(_, 1, "create notes") = error as? MigrationError else { return false }
                return "\(error)".contains("create notes")
            }
            // Nothing after the refused one was applied.
            let versions = try await pool.query("SELECT version FROM app.schema_migrations").map { try $0.decode(Int.self, at: 0) }
            #expect(versions == [1])
            do { let got = try await migrator.isCurrent(pool); #expect(got == false) }
            await pool.close()
        }
    }

    @Test func failingMigrationLeavesNoTrace() async throws {
        try await TestDatabase.with { database in
            let pool = database.pool()
            let broken = Migration(version: 2, name: "broken", sql: "CREATE TABLE app.half (id int); SELECT * FROM app.no_such_table;")
            await #expect(throws: PostgresError.self) {
                try await Migrator(schema: "app", migrations: [first, broken]).migrate(pool, logger: TestEnvironment.logger)
            }
            let half = try await pool.query("SELECT to_regclass('app.half') IS NULL")[0].decode(Bool.self, at: 0)
            #expect(half)
            let versions = try await pool.query("SELECT version FROM app.schema_migrations").map { try $0.decode(Int.self, at: 0) }
            #expect(versions == [1])
            await pool.close()
        }
    }

    @Test func concurrentStartsApplyEachMigrationOnce() async throws {
        try await TestDatabase.with { database in
            let migrator = Migrator(schema: "app", migrations: [first, second])
            let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        let pool = database.pool(maxConnections: 1)
                        defer { Task { await pool.close() } }
                        return try await migrator.migrate(pool, logger: TestEnvironment.logger)
                    }
                }
                return try await group.reduce(into: [Int]()) { $0 += $1 }
            }
            #expect(applied.sorted() == [1, 2])
        }
    }
}
