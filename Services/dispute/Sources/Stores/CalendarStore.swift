import Foundation
import PinganDomain
import PinganPostgres

/// Where the official working-day calendar is kept, a year's notice at a time.
protocol CalendarStore: Sendable {
    func calendar() async throws -> WorkdayCalendar
    /// Loads official calendar rows, each year's replacing what was loaded for it; returns
    /// the years they cover.
    func loadCalendar(_ rows: [WorkdayCalendar.Exception]) async throws -> Set<Int>
}

/// The calendar in schema `dispute`.
struct PostgresCalendarStore: CalendarStore {
    /// The advisory-lock space of calendar loads (the key within it is the year).
    static let lockSpace = 4_242

    let pool: PostgresPool

    func calendar() async throws -> WorkdayCalendar {
        try await pool.withConnection { connection in
            let days = try await connection.query("SELECT day::text, kind, name FROM dispute.calendar_days").map { row -> WorkdayCalendar.Exception in
                let text = try row.decode(String.self, at: 0), kindText = try row.decode(String.self, at: 1)
                guard let day = Day(parsing: text) else { throw CaseStoreError.unreadable("calendar_days.day", text) }
                guard let kind = WorkdayCalendar.Kind(rawValue: kindText) else { throw CaseStoreError.unreadable("calendar_days.kind", kindText) }
                return WorkdayCalendar.Exception(day: day, kind: kind, name: try row.decode(String.self, at: 2))
            }
            let years = try await connection.query("SELECT year FROM dispute.calendar_years").map { try $0.decode(Int.self, at: 0) }
            return WorkdayCalendar(exceptions: days, years: Set(years))
        }
    }

    func loadCalendar(_ rows: [WorkdayCalendar.Exception]) async throws -> Set<Int> {
        let years = Set(rows.map(\.day.year))
        try await pool.transaction { transaction in
            // One load of a year at a time (two administrators, or a retried request, load the
            // same notice at once): each waits for the other instead of colliding on its days.
            for year in years.sorted() {
                try await transaction.query("SELECT pg_advisory_xact_lock(\(Self.lockSpace), $1::integer)", [year])
            }
            for year in years {
                try await transaction.query(
                    "DELETE FROM dispute.calendar_days WHERE day >= make_date($1::integer, 1, 1) AND day < make_date($1::integer + 1, 1, 1)", [year]
                )
                try await transaction.query("INSERT INTO dispute.calendar_years (year) VALUES ($1) ON CONFLICT (year) DO UPDATE SET loaded_at = clock_timestamp()", [year])
            }
            for row in rows {
                try await transaction.query(
                    """
                    INSERT INTO dispute.calendar_days (day, kind, name) VALUES ($1::date, $2, $3)
                    ON CONFLICT (day) DO UPDATE SET kind = EXCLUDED.kind, name = EXCLUDED.name
                    """,
                    [row.day.description, row.kind.rawValue, row.name]
                )
            }
        }
        return years
    }
}
