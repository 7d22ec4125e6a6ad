import Foundation
import PinganAccess
import PinganDomain
import PinganConnect
import PinganContracts
import PinganOutbox

/// `pingan.risk.v1.RiskService`: one method per RPC, named as in the `.proto`.
struct RiskServiceHandler: Sendable {
    let store: any RiskStore
    let policy: RiskPolicy
    let verifier: PrincipalVerifier

    func register(into routes: inout ConnectRoutes) {
        routes.register(RiskServiceMethods.assessCase) { try await assessCase($0, $1) }
        routes.register(RiskServiceMethods.getAssessment) { try await getAssessment($0, $1) }
        routes.register(RiskServiceMethods.listWarnings) { try await listWarnings($0, $1) }
        routes.register(RiskServiceMethods.acknowledgeWarning) { try await acknowledgeWarning($0, $1) }
        routes.register(RiskServiceMethods.warningFacts) { try await warningFacts($0, $1) }
    }

    /// Delivered by dispute-service's outbox relay, never by people.
    func assessCase(_ request: Pingan_Risk_V1_AssessCaseRequest, _ context: ConnectContext) async throws -> Pingan_Risk_V1_AssessCaseResponse {
        let event = try verifier.eventDelivery(context)
        let id = try UUID.field(request.caseID, "case_id")
        let village = try DivisionCode.field(request.villageCode, "village_code")
        let decision = policy.decide(request, village: village)
        var response = Pingan_Risk_V1_AssessCaseResponse()
        response.assessment = try await store.record(decision, for: request, case: id, village: village, applying: event)
        return response
    }

    func getAssessment(_ request: Pingan_Risk_V1_GetAssessmentRequest, _ context: ConnectContext) async throws -> Pingan_Risk_V1_GetAssessmentResponse {
        let principal = try verifier.principal(context, anyOf: [.staff, .mediator, .leader])
        let id = try UUID.field(request.caseID, "case_id")
        // Outside the caller's jurisdiction reads exactly like a case never assessed.
        var response = Pingan_Risk_V1_GetAssessmentResponse()
        response.assessment = try principal.visible(try await store.assessment(of: id), at: \.place, "assessment of case \(request.caseID)")
        return response
    }

    func listWarnings(_ request: Pingan_Risk_V1_ListWarningsRequest, _ context: ConnectContext) async throws -> Pingan_Risk_V1_ListWarningsResponse {
        let principal = try verifier.principal(context, anyOf: [.staff, .mediator, .leader])
        let centre = try DivisionCode.field(request.centreCode, "centre_code")
        try principal.require(centre, field: "centre_code")
        var response = Pingan_Risk_V1_ListWarningsResponse()
        response.warnings = try await store.warnings(under: centre)
        return response
    }

    func acknowledgeWarning(_ request: Pingan_Risk_V1_AcknowledgeWarningRequest, _ context: ConnectContext) async throws -> Pingan_Risk_V1_AcknowledgeWarningResponse {
        let principal = try verifier.principal(context, anyOf: [.staff, .mediator])
        let id = try UUID.field(request.warningID, "warning_id")
        _ = try principal.visible(try await store.warning(id), at: \.place, "warning \(request.warningID)")
        var response = Pingan_Risk_V1_AcknowledgeWarningResponse()
        response.warning = try principal.visible(try await store.acknowledge(id, by: principal.subject), at: \.place, "warning \(request.warningID)")
        return response
    }

    func warningFacts(_ request: Pingan_Risk_V1_WarningFactsRequest, _ context: ConnectContext) async throws -> Pingan_Risk_V1_WarningFactsResponse {
        let (root, month) = try verifier.factsScope(context, rootCode: request.rootCode, month: request.month)
        var response = Pingan_Risk_V1_WarningFactsResponse()
        response.facts = try await store.facts(under: root, in: month)
        return response
    }
}

extension Pingan_Risk_V1_Assessment {
    /// Where the assessed case lies.
    var place: DivisionCode? { try? DivisionCode(validating: villageCode) }
}

extension Pingan_Risk_V1_Warning {
    /// The warned centre.
    var place: DivisionCode? { try? DivisionCode(validating: centreCode) }
}
