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
    /// The cluster rules of the social-risk topic database and their grouping.
    let clusters: ClusterPolicy
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
        routes.register(RiskServiceMethods.listCaseLinks) { try await listCaseLinks($0, $1) }
        routes.register(RiskServiceMethods.incidentTrend) { try await incidentTrend($0, $1) }
        routes.register(RiskServiceMethods.openTopic) { try await openTopic($0, $1) }
        routes.register(RiskServiceMethods.attachCaseToTopic) { try await attachCaseToTopic($0, $1) }
        routes.register(RiskServiceMethods.closeTopic) { try await closeTopic($0, $1) }
        routes.register(RiskServiceMethods.listTopics) { try await listTopics($0, $1) }
    }

    /// Delivered by dispute-service's outbox relay whenever a case's facts change; never by
    /// people. Scored before the transaction; the warning is decided on the case's open
    /// warning as the event's round trip locked it, and recorded with the score.
    func assessCase(_ request: Pingan_Risk_V1_AssessCaseRequest, _ event: EventDelivery) async throws -> Pingan_Risk_V1_AssessCaseResponse {
        let assessed = try AssessedCase(request)
        // To the microsecond, as stored: the answer, built from what is written, is exactly
        // what a later read finds.
        let scored = models.scored(assessed, now: now().atPostgresPrecision)
        let incident = try TopicIncident(request, assessed: assessed, now: scored.at)
        let assessment = try await store.assess(scored, incident: incident, rules: rules, clusters: clusters, applying: event)
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

    /// The other cases naming a party of this one, for a mediator whose centre covers the
    /// case: only those it also covers are listed, so a case elsewhere stays unknown to them.
    /// A case the caller does not cover is `not_found`, as one never assessed.
    func listCaseLinks(_ request: Pingan_Risk_V1_ListCaseLinksRequest, _ context: ConnectContext) async throws -> Pingan_Risk_V1_ListCaseLinksResponse {
        let principal = try verifier.principal(context, for: RiskServiceMethods.listCaseLinks)
        let id = try UUID.field(request.caseID, "case_id")
        _ = try principal.visible(try await store.incident(id), at: { $0.village }, "case \(request.caseID)")
        var response = Pingan_Risk_V1_ListCaseLinksResponse()
        response.links = try await store.links(of: id).filter { principal.covers($0.incident.village) }.map(\.wire)
        return response
    }

    /// Incidents per week, village and category under a division in the caller's subtree.
    func incidentTrend(_ request: Pingan_Risk_V1_IncidentTrendRequest, _ context: ConnectContext) async throws -> Pingan_Risk_V1_IncidentTrendResponse {
        let principal = try verifier.principal(context, for: RiskServiceMethods.incidentTrend)
        let root = try DivisionCode.field(request.divisionCode, "division_code")
        let since = try Day.field(request.since, "since")
        let until = try Day.field(request.until, "until")
        guard since <= until, until.ordinal - since.ordinal <= 400 else {
            throw ConnectError.invalidArgument(field: "until", "must be from since to 400 days after it")
        }
        let category: Pingan_Grid_V1_IncidentCategory? = request.category == .unspecified ? nil : request.category
        if case .UNRECOGNIZED = request.category { throw ConnectError.invalidArgument(field: "category", "is not a category") }
        try principal.require(root, field: "division_code")
        var response = Pingan_Risk_V1_IncidentTrendResponse()
        response.counts = try await store.trend(under: root, from: since.start, to: until.next.start, category: category).map(\.wire)
        return response
    }

    func openTopic(_ request: Pingan_Risk_V1_OpenTopicRequest, _ context: ConnectContext) async throws -> Pingan_Risk_V1_OpenTopicResponse {
        let principal = try verifier.principal(context, for: RiskServiceMethods.openTopic)
        let centre = try DivisionCode.field(request.centreCode, "centre_code")
        let title = try String.field(request.title, "title", upTo: 100)
        if case .UNRECOGNIZED = request.category { throw ConnectError.invalidArgument(field: "category", "is not a category") }
        try principal.require(centre, field: "centre_code")
        var response = Pingan_Risk_V1_OpenTopicResponse()
        response.topic = try await store.openTopic(centre: centre, title: title, category: request.category, by: principal.subject, at: now().atPostgresPrecision).wire
        return response
    }

    /// Staff attach a case they can see to a topic they can see; a case outside the topic's
    /// centre is refused (the caller sees both, so saying so leaks nothing).
    func attachCaseToTopic(_ request: Pingan_Risk_V1_AttachCaseToTopicRequest, _ context: ConnectContext) async throws -> Pingan_Risk_V1_AttachCaseToTopicResponse {
        let principal = try verifier.principal(context, for: RiskServiceMethods.attachCaseToTopic)
        let topicID = try UUID.field(request.topicID, "topic_id")
        let caseID = try UUID.field(request.caseID, "case_id")
        let topic = try principal.visible(try await store.topic(topicID), at: { $0.centre }, "topic \(request.topicID)")
        let incident = try principal.visible(try await store.incident(caseID), at: { $0.village }, "case \(request.caseID)")
        guard topic.centre.contains(incident.village) else {
            throw ConnectError(.failedPrecondition, "case \(request.caseID) lies outside the topic's centre \(topic.centre)")
        }
        guard try await store.attach(caseID, to: topicID, by: principal.subject, at: now().atPostgresPrecision) else {
            throw ConnectError(.failedPrecondition, "the topic is closed")
        }
        var response = Pingan_Risk_V1_AttachCaseToTopicResponse()
        response.topic = try principal.visible(try await store.topic(topicID), at: { $0.centre }, "topic \(request.topicID)").wire
        return response
    }

    func closeTopic(_ request: Pingan_Risk_V1_CloseTopicRequest, _ context: ConnectContext) async throws -> Pingan_Risk_V1_CloseTopicResponse {
        let principal = try verifier.principal(context, for: RiskServiceMethods.closeTopic)
        let outcome = try String.field(request.outcome, "outcome", upTo: 4000)
        let id = try UUID.field(request.topicID, "topic_id")
        _ = try principal.visible(try await store.topic(id), at: { $0.centre }, "topic \(request.topicID)")
        guard try await store.closeTopic(id, outcome: outcome, at: now().atPostgresPrecision) else {
            throw ConnectError(.failedPrecondition, "the topic is closed already")
        }
        var response = Pingan_Risk_V1_CloseTopicResponse()
        response.topic = try principal.visible(try await store.topic(id), at: { $0.centre }, "topic \(request.topicID)").wire
        return response
    }

    func listTopics(_ request: Pingan_Risk_V1_ListTopicsRequest, _ context: ConnectContext) async throws -> Pingan_Risk_V1_ListTopicsResponse {
        let principal = try verifier.principal(context, for: RiskServiceMethods.listTopics)
        let centre = try DivisionCode.field(request.centreCode, "centre_code")
        try principal.require(centre, field: "centre_code")
        var response = Pingan_Risk_V1_ListTopicsResponse()
        response.topics = try await store.topics(under: centre, openOnly: request.openOnly, limit: Self.maxPageSize).map(\.wire)
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
