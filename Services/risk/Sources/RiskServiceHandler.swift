import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain
import PinganOutbox
import PinganPostgres

/// `pingan.risk.v1.RiskService`: one method per RPC, named as in the `.proto`. Each turns its
/// request into domain values (``RiskWire``), asks the rules, has the store load and apply,
/// and answers with the domain values turned back into messages.
struct RiskServiceHandler: Sendable {
    static let maxPageSize = 200

    let store: any RiskStore
    let models: RiskModelCatalogue
    let rules: WarningRules
    let verifier: PrincipalVerifier
    /// The time of day, injected so escalation tests control it.
    let now: @Sendable () -> Date

    func register(into routes: inout ConnectRoutes, events: inout EventConsumers) {
        events.on(WarningEvents.assessCase) { request, event, _ in try await assessCase(request, event) }
        routes.register(RiskServiceMethods.getAssessment) { try await getAssessment($0, $1) }
        routes.register(RiskServiceMethods.listWarnings) { try await listWarnings($0, $1) }
        routes.register(RiskServiceMethods.getWarning) { try await getWarning($0, $1) }
        routes.register(RiskServiceMethods.acknowledgeWarning) { try await acknowledgeWarning($0, $1) }
        routes.register(RiskServiceMethods.assignWarning) { try await assignWarning($0, $1) }
        routes.register(RiskServiceMethods.feedBackOnWarning) { try await feedBackOnWarning($0, $1) }
        routes.register(RiskServiceMethods.evaluateWarning) { try await evaluateWarning($0, $1) }
        routes.register(RiskServiceMethods.closeWarning) { try await closeWarning($0, $1) }
        routes.register(RiskServiceMethods.warningFacts) { try await warningFacts($0, $1) }
    }

    /// Delivered by dispute-service's outbox relay whenever a case's facts change; never by
    /// people. Scored before the transaction; the warning is decided on the case's open
    /// warning as the event's round trip locked it, and recorded with the score.
    func assessCase(_ request: Pingan_Risk_V1_AssessCaseRequest, _ event: EventDelivery) async throws -> Pingan_Risk_V1_AssessCaseResponse {
        let assessed = try AssessedCase(request)
        // To the microsecond, as stored: the answer, built from what is written, is exactly
        // what a later read finds.
        let scored = models.scored(assessed, now: now().atPostgresPrecision)
        let assessment = try await store.assess(scored, rules: rules, applying: event)
        var response = Pingan_Risk_V1_AssessCaseResponse()
        response.assessment = assessment.wire
        return response
    }

    func getAssessment(_ request: Pingan_Risk_V1_GetAssessmentRequest, _ context: ConnectContext) async throws -> Pingan_Risk_V1_GetAssessmentResponse {
        let principal = try verifier.principal(context, for: RiskServiceMethods.getAssessment)
        let id = try UUID.field(request.caseID, "case_id")
        // Outside the caller's jurisdiction reads exactly like a case never assessed.
        var response = Pingan_Risk_V1_GetAssessmentResponse()
        response.assessment = try principal.visible(try await store.assessment(of: id), at: { $0.village }, "assessment of case \(request.caseID)").wire
        return response
    }

    /// The warnings about cases in the caller's subtree: a village sees its own, a township
    /// its villages', each level everything below it.
    func listWarnings(_ request: Pingan_Risk_V1_ListWarningsRequest, _ context: ConnectContext) async throws -> Pingan_Risk_V1_ListWarningsResponse {
        let principal = try verifier.principal(context, for: RiskServiceMethods.listWarnings)
        let centre = try DivisionCode.field(request.centreCode, "centre_code")
        try principal.require(centre, field: "centre_code")
        let limit = try PageSize.field(request.pageSize, default: 50, max: Self.maxPageSize)
        let cursor = try PageCursor(token: request.pageToken)
        let rows = try await store.warnings(under: centre, openOnly: request.openOnly, after: cursor, limit: limit + 1)
        var response = Pingan_Risk_V1_ListWarningsResponse()
        let page = Page(rows, limit: limit) { PageCursor(time: $0.raisedAt, id: $0.id) }
        response.warnings = page.items.map(\.wire)
        response.nextPageToken = page.nextPageToken
        return response
    }

    func getWarning(_ request: Pingan_Risk_V1_GetWarningRequest, _ context: ConnectContext) async throws -> Pingan_Risk_V1_GetWarningResponse {
        let principal = try verifier.principal(context, for: RiskServiceMethods.getWarning)
        let id = try UUID.field(request.warningID, "warning_id")
        var response = Pingan_Risk_V1_GetWarningResponse()
        response.warning = try principal.visible(try await store.warning(id), at: { $0.village }, "warning \(request.warningID)").wire
        return response
    }

    func acknowledgeWarning(_ request: Pingan_Risk_V1_AcknowledgeWarningRequest, _ context: ConnectContext) async throws -> Pingan_Risk_V1_AcknowledgeWarningResponse {
        var response = Pingan_Risk_V1_AcknowledgeWarningResponse()
        response.warning = try await take(.acknowledge, request.warningID, text: nil, context, for: RiskServiceMethods.acknowledgeWarning).wire
        return response
    }

    func assignWarning(_ request: Pingan_Risk_V1_AssignWarningRequest, _ context: ConnectContext) async throws -> Pingan_Risk_V1_AssignWarningResponse {
        var response = Pingan_Risk_V1_AssignWarningResponse()
        response.warning = try await take(.assign, request.warningID, text: try String.field(request.assignee, "assignee", upTo: 100), context, for: RiskServiceMethods.assignWarning).wire
        return response
    }

    func feedBackOnWarning(_ request: Pingan_Risk_V1_FeedBackOnWarningRequest, _ context: ConnectContext) async throws -> Pingan_Risk_V1_FeedBackOnWarningResponse {
        var response = Pingan_Risk_V1_FeedBackOnWarningResponse()
        response.warning = try await take(.feedBack, request.warningID, text: try String.field(request.feedback, "feedback", upTo: 4000), context, for: RiskServiceMethods.feedBackOnWarning).wire
        return response
    }

    func evaluateWarning(_ request: Pingan_Risk_V1_EvaluateWarningRequest, _ context: ConnectContext) async throws -> Pingan_Risk_V1_EvaluateWarningResponse {
        var response = Pingan_Risk_V1_EvaluateWarningResponse()
        response.warning = try await take(.evaluate, request.warningID, text: try String.field(request.evaluation, "evaluation", upTo: 4000), context, for: RiskServiceMethods.evaluateWarning).wire
        return response
    }

    func closeWarning(_ request: Pingan_Risk_V1_CloseWarningRequest, _ context: ConnectContext) async throws -> Pingan_Risk_V1_CloseWarningResponse {
        var response = Pingan_Risk_V1_CloseWarningResponse()
        response.warning = try await take(.close, request.warningID, text: try String.field(request.outcome, "outcome", upTo: 4000), context, for: RiskServiceMethods.closeWarning).wire
        return response
    }

    func warningFacts(_ request: Pingan_Risk_V1_WarningFactsRequest, _ context: ConnectContext) async throws -> Pingan_Risk_V1_WarningFactsResponse {
        let (root, month) = try verifier.factsScope(context, for: RiskServiceMethods.warningFacts, rootCode: request.rootCode, month: request.month)
        var response = Pingan_Risk_V1_WarningFactsResponse()
        response.facts = try await store.facts(under: root, in: month).map(\.wire)
        return response
    }

    /// One step of the closed loop by a caller who may see the warning (and, for evaluating
    /// and closing, covers its owning centre); a step out of order is `failed_precondition`.
    /// Acknowledging twice answers the warning as it stands.
    private func take<Input, Output>(
        _ step: LoopStep, _ text: String, text readNote: @autoclosure () throws -> String?, _ context: ConnectContext,
        for method: ConnectMethod<Input, Output>
    ) async throws -> Warning {
        // Who may take the step is settled before anything in the request is looked at.
        let principal = try verifier.principal(context, for: method)
        let note = try readNote()
        let id = try UUID.field(text, "warning_id")
        let warning = try principal.visible(try await store.warning(id), at: { $0.village }, "warning \(text)")
        if step.needsOwningLevel, !principal.covers(warning.centre) {
            throw ConnectError(.permissionDenied, "only centre \(warning.centre) or a level above it may \(step.rawValue) this warning")
        }
        if let moved = try await store.advance(id, rules.transition(step, note: note, now: now()), by: principal.subject) { return moved }
        if step == .acknowledge, warning.status != .raised { return warning }
        throw ConnectError(.failedPrecondition, "the warning is \(warning.status); \(step.rawValue) follows \(step.from.map(\.rawValue).joined(separator: " or "))")
    }
}
