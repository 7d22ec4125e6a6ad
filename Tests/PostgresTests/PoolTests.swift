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

        let (status, output) = try ChildProcess.run("/bin/sh", ["-c", restart], environment: [:], logPath: NSTemporaryDirectory() + "pingan-restart.log")
        #expect(status == 0, "\(output)")

        for _ in 0..<5 {
            let after = try await pool.query("SELECT pg_backend_pid()")[0].decode(Int.self, at: 0)
            #expect(after != before)
        }
        await pool.close()
    }
}
