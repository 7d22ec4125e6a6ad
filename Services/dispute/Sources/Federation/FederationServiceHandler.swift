import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain

/// `pingan.dispute.v1.FederationService`: the city's half of federation, taking the snapshots
/// a county's ``FederationRelay`` sends through the city's gateway.
struct FederationServiceHandler: Sendable {
    static let maxSnapshots = 64

    let copies: FederationCopies
    let peers: FederationPeers
    let orders: FederationOrders
    let verifier: PrincipalVerifier
    let now: @Sendable () -> Date

    func register(into routes: inout ConnectRoutes) {
        routes.register(FederationServiceMethods.receiveCases) { try await receiveCases($0, $1) }
        routes.register(FederationServiceMethods.listFederatedCounties) { try await listFederatedCounties($0, $1) }
    }

    func receiveCases(_ request: Pingan_Dispute_V1_ReceiveCasesRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_ReceiveCasesResponse {
        let principal = try verifier.principal(context, for: FederationServiceMethods.receiveCases)
        try principal.requireCountyRelay(sending: "cases")
        guard request.snapshots.count <= Self.maxSnapshots else {
            throw ConnectError.invalidArgument(field: "snapshots", "at most \(Self.maxSnapshots) in one call, got \(request.snapshots.count)")
        }
        guard request.appliedOrders.count <= FederationOrders.perCall else {
            throw ConnectError.invalidArgument(field: "applied_orders", "at most \(FederationOrders.perCall) in one call, got \(request.appliedOrders.count)")
        }
        for (index, outcome) in request.appliedOrders.enumerated() {
            _ = try UUID.field(outcome.orderID, "applied_orders[\(index)].order_id")
            _ = try String.field(outcome.message, "applied_orders[\(index)].message", length: 0...500)
        }
        let completeAsOf = try Date.field(request.completeAsOf, "complete_as_of")
        var response = Pingan_Dispute_V1_ReceiveCasesResponse()
        var newest: Int64 = 0
        for (index, wire) in request.snapshots.enumerated() {
            var outcome = Pingan_Dispute_V1_SnapshotOutcome()
            outcome.caseID = wire.caseID
            do {
                let snapshot = try Self.snapshot(wire, field: "snapshots[\(index)]", county: principal)
                _ = try await copies.apply(snapshot, from: principal.centre)
                newest = max(newest, snapshot.version)
            } catch let refusal as FederationRefusal {
                outcome.code = ConnectCode.invalidArgument.rawValue
                outcome.message = refusal.description
            } catch {
                let failure = ConnectError.wrapping(error, logger: context.logger)
                outcome.code = failure.code.rawValue
                outcome.message = failure.message
            }
            response.outcomes.append(outcome)
        }
        try await peers.heard(from: principal.centre, newest: newest, completeAsOf: Self.completeAsOf(completeAsOf, after: response.outcomes), at: now())
        response.orders = try await orders.exchange(request.appliedOrders, county: principal.centre, at: now()).map(\.wire)
        return response
    }

    /// What the city takes of a county's "complete as of" after applying its call: nothing
    /// if a snapshot failed for now, since the county sends it again and until it applies the
    /// copies are not complete, whatever the county says. One refused for good never will be
    /// (its county's operator hears of it) and holds nothing back.
    static func completeAsOf(_ said: Date?, after outcomes: [Pingan_Dispute_V1_SnapshotOutcome]) -> Date? {
        outcomes.allSatisfy { $0.code.isEmpty || $0.code == ConnectCode.invalidArgument.rawValue } ? said : nil
    }

    func listFederatedCounties(
        _ request: Pingan_Dispute_V1_ListFederatedCountiesRequest, _ context: ConnectContext
    ) async throws -> Pingan_Dispute_V1_ListFederatedCountiesResponse {
        let principal = try verifier.principal(context, for: FederationServiceMethods.listFederatedCounties)
        let centre = try DivisionCode.field(request.centreCode, "centre_code")
        try principal.require(centre, field: "centre_code")
        var response = Pingan_Dispute_V1_ListFederatedCountiesResponse()
        response.counties = try await peers.counties(around: centre).map(\.wire)
        return response
    }

    /// A snapshot's fields checked: a case of the county's subtree, with rows that are a JSON
    /// object holding the case.
    static func snapshot(_ wire: Pingan_Dispute_V1_CaseSnapshot, field: String, county: Principal) throws -> CaseSnapshotInput {
        let id = try UUID.field(wire.caseID, "\(field).case_id")
        let village = try DivisionCode.field(wire.villageCode, "\(field).village_code")
        guard county.covers(village) else {
            // Refused for good: the relay parks it for the county's operator.
            throw ConnectError.invalidArgument(field: "\(field).village_code", "\(village) lies outside county \(county.centre)'s subtree")
        }
        guard wire.version > 0 else { throw ConnectError.invalidArgument(field: "\(field).version", "must be positive") }
        let object = (try? JSONSerialization.jsonObject(with: Data(wire.rows.utf8))) as? [String: Any]
        guard let object, object["case"] is [String: Any] else {
            throw ConnectError.invalidArgument(field: "\(field).rows", "must be a JSON object holding the case's row under \"case\"")
        }
        return CaseSnapshotInput(caseID: id, village: village, version: wire.version, rows: wire.rows)
    }
}
