import Foundation
import PinganDomain
import PinganPostgres

/// One county's counts of a month, as its index-service read them
/// (`IndexFederationService/ReceiveCountyFacts`).
struct CountyCounts: Sendable, Equatable {
    let county: DivisionCode
    let month: Month
    let readAt: Date
    let villages: [String: VillageCounts]
}

/// The city's counts of the counties that run their own mesh, in schema `index`
/// (migration 7), and a county's record of which months' counts reached the city.
struct CountyCountsStore: Sendable {
    let pool: PostgresPool

    /// Replaces the county's counts of the month unless the city holds a later read of it;
    /// true when they were taken. A late or repeated call changes nothing.
    func receive(_ counts: CountyCounts, now: Date) async throws -> Bool {
        try await pool.transaction { transaction in
            let taken = try await transaction.query(
                """
                INSERT INTO index.county_reads AS r (county_code, month, read_at, received_at) VALUES ($1, $2, $3, $4)
                ON CONFLICT (county_code, month) DO UPDATE SET read_at = EXCLUDED.read_at, received_at = EXCLUDED.received_at
                WHERE r.read_at < EXCLUDED.read_at
                RETURNING county_code
                """,
                [counts.county.rawValue, counts.month.description, counts.readAt, now]
            )
            guard !taken.isEmpty else { return false }
            let villages = counts.villages.sorted { $0.key < $1.key }
            func column(_ value: (VillageCounts) -> Int) -> [String] { villages.map { String(value($0.value)) } }
            try await transaction.pipeline([
                ("DELETE FROM index.county_counts WHERE county_code = $1 AND month = $2", [counts.county.rawValue, counts.month.description]),
                (
                    sql: """
                        INSERT INTO index.county_counts (month, village_code, county_code, incidents, grids, grid_days_screened,
                            nothing_found_days, households_visited, warnings_raised, warnings_acknowledged, warnings_acknowledged_in_time)
                        SELECT $1, v.village, $2, v.incidents, v.grids, v.screened, v.nothing, v.households, v.raised, v.acknowledged, v.in_time
                        FROM unnest($3::text[], $4::integer[], $5::integer[], $6::integer[], $7::integer[], $8::integer[],
                                    $9::integer[], $10::integer[], $11::integer[])
                            AS v(village, incidents, grids, screened, nothing, households, raised, acknowledged, in_time)
                        """,
                    parameters: [
                        counts.month.description, counts.county.rawValue, villages.map(\.key),
                        column(\.incidents), column(\.grids), column(\.gridDaysScreened), column(\.nothingFoundDays),
                        column(\.householdsVisited), column(\.warningsRaised), column(\.warningsAcknowledged),
                        column(\.warningsAcknowledgedInTime),
                    ]
                ),
            ])
            return true
        }
    }

    /// Every county's counts of `month` by village, and when each county read them.
    func counts(of month: Month) async throws -> (villages: [String: VillageCounts], readAt: [DivisionCode: Date]) {
        let rows = try await pool.withConnection { connection in try await connection.pipeline([
            (
                """
                SELECT village_code, incidents, grids, grid_days_screened, nothing_found_days, households_visited,
                    warnings_raised, warnings_acknowledged, warnings_acknowledged_in_time
                FROM index.county_counts WHERE month = $1
                """,
                [month.description]
            ),
            ("SELECT county_code, read_at FROM index.county_reads WHERE month = $1", [month.description]),
        ]) }
        var villages: [String: VillageCounts] = [:]
        for row in rows[0] {
            villages[try row.decode(String.self, at: 0)] = VillageCounts(
                incidents: try row.decode(Int.self, at: 1), grids: try row.decode(Int.self, at: 2),
                gridDaysScreened: try row.decode(Int.self, at: 3), nothingFoundDays: try row.decode(Int.self, at: 4),
                householdsVisited: try row.decode(Int.self, at: 5), warningsRaised: try row.decode(Int.self, at: 6),
                warningsAcknowledged: try row.decode(Int.self, at: 7), warningsAcknowledgedInTime: try row.decode(Int.self, at: 8)
            )
        }
        var readAt: [DivisionCode: Date] = [:]
        for row in rows[1] {
            if let county = try? DivisionCode(validating: try row.decode(String.self, at: 0)) { readAt[county] = try row.decode(Date.self, at: 1) }
        }
        return (villages, readAt)
    }

    // MARK: At the county

    /// The months before `current`, up to `back` of them, whose counts the city has not had
    /// from a read at least `margin` after the month's end, oldest first.
    func monthsToSend(before current: Month, back: Int, margin: TimeInterval) async throws -> [Month] {
        let months = (1...back).map { current.adding(months: -$0) }.reversed()
        let sent = try await pool.query(
            "SELECT month, read_at FROM index.counts_sent WHERE month = ANY($1)", [months.map(\.description)]
        )
        var readAt: [String: Date] = [:]
        for row in sent { readAt[try row.decode(String.self, at: 0)] = try row.decode(Date.self, at: 1) }
        return months.filter { month in (readAt[month.description] ?? .distantPast) < month.range.end.addingTimeInterval(margin) }
    }

    /// Records that the counts of `month` read at `readAt` reached the city.
    func sent(_ month: Month, readAt: Date, now: Date) async throws {
        try await pool.query(
            """
            INSERT INTO index.counts_sent AS s (month, read_at, sent_at) VALUES ($1, $2, $3)
            ON CONFLICT (month) DO UPDATE SET read_at = EXCLUDED.read_at, sent_at = EXCLUDED.sent_at WHERE s.read_at < EXCLUDED.read_at
            """,
            [month.description, readAt, now]
        )
    }
}
