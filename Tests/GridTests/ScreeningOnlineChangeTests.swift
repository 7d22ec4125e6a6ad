import Foundation
import PinganRuntime
@testable import GridService
import PinganContracts
import PinganDomain
import PinganPostgres
import PinganTestSupport
import Testing

/// Changing the screening table at full size must not stop grid workers' screenings: an index
/// is built month by month `CONCURRENTLY`, and a nullable column without a default is a
/// catalogue change that rewrites nothing. The tests hold the DDL at a known point with an open
/// transaction (so "during" is a fact read from PostgreSQL, not a timing) and write meanwhile.
@Suite("grid-service schema changes while screenings flow")
struct ScreeningOnlineChangeTests {
    static let today = "2026-10-20"

    /// The two grids of ``SmallHistory`` and their workers, and a store to record with.
    struct Grids: Sendable {
        let store: PostgresGridStore
        let rows: [(grid: UUID, member: UUID)]
        let village: DivisionCode

        /// Records (or corrects) grid `index`'s screening of `day` as RecordScreening does.
        func record(_ index: Int, day: String, households: Int32, at now: Date) async throws {
            var request = Pingan_Grid_V1_RecordScreeningRequest()
            request.gridID = rows[index].grid.wire
            request.reporterMemberID = rows[index].member.wire
            request.day = day
            request.householdsVisited = households
            _ = try await store.record(try Screening(validating: request, now: now), village: village)
        }
    }

    static func grids(_ schema: GridSchema, _ clock: ManualClock) async throws -> Grids {
        let importer = schema.importer(clock)
        _ = try await importer.run(.grids, lines: ImportLines(text: try ndjson(SmallHistory.grids)), by: "user:zhang")
        _ = try await importer.run(.members, lines: ImportLines(text: try ndjson(SmallHistory.members)), by: "user:zhang")
        try await ScreeningPartitions(pool: schema.pool, retention: .default).ensure([Month(year: 2026, month: 10)])
        let rows = try await schema.pool.query(
            "SELECT g.id, m.id FROM grid.grids g JOIN grid.members m ON m.grid_id = g.id ORDER BY g.legacy_id"
        ).map { (try $0.decode(UUID.self, at: 0), try $0.decode(UUID.self, at: 1)) }
        return Grids(store: PostgresGridStore(pool: schema.pool, outbox: .init(schema: "grid")), rows: rows, village: try DivisionCode(validating: GridSchema.village))
    }

    /// A report in flight: a transaction that has written grid 0's screening of today and not
    /// committed, holding its locks until `body` returns.
    static func withOpenWrite<R>(_ schema: GridSchema, _ grids: Grids, _ body: () async throws -> R) async throws -> R {
        try await schema.pool.withConnection { open in
            try await open.query("BEGIN")
            try await open.query(
                "INSERT INTO grid.screenings (grid_id, day, village_code, reporter_member_id, households_visited, disputes_found, recorded_at) VALUES ($1, $2::date, $3, $4, 1, 0, now())",
                [grids.rows[0].grid, today, GridSchema.village, grids.rows[0].member]
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

    @Test func anIndexBuiltMonthByMonthConcurrentlyLetsScreeningsThrough() async throws {
        let clock = ManualClock(morningOf: Self.today)
        try await GridSchema.with(poolSize: 6) { schema in
            let grids = try await Self.grids(schema, clock)
            let partitions = ScreeningPartitions(pool: schema.pool, retention: .default)
            let build = try await Self.withOpenWrite(schema, grids) {
                let build = Task { try await partitions.addIndexConcurrently("screenings_recorded_at", on: ["recorded_at"]) }
                // The build has begun and waits for the report in flight.
                _ = try await waitForBackend(schema.pool, runningSQLLike: "CREATE INDEX CONCURRENTLY%", waiting: true)
                // Meanwhile grid workers record and correct their days: every write completes.
                for day in ["2026-10-14", "2026-10-15", "2026-10-16", "2026-10-17", "2026-10-18", "2026-10-19"] {
                    try await grids.record(0, day: day, households: 3, at: clock.now)
                    try await grids.record(1, day: day, households: 4, at: clock.now)
                    try await grids.record(1, day: day, households: 5, at: clock.now)
                }
                try await grids.record(1, day: Self.today, households: 6, at: clock.now)
                // ... and the build is still under way: they did not wait for it.
                let building = try await schema.pool.query(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'CREATE INDEX CONCURRENTLY%' AND state = 'active'"
                )
                #expect(try building[0].decode(Int.self, at: 0) == 1)
                return build
            }
            try await build.value
            #expect(try await schema.count("grid.screenings") == 14)
            // Every month has its index and the parent's is valid: the planner may use it.
            let parent = try await schema.pool.query("SELECT indisvalid FROM pg_index WHERE indexrelid = 'grid.screenings_recorded_at'::regclass")
            #expect(try parent[0].decode(Bool.self, at: 0) == true)
            let months = try await partitions.months().attached.count
            let children = try await schema.pool.query("SELECT count(*) FROM pg_inherits WHERE inhparent = 'grid.screenings_recorded_at'::regclass")
            #expect(try children[0].decode(Int.self, at: 0) == months)
            // A month made afterwards gets the index from the parent.
            try await partitions.ensure([Month(year: 2027, month: 6)])
            #expect(try await schema.pool.query("SELECT 1 FROM pg_indexes WHERE tablename = 'screenings_2027_06' AND indexdef LIKE '%(recorded_at)%'").count == 1)
            // Run again (as after an interruption), it finds nothing to do and breaks nothing.
            try await partitions.addIndexConcurrently("screenings_recorded_at", on: ["recorded_at"])
        }
    }

    /// The control: a plain `CREATE INDEX` in the same place holds screenings back, so the
    /// test above would have seen it.
    @Test func aPlainIndexBuildInTheSamePlaceWouldHoldScreeningsBack() async throws {
        let clock = ManualClock(morningOf: Self.today)
        try await GridSchema.with(poolSize: 6) { schema in
            let grids = try await Self.grids(schema, clock)
            let build = try await Self.withOpenWrite(schema, grids) {
                let build = Task { try await schema.pool.query("CREATE INDEX screenings_plain ON grid.screenings_2026_10 (recorded_at)") }
                _ = try await waitForBackend(schema.pool, runningSQLLike: "CREATE INDEX screenings_plain%", waiting: true)
                // A write now queues behind the build; lock_timeout turns "would wait" into an error.
                try await schema.pool.withConnection { writer in
                    try await writer.query("SET lock_timeout = '100ms'")
                    await #expect {
                        try await writer.query(
                            "INSERT INTO grid.screenings (grid_id, day, village_code, reporter_member_id, households_visited, disputes_found, recorded_at) VALUES ($1, '2026-10-19', $2, $3, 1, 0, now())",
                            [grids.rows[1].grid, GridSchema.village, grids.rows[1].member]
                        )
                    } throws: { error in (error as? PostgresError)?.sqlState?.rawValue == "55P03" }
                    try await writer.query("RESET lock_timeout")
                }
                return build
            }
            _ = try await build.value
        }
    }

    /// A test migration adding a nullable column, run while screenings are written: with a
    /// report in flight it gives up at its `lock_timeout` instead of queueing writers behind
    /// it; once that report commits it applies, and no month's table was rewritten.
    @Test func aMigrationAddingANullableColumnRunsWhileScreeningsFlow() async throws {
        let clock = ManualClock(morningOf: Self.today)
        try await GridSchema.with(poolSize: 8) { schema in
            let grids = try await Self.grids(schema, clock)
            let files = "SELECT c.relname, c.relfilenode::bigint FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'grid.screenings'::regclass ORDER BY 1"
            let before = try await schema.pool.query(files).map { "\(try $0.decode(String.self, at: 0)) \(try $0.decode(Int.self, at: 1))" }
            let migration = Migration(version: 1000, name: "test: a note per screening", sql: """
                SET LOCAL lock_timeout = '200ms';
                ALTER TABLE grid.screenings ADD COLUMN note text;
                """)
            let migrator = Migrator(schema: GridMigrations.schema, migrations: GridMigrations.all + [migration])
            try await Self.withOpenWrite(schema, grids) {
                await #expect { try await migrator.migrate(schema.pool, logger: TestEnvironment.logger) } throws: { error in
                    (error as? PostgresError)?.sqlState?.rawValue == "55P03"
                }
                // It gave up: writes go on, and it left nothing behind.
                try await grids.record(1, day: "2026-10-19", households: 2, at: clock.now)
            }
            // Writers keep recording while the migration runs; each waits for the one before it.
            let (started, starting) = AsyncStream<Void>.makeStream()
            let written = try await withThrowingTaskGroup(of: Int.self) { group in
                for writer in 0..<2 {
                    group.addTask {
                        var count = 0
                        for round in 0..<30 {
                            try await grids.record(writer, day: "2026-10-\(13 + round % 7)", households: Int32(round), at: clock.now)
                            count += 1
                            if round == 0 { starting.yield() }
                        }
                        return count
                    }
                }
                var iterator = started.makeAsyncIterator()
                _ = await iterator.next()
                _ = await iterator.next()
                // Both writers are under way.
                try await migrator.migrate(schema.pool, logger: TestEnvironment.logger)
                return try await group.reduce(0, +)
            }
            #expect(written == 60)
            let after = try await schema.pool.query(files).map { "\(try $0.decode(String.self, at: 0)) \(try $0.decode(Int.self, at: 1))" }
            #expect(after == before)
            let notes = try await schema.pool.query("SELECT count(*) FROM information_schema.columns WHERE table_schema = 'grid' AND column_name = 'note' AND table_name LIKE 'screenings%'")
            #expect(try notes[0].decode(Int.self, at: 0) == before.count + 1)
            try await grids.record(0, day: "2026-10-19", households: 1, at: clock.now)
        }
    }
}
