import Foundation
import PinganContracts
import PinganDomain
import PinganPostgres
import SwiftProtobuf

/// Where the monthly scores live.
protocol IndexStore: Sendable {
    /// Replaces the month's scores with `scored` in one transaction. Replacements of the same
    /// month are serialised, so two computations at once both succeed, the later one last.
    func replace(_ month: Month, with scored: [GovernanceIndex.Scored]) async throws
    /// The scores of `parent`'s children for `month`, by rank.
    func ranking(of parent: DivisionCode, in month: Month) async throws -> [Pingan_Index_V1_DivisionScore]
}

/// Monthly scores in schema `index`.
struct PostgresIndexStore: IndexStore {
    let pool: PostgresPool

    func replace(_ month: Month, with scored: [GovernanceIndex.Scored]) async throws {
        try await pool.transaction { transaction in
            try await transaction.query("SELECT pg_advisory_xact_lock(hashtext('index.scores ' || $1))", [month.description])
            try await transaction.query("DELETE FROM index.scores WHERE month = $1", [month.description])
            try await transaction.copy(
                into: "index.scores", columns: ["month", "code", "name", "parent_code", "score", "rank", "indicators"],
                rows: try scored.map { score in
                    [month.description, score.code, score.name, score.parent, score.score, score.rank,
                     PostgresJSON("[" + (try score.indicators.map { try $0.jsonString() }.joined(separator: ",")) + "]")]
                }
            )
        }
    }

    func ranking(of parent: DivisionCode, in month: Month) async throws -> [Pingan_Index_V1_DivisionScore] {
        try await pool.query(
            "SELECT code, name, score, rank, indicators FROM index.scores WHERE month = $1 AND parent_code = $2 ORDER BY rank",
            [month.description, parent.rawValue]
        ).map { row in
            var score = Pingan_Index_V1_DivisionScore()
            score.code = try row.decode(String.self, at: 0)
            score.name = try row.decode(String.self, at: 1)
            score.score = try row.decode(Double.self, at: 2)
            score.rank = Int32(try row.decode(Int.self, at: 3))
            score.indicators = try Pingan_Index_V1_IndicatorValue.array(fromJSONString: try row.decode(PostgresJSON.self, at: 4).text)
            return score
        }
    }
}
