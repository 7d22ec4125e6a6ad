import Foundation
import PinganRuntime
@testable import GridService
import PinganDomain
import PinganPostgres
import PinganTestSupport

/// grid-service's schema on a fresh database, with the real divisions and two generated
/// villages, for tests that drive the importer and the partitions without HTTP.
struct GridSchema {
    static let village = "430724001201", sibling = "430724001202", township = "430724001000"

    let database: TestDatabase
    let pool: PostgresPool

    /// Runs `body` on a migrated schema; `migrations` lets a test stop short of the latest.
    static func with<R>(
        migrations: [Migration] = GridMigrations.all, poolSize: Int = 4, _ body: (GridSchema) async throws -> R
    ) async throws -> R {
        try await TestDatabase.with { database in
            let pool = database.pool(maxConnections: poolSize)
            do {
                try await Migrator(schema: GridMigrations.schema, migrations: migrations).migrate(pool, logger: TestEnvironment.logger)
                let divisions = PostgresDivisionStore(pool: pool)
                _ = try await divisions.importDivisions(try DivisionCSV(parsing: try GridApp.bundledDivisionsCSV()))
                _ = try await divisions.importDivisions(try DivisionCSV(parsing: """
                    code,name,level,parent_code
                    \(village),安福一村（生成）,village,\(township)
                    \(sibling),安福二村（生成）,village,\(township)
                    """))
                let result = try await body(GridSchema(database: database, pool: pool))
                await pool.close()
                return result
            } catch {
                await pool.close()
                throw error
            }
        }
    }

    func importer(_ clock: ManualClock, retention: ScreeningRetention = .default, batchSize: Int = 5000) -> GridImporter {
        GridImporter(pool: pool, retention: retention, batchSize: batchSize, now: { clock.now })
    }

    func count(_ table: String) async throws -> Int {
        try await pool.query("SELECT count(*) FROM \(table)")[0].decode(Int.self, at: 0)
    }

    /// Every row of `table` as text, in a stable order: two snapshots are equal only if
    /// nothing was added, removed or changed.
    func snapshot(_ table: String) async throws -> [String] {
        try await pool.query("SELECT t::text FROM \(table) t ORDER BY t::text").map { try $0.decode(String.self, at: 0) }
    }
}

/// NDJSON lines for the importer, from dictionaries (keys sorted, so a file reads the same
/// each run).
func ndjson(_ records: [[String: Any]]) throws -> String {
    try records.map { String(decoding: try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]), as: UTF8.self) }
        .joined(separator: "\n") + "\n"
}

/// A small history: two grids in one village, a worker each, and their screening of 3 days.
enum SmallHistory {
    static let grids = [
        ["legacy_id": "G-1", "village_code": GridSchema.village, "name": "安福一村第一网格", "created_at": "2025-03-01T08:00:00+08:00"],
        ["legacy_id": "G-2", "village_code": GridSchema.village, "name": "安福一村第二网格", "created_at": "2025-03-02T08:00:00+08:00"],
    ]
    static let members = [
        ["legacy_id": "M-1", "grid_legacy_id": "G-1", "name": "王某", "role": "grid_worker", "created_at": "2025-03-01T09:00:00+08:00"],
        ["legacy_id": "M-2", "grid_legacy_id": "G-2", "name": "李某", "role": "grid_worker", "created_at": "2025-03-02T09:00:00+08:00"],
    ]
    static var screenings: [[String: Any]] {
        (1...3).flatMap { day in
            (1...2).map { grid -> [String: Any] in
                ["legacy_id": "S-\(grid)-\(day)", "grid_legacy_id": "G-\(grid)", "reporter_legacy_id": "M-\(grid)",
                 "day": "2025-10-0\(day)", "households_visited": 10 + day, "disputes_found": day == 2 ? 1 : 0,
                 "recorded_at": "2025-10-0\(day)T18:30:00+08:00"]
            }
        }
    }
}
