import Foundation
@testable import GatewayService
import PinganDomain
import PinganPostgres
import PinganRuntime
import PinganTestSupport
import Testing

/// The access log grows by a row per call: `gateway.access_log` is partitioned by month of
/// China time, months are made ahead, months past the retention are dropped whole, and the
/// table can be indexed or given a column at full size while the log keeps being written.
@Suite("gateway access log partitions")
struct AccessLogPartitionTests {
    /// A migrated gateway schema on a fresh database.
    static func withSchema(poolSize: Int = 4, migrations: [Migration] = GatewayMigrations.all, _ body: (PostgresPool) async throws -> Void) async throws {
        try await TestDatabase.with { database in
            let pool = database.pool(maxConnections: poolSize)
            do {
                try await Migrator(schema: GatewayMigrations.schema, migrations: migrations).migrate(pool, logger: TestEnvironment.logger)
                try await body(pool)
                await pool.close()
            } catch {
                await pool.close()
                throw error
            }
        }
    }

    /// Writes one row of the log at `at` (text PostgreSQL reads as a `timestamptz`).
    static func insert(_ pool: PostgresPool, at: String, method: String = "/test.v1.Test/Call") async throws {
        try await pool.query(
            "INSERT INTO gateway.access_log (at, subject, centre_code, method, record_ids, outcome, rule, peer, duration_ms) VALUES ($1::timestamptz, 'user:zhang', '430723000000', $2, '', 'ok', 'test', '', 1)",
            [at, method]
        )
    }

    /// The partitions holding the rows of `method`, one per row, in the order written.
    static func partitions(_ pool: PostgresPool, method: String) async throws -> [String] {
        try await pool.query("SELECT tableoid::regclass::text FROM gateway.access_log WHERE method = $1 ORDER BY id", [method]).map { try $0.decode(String.self, at: 0) }
    }

    static func count(_ pool: PostgresPool) async throws -> Int {
        try await pool.query("SELECT count(*) FROM gateway.access_log")[0].decode(Int.self, at: 0)
    }

    @Test func rowsLandInTheirMonthsPartitionByChinaTime() async throws {
        try await Self.withSchema { pool in
            // What the gateway writes (COPY of buffered entries, stamped now) lands in this month.
            let log = AccessLog(pool: pool, logger: TestEnvironment.logger, spool: try AccessSpool.fresh())
            log.record("/test.v1.Test/Now", subject: "user:zhang", centre: "430723000000", error: nil, rule: "test", peer: nil, started: .now)
            log.record("/test.v1.Test/Now", subject: "user:li", centre: "430723000000", error: nil, rule: "test", peer: nil, started: .now)
            await log.flush()
            let current = "gateway.access_log_" + String(format: "%04d_%02d", Month(containing: Date()).year, Month(containing: Date()).month)
            #expect(try await Self.partitions(pool, method: "/test.v1.Test/Now") == [current, current])

            // Months end at midnight China time, not UTC: 16:00 UTC on 30 November is 1 December.
            let partitions = AccessLogPartitions(pool: pool, retention: .default)
            try await partitions.table.ensure([Month(year: 2026, month: 11), Month(year: 2026, month: 12)])
            try await Self.insert(pool, at: "2026-11-30 15:59:59.999+00", method: "/test.v1.Test/Edge")
            try await Self.insert(pool, at: "2026-11-30 16:00:00+00", method: "/test.v1.Test/Edge")
            try await Self.insert(pool, at: "2026-11-30 23:00:00+08", method: "/test.v1.Test/Edge")
            #expect(try await Self.partitions(pool, method: "/test.v1.Test/Edge") == [
                "gateway.access_log_2026_11", "gateway.access_log_2026_12", "gateway.access_log_2026_11",
            ])
            // No default partition: a time with no month made is refused, not stored somewhere.
            await #expect(throws: PostgresError.self) { try await Self.insert(pool, at: "2041-01-01 00:00:00+08") }
            // The parent keeps the table's indexes, and every month has them.
            let indexes = try await pool.query(
                "SELECT indexname FROM pg_indexes WHERE schemaname = 'gateway' AND tablename = 'access_log_2026_11' ORDER BY indexdef"
            ).count
            #expect(indexes == 3)
        }
    }

    @Test func upkeepMakesMonthsAheadAndDropsOnlyMonthsPastTheRetention() async throws {
        let clock = ManualClock(morningOf: "2026-01-20")
        try await Self.withSchema { pool in
            let partitions = AccessLogPartitions(pool: pool, retention: AccessLogRetention(days: 90))
            let months = ["2025-06", "2025-07", "2025-08", "2025-09", "2025-10", "2025-11", "2025-12", "2026-01"]
            try await partitions.table.ensure(Set(months.compactMap { Month(parsing: $0) }))
            for month in months { try await Self.insert(pool, at: "\(month)-15 12:00:00+08") }

            let first = try await partitions.upkeep(now: clock.now)
            // 90 days before 20 January is 22 October: September and earlier ended before it.
            // October stays whole, though its row of the 15th is older than 90 days.
            #expect(first.dropped.map(\.description) == ["2025-06", "2025-07", "2025-08", "2025-09"])
            #expect(first.created.map(\.description) == ["2026-02", "2026-03"])
            let kept = try await pool.query("SELECT to_char(at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM') FROM gateway.access_log ORDER BY at").map { try $0.decode(String.self, at: 0) }
            #expect(kept == ["2025-10", "2025-11", "2025-12", "2026-01"])
            // Months the migration made on the real date are later, and untouched.
            #expect(try await partitions.table.months().attached.allSatisfy { $0.index >= Month(year: 2025, month: 10).index })
            let leftover = try await pool.query("SELECT count(*) FROM pg_class WHERE relname LIKE 'access_log_2025_0%' AND relnamespace = 'gateway'::regnamespace")
            #expect(try leftover[0].decode(Int.self, at: 0) == 0)
            #expect(try await partitions.upkeep(now: clock.now) == PartitionUpkeep())

            // October goes at the first instant 90 days after its end (30 January, 00:00 China
            // time), not a second earlier.
            clock.set(morningOf: "2026-01-29")
            clock.advance(by: 15 * 3600 - 1)
            #expect(try await partitions.upkeep(now: clock.now).dropped.isEmpty)
            clock.advance(by: 1)
            let next = try await partitions.upkeep(now: clock.now)
            #expect(next.dropped.map(\.description) == ["2025-10"])
            #expect(try await Self.count(pool) == 3)
            // A month later the months ahead follow: April is made on the 1st of February.
            clock.set(morningOf: "2026-02-01")
            #expect(try await partitions.upkeep(now: clock.now).created.map(\.description) == ["2026-04"])
        }
    }

    @Test func theRetentionIsASettingWithTheLawsSixMonthsAsItsFloor() throws {
        let base = ["MESH_SECRET": TestMesh.secret, "TOKEN_SECRET": TestMesh.tokenSecret]
        #expect(try GatewaySettings(SettingsReader(base)).accessLogRetention == AccessLogRetention(days: 180))
        var longer = base
        longer["ACCESS_LOG_RETENTION_DAYS"] = "400"
        #expect(try GatewaySettings(SettingsReader(longer)).accessLogRetention.days == 400)
        expectRefused("ACCESS_LOG_RETENTION_DAYS", ["30", "179", "3651"], over: base) { try GatewaySettings($0) }
    }

    @Test func theMigrationMovesTheLogWrittenBeforeIt() async throws {
        try await Self.withSchema(migrations: GatewayMigrations.all.filter { $0.version < 6 }) { pool in
            for at in ["2026-09-10 08:00:00+08", "2026-10-31 15:59:59+00", "2026-10-31 16:30:00+00"] {
                try await Self.insert(pool, at: at)
            }
            let before = try await pool.query("SELECT id FROM gateway.access_log ORDER BY id").map { try $0.decode(Int.self, at: 0) }
            try await GatewayMigrations.migrator.migrate(pool, logger: TestEnvironment.logger)

            let partitioned = try await pool.query("SELECT relkind::text FROM pg_class WHERE oid = 'gateway.access_log'::regclass")[0]
            #expect(try partitioned.decode(String.self, at: 0) == "p")
            #expect(try await Self.partitions(pool, method: "/test.v1.Test/Call") == [
                "gateway.access_log_2026_09", "gateway.access_log_2026_10", "gateway.access_log_2026_11",
            ])
            // The same ids, and the sequence goes on after them.
            #expect(try await pool.query("SELECT id FROM gateway.access_log ORDER BY id").map { try $0.decode(Int.self, at: 0) } == before)
            try await Self.insert(pool, at: "2026-10-01 00:00:00+08", method: "/test.v1.Test/After")
            let next = try await pool.query("SELECT id FROM gateway.access_log WHERE method = '/test.v1.Test/After'")[0].decode(Int.self, at: 0)
            #expect(next > (before.max() ?? 0))
            // Every month from the first stored one to two months after today, none missing.
            let months = try await AccessLogPartitions(pool: pool, retention: .default).table.months().attached
            let current = Month(containing: Date())
            #expect(months.first == Month(year: 2026, month: 9) && months.last == current.adding(months: 2))
            #expect(months.count == current.adding(months: 2).index - Month(year: 2026, month: 9).index + 1)
            let indexes = try await pool.query(
                "SELECT indexname FROM pg_indexes WHERE schemaname = 'gateway' AND tablename = 'access_log' ORDER BY indexname"
            ).map { try $0.decode(String.self, at: 0) }
            #expect(indexes == ["access_log_at", "access_log_pkey", "access_log_subject"])
        }
    }

    /// A call's entry in flight: a transaction that has written a row of the log and not
    /// committed, holding its locks until `body` returns.
    static func withOpenWrite<R>(_ pool: PostgresPool, _ body: () async throws -> R) async throws -> R {
        try await pool.withConnection { open in
            try await open.query("BEGIN")
            try await open.query(
                "INSERT INTO gateway.access_log (at, subject, centre_code, method, record_ids, outcome, rule, peer, duration_ms) VALUES (now(), '', '', '/test.v1.Test/Open', '', 'ok', 'test', '', 1)"
            )
            do {
                let result = try await body()
                try await open.query("COMMIT")
                return result
            } catch {
                _ = try? await open.query("ROLLBACK")
                throw error
            }
        }
    }

    /// Indexing the log at full size: each month's index is built `CONCURRENTLY`, and while
    /// the build waits for a write in flight (a fact read from PostgreSQL, not a timing) the
    /// gateway's flushes go through.
    @Test func anIndexBuiltMonthByMonthLetsTheLogBeWritten() async throws {
        try await Self.withSchema(poolSize: 6) { pool in
            let partitions = AccessLogPartitions(pool: pool, retention: .default)
            let log = AccessLog(pool: pool, logger: TestEnvironment.logger, spool: try AccessSpool.fresh())
            let build = try await Self.withOpenWrite(pool) {
                let build = Task { try await partitions.table.addIndexConcurrently("access_log_method", on: ["method", "at"]) }
                _ = try await waitForBackend(pool, runningSQLLike: "CREATE INDEX CONCURRENTLY%", waiting: true)
                for round in 0..<5 {
                    log.record("/test.v1.Test/During", subject: "user:\(round)", centre: "430723000000", error: nil, rule: "test", peer: nil, started: .now)
                    await log.flush()
                }
                // Every entry is written (a failed flush would keep them buffered, not here) ...
                #expect(try await Self.partitions(pool, method: "/test.v1.Test/During").count == 5)
                // ... and the build is still under way: they did not wait for it.
                let building = try await pool.query(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'CREATE INDEX CONCURRENTLY%' AND state = 'active'"
                )
                #expect(try building[0].decode(Int.self, at: 0) == 1)
                return build
            }
            try await build.value
            let parent = try await pool.query("SELECT indisvalid FROM pg_index WHERE indexrelid = 'gateway.access_log_method'::regclass")
            #expect(try parent[0].decode(Bool.self, at: 0) == true)
            let children = try await pool.query("SELECT count(*) FROM pg_inherits WHERE inhparent = 'gateway.access_log_method'::regclass")
            let months = try await partitions.table.months().attached.count
            #expect(months >= 3)
            #expect(try children[0].decode(Int.self, at: 0) == months)
        }
    }

    /// A migration adding a nullable column while the log is written: with a write in flight
    /// it gives up at its `lock_timeout` instead of queueing the log's writes behind it; once
    /// that write commits it applies, and no month's table was rewritten.
    @Test func aMigrationAddingANullableColumnGivesUpRatherThanHoldTheLogBack() async throws {
        try await Self.withSchema(poolSize: 6) { pool in
            let files = "SELECT c.relname, c.relfilenode::bigint FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'gateway.access_log'::regclass ORDER BY 1"
            let before = try await pool.query(files).map { "\(try $0.decode(String.self, at: 0)) \(try $0.decode(Int.self, at: 1))" }
            let migration = Migration(version: 1000, name: "test: a note per call", sql: """
                SET LOCAL lock_timeout = '200ms';
                ALTER TABLE gateway.access_log ADD COLUMN note text;
                """)
            let migrator = Migrator(schema: GatewayMigrations.schema, migrations: GatewayMigrations.all + [migration])
            let log = AccessLog(pool: pool, logger: TestEnvironment.logger, spool: try AccessSpool.fresh())
            try await Self.withOpenWrite(pool) { () async throws -> Void in
                await #expect { try await migrator.migrate(pool, logger: TestEnvironment.logger) } throws: { error in
                    (error as? PostgresError)?.sqlState?.rawValue == "55P03"
                }
                log.record("/test.v1.Test/During", subject: "user:zhang", centre: "430723000000", error: nil, rule: "test", peer: nil, started: .now)
                await log.flush()
                #expect(try await Self.partitions(pool, method: "/test.v1.Test/During").count == 1)
            }
            try await migrator.migrate(pool, logger: TestEnvironment.logger)
            let after = try await pool.query(files).map { "\(try $0.decode(String.self, at: 0)) \(try $0.decode(Int.self, at: 1))" }
            #expect(after == before)
            log.record("/test.v1.Test/After", subject: "user:zhang", centre: "430723000000", error: nil, rule: "test", peer: nil, started: .now)
            await log.flush()
            #expect(try await Self.partitions(pool, method: "/test.v1.Test/After").count == 1)
        }
    }
}
