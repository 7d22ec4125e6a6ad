import Foundation
import PinganOutbox
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
        return try await host.onMigratedDatabase { pool in
            let calendar = PostgresCalendarStore(pool: pool)
            try await seedCalendar(calendar, logger: host.logger)
            let cases = CaseImporter(pool: pool, calendar: try await calendar.calendar(), deadlines: settings.deadlines, batchSize: batchSize, now: now)
            return try await cases.run(try ImportLines(path: path), by: importer, refused: refused)
        }
    }

    /// Loads a source's reports in bulk (docs/importing.md, "`reports`"): each an intake at its
    /// own time, joining the same parties' case and telling risk-service.
    /// - Parameter source: `screening` (the default), `hotline`, `police_transfer`, `walk_in`,
    ///   `department_referral` or `citizen_app`; a grid's reports come from grid-service.
    public static func importReports(
        settings: DisputeSettings, path: String, source: String, by importer: String, batchSize: Int = 500,
        now: @escaping @Sendable () -> Date = { Date() }, refused: @escaping @Sendable (ImportRefusal) -> Void = { _ in }
    ) async throws -> ImportSummary {
        guard let kind = CaseRecord.sources[source], kind != .gridReport else {
            throw ImportError.badArgument("--source must be one of \(CaseRecord.sources.keys.filter { $0 != "grid_report" }.sorted().joined(separator: ", "))")
        }
        return try await ServiceHost(.dispute, settings: settings.service, migrator: DisputeMigrations.migrator).onMigratedDatabase { pool in
            let outbox = Outbox(schema: DisputeMigrations.schema)
            let reports = ReportImporter(
                pool: pool, outbox: outbox, cases: PostgresCaseStore(pool: pool, outbox: outbox), source: kind,
                backdating: settings.backdating, batchSize: batchSize, now: now
            )
            return try await reports.run(try ImportLines(path: path), by: importer, refused: refused)
        }
    }
}
