import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganOutbox

/// `pingan.risk.v1.RiskService`: one method per RPC, named as in the `.proto`.
struct RiskServiceHandler: Sendable {
    let store: RiskStore
    let jurisdiction: Jurisdiction

    func register(into routes: inout ConnectRoutes) {
        routes.register(RiskServiceMethods.assessCase) { try await assessCase($0, $1) }
        routes.register(RiskServiceMethods.getAssessment) { try await getAssessment($0, $1) }
        routes.register(RiskServiceMethods.listWarnings) { try await listWarnings($0, $1) }
        routes.register(RiskServiceMethods.acknowledgeWarning) { try await acknowledgeWarning($0, $1) }
        routes.register(RiskServiceMethods.warningFacts) { try await warningFacts($0, $1) }
    }

    /// Delivered by dispute-service's outbox relay, never by people.
    func assessCase(_ request: Pingan_Risk_V1_AssessCaseRequest, _ context: ConnectContext) async throws -> Pingan_Risk_V1_AssessCaseResponse {
        _ = try jurisdiction.system(context)
        let eventID = try context.eventID()
        let id = try UUID.field(request.caseID, "case_id")
        let village = try DivisionCode.field(request.villageCode, "village_code")
        var response = Pingan_Risk_V1_AssessCaseResponse()
        response.assessment = try await store.assess(request, case: id, village: village, eventID: eventID)
        return response
    }

    func getAssessment(_ request: Pingan_Risk_V1_GetAssessmentRequest, _ context: ConnectContext) async throws -> Pingan_Risk_V1_GetAssessmentResponse {
        let principal = try jurisdiction.principal(context, anyOf: [.staff, .mediator, .leader])
        let id = try UUID.field(request.caseID, "case_id")
        // Outside the caller's jurisdiction reads exactly like a case never assessed.
        guard let assessment = try await store.assessment(of: id),
              let village = try? DivisionCode(validating: assessment.villageCode), principal.covers(village)
        else { throw ConnectError(.notFound, "no assessment for case \(id)") }
        var response = Pingan_Risk_V1_GetAssessmentResponse()
        response.assessment = assessment
        return response
    }

    func listWarnings(_ request: Pingan_Risk_V1_ListWarningsRequest, _ context: ConnectContext) async throws -> Pingan_Risk_V1_ListWarningsResponse {
        let principal = try jurisdiction.principal(context, anyOf: [.staff, .mediator, .leader])
        let centre = try DivisionCode.field(request.centreCode, "centre_code")
        try principal.require(centre, field: "centre_code")
        var response = Pingan_Risk_V1_ListWarningsResponse()
        response.warnings = try await store.warnings(under: centre)
        return response
    }

    func acknowledgeWarning(_ request: Pingan_Risk_V1_AcknowledgeWarningRequest, _ context: ConnectContext) async throws -> Pingan_Risk_V1_AcknowledgeWarningResponse {
        let principal = try jurisdiction.principal(context, anyOf: [.staff, .mediator])
        let id = try UUID.field(request.warningID, "warning_id")
        guard let warning = try await store.acknowledge(id, by: principal) else {
            throw ConnectError(.notFound, "warning \(id) not found")
        }
        var response = Pingan_Risk_V1_AcknowledgeWarningResponse()
        response.warning = warning
        return response
    }

    func warningFacts(_ request: Pingan_Risk_V1_WarningFactsRequest, _ context: ConnectContext) async throws -> Pingan_Risk_V1_WarningFactsResponse {
        let (root, month) = try jurisdiction.factsScope(context, rootCode: request.rootCode, month: request.month)
        var response = Pingan_Risk_V1_WarningFactsResponse()
        response.facts = try await store.facts(under: root, in: month)
        return response
    }
}
