import Foundation
import PinganDomain
import PinganOutbox
import PinganPostgres

/// Where a month's computations live: its versions and each version's scores. Freezing a
/// month also creates the actions its scores call for, and the notices about them and about
/// the result, in the same transaction, so a frozen month never lacks its actions.
protocol MonthStore: Sendable {
    /// Stores a computation as the month's current version where ``MonthVersioning`` puts
    /// it, under the month's lock so computations of one month run one after another; a
    /// frozen computation applies what ``ThresholdActions`` decides and announces the result.
    /// Throws ``IndexRefusal`` when the month is frozen and may not be recomputed.
    ///
    /// - Parameter scores: every division's score, a family of siblings at a time, written as
    ///   they come (``GovernanceIndex/finishedFamilies(of:seed:)``).
    func publish(_ publication: Publication, scores: AsyncThrowingStream<[GovernanceIndex.Scored], any Error>) async throws -> MonthVersion
    /// Every version of a month, oldest first.
    func versions(of month: Month) async throws -> [MonthVersion]
    /// The ended months the scheduler computes to freeze, oldest first: those before `month`
    /// whose latest version is provisional, and the month just before it if it has none yet.
    func toFreeze(before month: Month) async throws -> [Month]
    /// The current version's scores of `parent`'s children, ranked units first, each with
    /// the unit's score in the previous month's current version.
    func ranking(of parent: DivisionCode, in month: Month) async throws -> Ranking
    /// The division's name as the month's scores recorded it.
    func name(of code: DivisionCode, in month: Month) async throws -> String?
    /// The frozen monthly scores with enough data of `parent`'s children in `year`.
    func frozenScores(of parent: DivisionCode, year: Int) async throws -> [ScoredYear]
}

/// Months and scores in schema `index`.
struct PostgresMonthStore: MonthStore {
    let pool: PostgresPool
    let outbox: Outbox

    func versions(of month: Month) async throws -> [MonthVersion] {
        try await pool.query("SELECT \(IndexRows.versionColumns) FROM index.months WHERE month = $1 ORDER BY version", [month.description])
            .map(IndexRows.decodeVersion)
    }

    func toFreeze(before month: Month) async throws -> [Month] {
        try await pool.query(
            """
            SELECT month FROM (SELECT DISTINCT ON (month) month, status FROM index.months WHERE month < $1 ORDER BY month, version DESC) latest
            WHERE status = 'provisional'
            UNION SELECT $2 WHERE NOT EXISTS (SELECT 1 FROM index.months WHERE month = $2)
            ORDER BY month
            """,
            [month.description, month.previous.description]
        ).compactMap { Month(parsing: try $0.decode(String.self, at: 0)) }
    }

    /// A score's indicators are in `indicators_json` when this release wrote it, in
    /// `indicators` (jsonb) when an earlier one did (migration 5); both hold the same JSON.
    func ranking(of parent: DivisionCode, in month: Month) async throws -> Ranking {
        guard let current = try await versions(of: month).last else { return Ranking(version: nil, scores: []) }
        let rows = try await pool.query(
            """
            SELECT s.code, s.name, s.score, s.rank, coalesce(s.indicators_json, s.indicators::json), s.enough_data, s.rank_low, s.rank_high, p.score, p.enough_data
            FROM index.scores s
            LEFT JOIN LATERAL (
                SELECT score, enough_data FROM index.scores
                WHERE month = $3 AND code = s.code
                ORDER BY version DESC LIMIT 1
            ) p ON true
            WHERE s.month = $1 AND s.version = $4 AND s.parent_code = $2
            ORDER BY s.rank = 0, s.rank, s.code
            """,
            [month.description, parent.rawValue, month.previous.description, current.version]
        )
        return Ranking(version: current, scores: try rows.map { row in
            RankedScore(
                code: try row.decode(String.self, at: 0), name: try row.decode(String.self, at: 1),
                score: try row.decode(Double.self, at: 2), enoughData: try row.decode(Bool.self, at: 5),
                rank: try row.decode(Int.self, at: 3), rankLow: try row.decode(Int.self, at: 6), rankHigh: try row.decode(Int.self, at: 7),
                indicators: try IndexRows.decodeIndicators(try row.decode(PostgresJSON.self, at: 4)),
                previousScore: try row.decode(Bool?.self, at: 9) == true ? try row.decode(Double?.self, at: 8) : nil
            )
        })
    }

    func name(of code: DivisionCode, in month: Month) async throws -> String? {
        try await pool.query("SELECT name FROM index.scores WHERE month = $1 AND code = $2 ORDER BY version DESC LIMIT 1", [month.description, code.rawValue])
            .first?.decode(String.self, at: 0)
    }

    func frozenScores(of parent: DivisionCode, year: Int) async throws -> [ScoredYear] {
        try await pool.query(
            """
            WITH current AS (
                SELECT month, max(version) AS version FROM index.months
                WHERE month LIKE $2 || '-%' GROUP BY month
            )
            SELECT s.code, min(s.name), coalesce(array_agg(s.score::text ORDER BY s.month) FILTER (WHERE s.enough_data), '{}')
            FROM index.scores s
            JOIN current c ON c.month = s.month AND c.version = s.version
            JOIN index.months m ON m.month = s.month AND m.version = s.version AND m.status = 'frozen'
            WHERE s.parent_code = $1
            GROUP BY s.code ORDER BY s.code
            """,
            [parent.rawValue, String(format: "%04d", year)]
        ).map { row in
            ScoredYear(
                code: try row.decode(String.self, at: 0), name: try row.decode(String.self, at: 1),
                scores: try row.decode([String].self, at: 2).compactMap(Double.init)
            )
        }
    }
}
