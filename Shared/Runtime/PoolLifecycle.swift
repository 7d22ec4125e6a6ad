import PinganPostgres
import ServiceLifecycle

/// Closes the pool when the application shuts down.
struct PoolLifecycle: Service {
    let pool: PostgresPool
    func run() async throws {
        try? await gracefulShutdown()
        await pool.close()
    }
}
