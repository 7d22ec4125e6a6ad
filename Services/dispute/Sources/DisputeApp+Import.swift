import Foundation
import PinganPostgres
import PinganRuntime

extension DisputeApp {
    /// Imports a cases file (docs/importing.md) on a migrated database with the official
    /// calendar loaded, for `dispute-service import cases`.
    /// - Returns: what the import did; `refused` hears each refused line as its batch is checked.
    public static func importCases(
        settings: DisputeSettings, path: String, by importer: String, batchSize: Int = 1000, now: @escaping @Sendable () -> Date = { Date() },
        refused: @escaping @Sendable (ImportRefusal) -> Void = { _ in }
    ) async throws -> ImportSummary {
        let host = ServiceHost(.dispute, settings: settings.service, migrator: DisputeMigrations.migrator)
        do {
            try await host.migrator.migrate(host.pool, logger: host.logger)
            let calendar = PostgresCalendarStore(pool: host.pool)
            try await seedCalendar(calendar, logger: host.logger)
            let cases = CaseImporter(pool: host.pool, calendar: try await calendar.calendar(), deadlines: settings.deadlines, batchSize: batchSize, now: now)
            let summary = try await cases.run(try ImportLines(path: path), by: importer, refused: refused)
            await host.pool.close()
            return summary
        } catch {
            await host.pool.close()
            throw error
        }
    }
}
