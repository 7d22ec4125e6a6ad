import Foundation
import PinganAccess
import PinganDomain
import PinganConnect
import PinganContracts

/// `pingan.index.v1.IndexService`: one method per RPC, named as in the `.proto`.
struct IndexServiceHandler: Sendable {
    let store: any IndexStore
    let verifier: PrincipalVerifier
    let peers: IndexPeers

    func register(into routes: inout ConnectRoutes) {
        routes.register(IndexServiceMethods.computeMonthlyIndex) { try await computeMonthlyIndex($0, $1) }
        routes.register(IndexServiceMethods.getRanking) { try await getRanking($0, $1) }
    }

    /// Recomputes a month for the whole deployment, so only its root centre may ask; a month
    /// that has not begun has nothing to score.
    func computeMonthlyIndex(_ request: Pingan_Index_V1_ComputeMonthlyIndexRequest, _ context: ConnectContext) async throws -> Pingan_Index_V1_ComputeMonthlyIndexResponse {
        let principal = try verifier.principal(context, anyOf: [.admin, .leader])
        let month = try Month.field(request.month, "month")
        guard principal.covers(peers.root) else {
            throw ConnectError(.permissionDenied, "the index is computed for the whole deployment, by its root centre \(peers.root); centre \(principal.centre) reads its own subtree's rankings")
        }
        guard month.range.start <= Date() else {
            throw ConnectError.invalidArgument(field: "month", "\(month) has not begun")
        }
        var response = Pingan_Index_V1_ComputeMonthlyIndexResponse()
        response.divisionsScored = Int32(try await compute(month, trace: context.trace))
        return response
    }

    /// Fetches the month's facts from grid, dispute and risk, scores every division of the
    /// deployment and replaces the month's stored scores in one transaction.
    func compute(_ month: Month, trace: TraceContext?) async throws -> Int {
        let facts = try await peers.facts(for: month, trace: trace)
        let scored = GovernanceIndex.compute(divisions: facts.divisions, villageFacts: facts.villages)
        try await store.replace(month, with: scored)
        return scored.count
    }

    func getRanking(_ request: Pingan_Index_V1_GetRankingRequest, _ context: ConnectContext) async throws -> Pingan_Index_V1_GetRankingResponse {
        let principal = try verifier.principal(context, anyOf: [.leader, .staff, .admin])
        let parent = try DivisionCode.field(request.parentCode, "parent_code")
        let month = try Month.field(request.month, "month")
        try principal.require(parent, field: "parent_code")
        var response = Pingan_Index_V1_GetRankingResponse()
        response.scores = try await store.ranking(of: parent, in: month)
        return response
    }
}
