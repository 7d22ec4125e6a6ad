import Foundation
import PinganDomain
import PinganPostgres

/// Where loaded public-opinion survey results are kept, per division and month, until the
/// month is computed: they are the index's only facts that no peer service holds.
protocol SurveyStore: Sendable {
    /// Loads `results` for `month`, replacing a division's earlier result of the month.
    func loadSurvey(_ month: Month, _ results: [SurveyResult], by: String, now: Date) async throws
    /// The month's results as facts (`survey_respondents`, `survey_satisfied`), by division.
    func survey(_ month: Month) async throws -> [String: FactSheet]
}

/// Survey results in schema `index`.
struct PostgresSurveyStore: SurveyStore {
    let pool: PostgresPool

    func loadSurvey(_ month: Month, _ results: [SurveyResult], by: String, now: Date) async throws {
        try await pool.transaction { transaction in
            for result in results {
                try await transaction.query(
                    """
                    INSERT INTO index.surveys (month, code, respondents, satisfied, loaded_by, loaded_at) VALUES ($1, $2, $3, $4, $5, $6)
                    ON CONFLICT (month, code) DO UPDATE SET respondents = EXCLUDED.respondents, satisfied = EXCLUDED.satisfied,
                        loaded_by = EXCLUDED.loaded_by, loaded_at = EXCLUDED.loaded_at
                    """,
                    [month.description, result.code.rawValue, result.respondents, result.satisfied, by, now]
                )
            }
        }
    }

    func survey(_ month: Month) async throws -> [String: FactSheet] {
        var facts: [String: FactSheet] = [:]
        for row in try await pool.query("SELECT code, respondents, satisfied FROM index.surveys WHERE month = $1", [month.description]) {
            let code = try row.decode(String.self, at: 0)
            facts[code, default: FactSheet()]["survey_respondents"] = Double(try row.decode(Int.self, at: 1))
            facts[code, default: FactSheet()]["survey_satisfied"] = Double(try row.decode(Int.self, at: 2))
        }
        return facts
    }
}
