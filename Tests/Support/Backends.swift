import PinganPostgres

/// The process id of the one backend whose query is like `pattern` (and, with `waiting`, that
/// waits on a lock), once there is one: how a test knows a statement on another connection has
/// reached the point it is testing, without sleeping for it. Polls the catalogue, up to 100,000
/// reads, then fails.
public func waitForBackend(_ pool: PostgresPool, runningSQLLike pattern: String, waiting: Bool) async throws -> Int {
    for _ in 0..<100_000 {
        let rows = try await pool.query(
            """
            SELECT pid::bigint FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE $1 AND state = 'active'
              AND (NOT $2 OR wait_event_type = 'Lock')
            """,
            [pattern, waiting]
        )
        if let row = rows.first { return try row.decode(Int.self, at: 0) }
        await Task.yield()
    }
    throw TestSetupError("no backend ran \(pattern)")
}
