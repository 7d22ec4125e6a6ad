import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganPostgres
import SwiftProtobuf

/// `pingan.index.v1.IndexService`: one method per RPC, named as in the `.proto`.
struct IndexServiceHandler: Sendable {
    let pool: PostgresPool
    let jurisdiction: Jurisdiction
    let peers: IndexPeers

    func register(into routes: inout ConnectRoutes) {
        routes.register(IndexServiceMethods.computeMonthlyIndex) { try await computeMonthlyIndex($0, $1) }
        routes.register(IndexServiceMethods.getRanking) { try await getRanking($0, $1) }
    }

    func computeMonthlyIndex(_ request: Pingan_Index_V1_ComputeMonthlyIndexRequest, _ context: ConnectContext) async throws -> Pingan_Index_V1_ComputeMonthlyIndexResponse {
        _ = try jurisdiction.principal(context, anyOf: [.admin, .leader])
        let month = try Month.field(request.month, "month")
        var response = Pingan_Index_V1_ComputeMonthlyIndexResponse()
        response.divisionsScored = Int32(try await compute(month, trace: context.trace))
        return response
    }

    /// Fetches the month's facts from grid, dispute and risk, scores every division of the
    /// deployment and replaces the month's stored scores in one transaction.
    func compute(_ month: Month, trace: TraceContext?) async throws -> Int {
        let facts = try await peers.facts(for: month, trace: trace)
        let scored = GovernanceIndex.compute(divisions: facts.divisions, villageFacts: facts.villages)
        try await pool.transaction { transaction in
            try await transaction.query("DELETE FROM index.scores WHERE month = $1", [month.description])
            try await transaction.copy(
                into: "index.scores", columns: ["month", "code", "name", "parent_code", "score", "rank", "indicators"],
                rows: try scored.map { score in
                    [month.description, score.code, score.name, score.parent, score.score, score.rank,
                     PostgresJSON("[" + (try score.indicators.map { try $0.jsonString() }.joined(separator: ",")) + "]")]
                }
            )
        }
        return scored.count
    }

    func getRanking(_ request: Pingan_Index_V1_GetRankingRequest, _ context: ConnectContext) async throws -> Pingan_Index_V1_GetRankingResponse {
        let principal = try jurisdiction.principal(context, anyOf: [.leader, .staff, .admin])
        let parent = try DivisionCode.field(request.parentCode, "parent_code")
        let month = try Month.field(request.month, "month")
        try principal.require(parent, field: "parent_code")
        let rows = try await pool.query(
            "SELECT code, name, score, rank, indicators FROM index.scores WHERE month = $1 AND parent_code = $2 ORDER BY rank",
            [month.description, parent.rawValue]
        )
        var response = Pingan_Index_V1_GetRankingResponse()
        response.scores = try rows.map { row in
            var score = Pingan_Index_V1_DivisionScore()
            score.code = try row.decode(String.self, at: 0)
            score.name = try row.decode(String.self, at: 1)
            score.score = try row.decode(Double.self, at: 2)
            score.rank = Int32(try row.decode(Int.self, at: 3))
            score.indicators = try Pingan_Index_V1_IndicatorValue.array(fromJSONString: try row.decode(PostgresJSON.self, at: 4).text)
            return score
        }
        return response
    }
}
