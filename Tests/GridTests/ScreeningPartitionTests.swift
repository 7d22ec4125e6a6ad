import Foundation
import PinganRuntime
@testable import GridService
import PinganContracts
import PinganDomain
import PinganPostgres
import PinganTestSupport
import Testing

/// Daily screening grows by a row per grid and day: `grid.screenings` is partitioned by month,
/// months are made ahead, and months older than the retention policy are dropped.
@Suite("grid-service screening partitions")
struct ScreeningPartitionTests {
    /// A screening history of one grid, one day in each of `months`.
    static func history(months: [String]) throws -> String {
        try ndjson(months.map { month -> [String: Any] in
            ["legacy_id": "S-\(month)", "grid_legacy_id": "G-1", "reporter_legacy_id": "M-1", "day": "\(month)-15",
             "households_visited": 5, "disputes_found": 0, "recorded_at": "\(month)-15T18:00:00+08:00"]
        })
    }

    static func partitionOf(_ schema: GridSchema, day: String) async throws -> [String] {
        try await schema.pool.query("SELECT tableoid::regclass::text FROM grid.screenings WHERE day = $1::date", [day]).map { try $0.decode(String.self, at: 0) }
    }

    @Test func rowsLandInTheirMonthsPartitionWhetherRecordedOrImported() async throws {
        let clock = ManualClock(morningOf: "2026-10-20")
        try await GridSchema.with { schema in
            let importer = schema.importer(clock)
            _ = try await importer.run(.grids, lines: ImportLines(text: try ndjson(SmallHistory.grids)), by: "user:zhang")
            _ = try await importer.run(.members, lines: ImportLines(text: try ndjson(SmallHistory.members)), by: "user:zhang")
            let partitions = ScreeningPartitions(pool: schema.pool, retention: .default)
            _ = try await partitions.upkeep(now: clock.now)
            // This month and two ahead, whatever the migration (run on the real date) made.
            #expect(Set(try await partitions.months().attached.map(\.description)).isSuperset(of: ["2026-10", "2026-11", "2026-12"]))
            #expect(try await partitions.upkeep(now: clock.now) == PartitionUpkeep())

            // Imported history makes the months it needs.
            let imported = try await importer.run(.screening, lines: ImportLines(text: try Self.history(months: ["2025-01", "2026-03"])), by: "user:zhang")
            #expect(imported.imported == 2)
            #expect(try await Self.partitionOf(schema, day: "2025-01-15") == ["grid.screenings_2025_01"])
            #expect(try await Self.partitionOf(schema, day: "2026-03-15") == ["grid.screenings_2026_03"])

            // A grid worker's screening of today, through the store RecordScreening uses.
            let store = PostgresGridStore(pool: schema.pool, outbox: .init(schema: "grid"))
            let grid = try await schema.pool.query("SELECT g.id, m.id FROM grid.grids g JOIN grid.members m ON m.grid_id = g.id WHERE g.legacy_id = 'G-1'")[0]
            var request = Pingan_Grid_V1_RecordScreeningRequest()
            request.gridID = try grid.decode(UUID.self, at: 0).wire
            request.reporterMemberID = try grid.decode(UUID.self, at: 1).wire
            request.day = "2026-10-20"
            request.householdsVisited = 9
            #expect(try await store.record(try Screening(validating: request, now: clock.now), village: try DivisionCode(validating: GridSchema.village)) == false)
            #expect(try await Self.partitionOf(schema, day: "2026-10-20") == ["grid.screenings_2026_10"])
            // The upsert a correction makes still finds its row across the partitioned table.
            request.disputesFound = 2
            #expect(try await store.record(try Screening(validating: request, now: clock.now), village: try DivisionCode(validating: GridSchema.village)) == true)
            // A day outside every partition's range cannot be stored at all (no default partition).
            await #expect(throws: PostgresError.self) {
                try await schema.pool.query(
                    "INSERT INTO grid.screenings SELECT grid_id, '2031-01-01', village_code, reporter_member_id, 1, 0, now() FROM grid.screenings LIMIT 1"
                )
            }
        }
    }

    @Test func upkeepMakesMonthsAheadAndDropsOnlyMonthsOlderThanThePolicy() async throws {
        let clock = ManualClock(morningOf: "2026-01-20")
        try await GridSchema.with { schema in
            let everything = schema.importer(clock, retention: .forever)
            _ = try await everything.run(.grids, lines: ImportLines(text: try ndjson(SmallHistory.grids)), by: "user:zhang")
            _ = try await everything.run(.members, lines: ImportLines(text: try ndjson(SmallHistory.members)), by: "user:zhang")
            let months = ["2025-06", "2025-07", "2025-08", "2025-09", "2025-10", "2025-11", "2025-12", "2026-01"]
            #expect(try await everything.run(.screening, lines: ImportLines(text: try Self.history(months: months)), by: "user:zhang").imported == 8)

            let partitions = ScreeningPartitions(pool: schema.pool, retention: ScreeningRetention(months: 3))
            let first = try await partitions.upkeep(now: clock.now)
            // Keeps the current month and the three before it; the migration (run on the real
            // date) made whatever else exists, so only what upkeep itself did is compared.
            #expect(first.dropped.map(\.description) == ["2025-06", "2025-07", "2025-08", "2025-09"])
            #expect(Set(try await partitions.months().attached.map(\.description)).isSuperset(of: ["2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03"]))
            #expect(try await partitions.months().attached.allSatisfy { $0.index >= Month(year: 2025, month: 10).index })
            let kept = try await schema.pool.query("SELECT to_char(day, 'YYYY-MM') FROM grid.screenings ORDER BY day").map { try $0.decode(String.self, at: 0) }
            #expect(kept == ["2025-10", "2025-11", "2025-12", "2026-01"])
            // No table of a dropped month is left behind, detached or not.
            let leftover = try await schema.pool.query("SELECT count(*) FROM pg_class WHERE relname = 'screenings_2025_09' AND relnamespace = 'grid'::regnamespace")
            #expect(try leftover[0].decode(Int.self, at: 0) == 0)

            // Nothing more is due the same month; on the 1st of February, October goes.
            #expect(try await partitions.upkeep(now: clock.now).dropped.isEmpty)
            clock.set(morningOf: "2026-02-01")
            let next = try await partitions.upkeep(now: clock.now)
            #expect(next.dropped.map(\.description) == ["2025-10"])
            #expect(try await partitions.months().attached.map(\.description).contains("2026-04"))
            #expect(try await schema.count("grid.screenings") == 3)
            // `forever` drops nothing.
            clock.set(morningOf: "2030-01-01")
            #expect(try await ScreeningPartitions(pool: schema.pool, retention: .forever).upkeep(now: clock.now).dropped.isEmpty)
        }
    }

    @Test func aDetachInterruptedHalfWayIsFinishedByTheNextUpkeep() async throws {
        let clock = ManualClock(morningOf: "2026-01-15")
        try await GridSchema.with { schema in
            let partitions = ScreeningPartitions(pool: schema.pool, retention: ScreeningRetention(months: 3))
            try await partitions.ensure([Month(year: 2025, month: 1)])
            // What a process stopped between DETACH ... CONCURRENTLY's two transactions leaves:
            // the partition marked pending. A reader's open transaction holds the detach in its
            // second step, where it is cancelled.
            try await schema.pool.withConnection { reader in
                try await reader.query("BEGIN")
                try await reader.query("SELECT count(*) FROM grid.screenings_2025_01")
                let detach = Task {
                    try await schema.pool.query("ALTER TABLE grid.screenings DETACH PARTITION grid.screenings_2025_01 CONCURRENTLY")
                }
                let pid = try await waitForBackend(schema.pool, runningSQLLike: "%DETACH PARTITION%CONCURRENTLY%", waiting: true)
                try await schema.pool.query("SELECT pg_cancel_backend($1::integer)", [pid])
                await #expect(throws: PostgresError.self) { try await detach.value }
                try await reader.query("COMMIT")
            }
            #expect(try await partitions.months().detachPending.map(\.description) == ["2025-01"])
            let dropped = try await partitions.upkeep(now: clock.now).dropped.map(\.description)
            #expect(dropped == ["2025-01"])
            #expect(try await partitions.months().detachPending.isEmpty)
            let leftover = try await schema.pool.query("SELECT count(*) FROM pg_class WHERE relname = 'screenings_2025_01'")
            #expect(try leftover[0].decode(Int.self, at: 0) == 0)
        }
    }

    @Test func theMigrationMovesScreeningsRecordedBeforeIt() async throws {
        let before = GridMigrations.all.filter { $0.version < 9 }
        try await GridSchema.with(migrations: before) { schema in
            let grid = UUID.random(), member = UUID.random()
            try await schema.pool.query("INSERT INTO grid.grids (id, village_code, name) VALUES ($1, $2, '第一网格')", [grid, GridSchema.village])
            try await schema.pool.query("INSERT INTO grid.members (id, grid_id, name, role) VALUES ($1, $2, '王某', 'grid_worker')", [member, grid])
            for day in ["2024-11-30", "2024-12-01", "2025-06-15"] {
                try await schema.pool.query(
                    "INSERT INTO grid.screenings VALUES ($1, $2::date, $3, $4, 7, 1, $5)", [grid, day, GridSchema.village, member, Date()]
                )
            }
            try await GridMigrations.migrator.migrate(schema.pool, logger: TestEnvironment.logger)
            #expect(try await Self.partitionOf(schema, day: "2024-11-30") == ["grid.screenings_2024_11"])
            #expect(try await Self.partitionOf(schema, day: "2024-12-01") == ["grid.screenings_2024_12"])
            #expect(try await Self.partitionOf(schema, day: "2025-06-15") == ["grid.screenings_2025_06"])
            let partitioned = try await schema.pool.query("SELECT relkind::text FROM pg_class WHERE oid = 'grid.screenings'::regclass")[0]
            #expect(try partitioned.decode(String.self, at: 0) == "p")
            // Every month from the first stored one to two months after today, none missing.
            let months = try await ScreeningPartitions(pool: schema.pool, retention: .forever).months().attached
            let current = Month(containing: Date())
            #expect(months.first == Month(year: 2024, month: 11) && months.last == current.adding(months: 2))
            #expect(months.count == current.adding(months: 2).index - Month(year: 2024, month: 11).index + 1)
        }
    }
}
