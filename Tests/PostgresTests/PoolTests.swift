import Foundation
import PinganPostgres
import PinganTestSupport
import Testing

@Suite("connection pool")
struct PoolTests {
    @Test func exhaustedPoolTimesOutCleanly() async throws {
        try await TestDatabase.with { database in
            let pool = database.pool(maxConnections: 1, acquireTimeout: .milliseconds(300))
            let (held, holding) = AsyncStream<Void>.makeStream()
            let (release, releasing) = AsyncStream<Void>.makeStream()
            let holder = Task {
                try await pool.withConnection { connection in
                    try await connection.query("SELECT 1")
                    holding.yield()
                    for await _ in release { break }
                }
            }
            for await _ in held { break }
            #expect(pool.statistics.inUse == 1)
            await #expect { try await pool.query("SELECT 1") } throws: { error in
                (error as? PostgresError)?.code == .poolTimeout
            }
            #expect(pool.statistics.waiting == 0)
            releasing.yield()
            try await holder.value
            // The connection came back, so the next caller is served.
            do { let got = try await pool.query("SELECT 42")[0].decode(Int.self, at: 0); #expect(got == 42) }
            await pool.close()
        }
    }

    /// The services' connections run without JIT compilation unless their URL asks for it:
    /// their statements are short, and a compiled one spent longer compiling than running.
    @Test func connectionsRunWithoutJITUnlessTheURLAsksForIt() async throws {
        try await TestDatabase.with { database in
            let pool = database.pool(maxConnections: 1)
            let byDefault = try await pool.query("SHOW jit")[0].decode(String.self, at: 0)
            #expect(byDefault == "off")
            await pool.close()
            let separator = database.url.contains("?") ? "&" : "?"
            let asking = PostgresPool(configuration: .init(url: database.url + separator + "options=-c%20jit%3Don", maxConnections: 1), logger: TestEnvironment.logger)
            let asked = try await asking.query("SHOW jit")[0].decode(String.self, at: 0)
            #expect(asked == "on")
            await asking.close()
        }
    }

    /// A statement prepared while its table was small gets a plan that reads the table whole,
    /// and the connection keeps it as the table grows; once it plans its statements afresh,
    /// the grown table is read through its index. (Which plan ran is read from the table's
    /// scan counter.)
    @Test func preparedStatementsArePlannedAfreshAsTablesGrow() async throws {
        try await TestDatabase.with { database in
            let find = "SELECT id FROM t WHERE v = $1"
            for replan in [Duration.seconds(300), .zero] {
                let pool = database.pool(maxConnections: 1, replanFirstAfter: replan)
                try await pool.withConnection { connection in
                    func sequentialScans() async throws -> Int {
                        try await connection.query("SELECT pg_stat_force_next_flush()")
                        return try await connection.query("SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 't'")[0].decode(Int.self, at: 0)
                    }
                    try await connection.query("DROP TABLE IF EXISTS t")
                    // No autovacuum: its ANALYZE would make the connection plan again by itself.
                    try await connection.query("CREATE TABLE t (id bigint PRIMARY KEY, v integer) WITH (autovacuum_enabled = false)")
                    try await connection.query("CREATE INDEX t_v ON t (v)")
                    // One page of rows, analysed: reading it whole is the cheapest plan.
                    try await connection.query("INSERT INTO t SELECT g, g FROM generate_series(1, 50) g")
                    try await connection.query("ANALYZE t")
                    // Enough runs for PostgreSQL to settle on a generic plan.
                    for value in 0..<8 { try await connection.query(find, [value]) }
                    try await connection.query("INSERT INTO t SELECT g, g FROM generate_series(51, 100000) g")
                    let before = try await sequentialScans()
                    for value in 0..<8 { try await connection.query(find, [value]) }
                    let after = try await sequentialScans()
                    // Planning afresh never drops a statement a pipeline has named already.
                    let both = try await connection.pipeline([(find, [3]), ("SELECT count(*) FROM t WHERE v < $1", [10])])
                    #expect(try both[0][0].decode(Int.self, at: 0) == 3 && both[1][0].decode(Int.self, at: 0) == 9)
                    let prepared = try await connection.query("SELECT count(*) FROM pg_prepared_statements WHERE statement = $1", [find])
                    if replan == .zero {
                        #expect(after == before, "planned afresh, the grown table is read through its index")
                        #expect(try prepared[0].decode(Int.self, at: 0) == 0)
                    } else {
                        // Kept: its plan reads the table whole (8 more sequential scans when run
                        // alone), unless parallel tests' DDL made the server drop every cached
                        // plan, so the scans are not asserted here.
                        #expect(try prepared[0].decode(Int.self, at: 0) == 1)
                    }
                }
                await pool.close()
            }
        }
    }

    @Test func waitersAreServedInTurn() async throws {
        try await TestDatabase.with { database in
            let pool = database.pool(maxConnections: 2, acquireTimeout: .seconds(30))
            let total = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<40 {
                    group.addTask {
                        try await pool.query("SELECT $1::int8 FROM pg_sleep(0.01)", [index])[0].decode(Int.self, at: 0)
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(total == (0..<40).reduce(0, +))
            let statistics = pool.statistics
            #expect(statistics.inUse == 0 && statistics.waiting == 0 && statistics.idle <= 2)
            await pool.close()
        }
    }

    @Test func unreachableServerIsAConnectionError() async throws {
        let pool = PostgresPool(
            configuration: .init(url: "postgresql://pingan@127.0.0.1:1/pingan", maxConnections: 1),
            logger: TestEnvironment.logger
        )
        await #expect { try await pool.query("SELECT 1") } throws: { error in
            (error as? PostgresError)?.code == .connectionFailed
        }
        await pool.close()
    }

    /// Restarts the dedicated cluster under a live pool: the pool drops the dead connections
    /// and the next query runs on a fresh one.
    @Test func queriesWorkAfterPostgreSQLRestarts() async throws {
        let url = try TestEnvironment.variable("PINGAN_TEST_RESTART_DATABASE_URL")
        let restart = try TestEnvironment.variable("PINGAN_TEST_RESTART_COMMAND")
        let pool = PostgresPool(configuration: .init(url: url, maxConnections: 3), logger: TestEnvironment.logger)
        let before = try await pool.query("SELECT pg_backend_pid()")[0].decode(Int.self, at: 0)
        // Open the other connections too, so every pooled connection dies in the restart.
        _ = try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<3 { group.addTask { try await pool.query("SELECT pg_sleep(0.05)") } }
            try await group.waitForAll()
        }
        #expect(pool.statistics.idle == 3)

        let (status, output) = try await ChildProcess.run("/bin/sh", ["-c", restart], environment: [:], logPath: NSTemporaryDirectory() + "pingan-restart.log")
        #expect(status == 0, "\(output)")

        for _ in 0..<5 {
            let after = try await pool.query("SELECT pg_backend_pid()")[0].decode(Int.self, at: 0)
            #expect(after != before)
        }
        await pool.close()
    }
}
