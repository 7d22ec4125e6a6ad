import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain
import PinganOutbox

/// `pingan.dispute.v1.DisputeService`: one method per RPC, named as in the `.proto`.
struct DisputeServiceHandler: Sendable {
    static let maxPageSize = 200

    let store: any CaseStore
    let verifier: PrincipalVerifier

    func register(into routes: inout ConnectRoutes) {
        routes.register(DisputeServiceMethods.openCase) { try await openCase($0, $1) }
        routes.register(DisputeServiceMethods.getCase) { try await getCase($0, $1) }
        routes.register(DisputeServiceMethods.listCases) { try await listCases($0, $1) }
        routes.register(DisputeServiceMethods.resolveCase) { try await resolveCase($0, $1) }
        routes.register(DisputeServiceMethods.caseFacts) { try await caseFacts($0, $1) }
    }

    /// Delivered by grid-service's outbox relay, never by people.
    func openCase(_ request: Pingan_Dispute_V1_OpenCaseRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_OpenCaseResponse {
        let event = try verifier.eventDelivery(context)
        let newCase = NewCase(
            incidentID: try UUID.field(request.incidentID, "incident_id"),
            village: try DivisionCode.field(request.villageCode, "village_code"),
            category: request.category, source: request.source, description: request.description_p,
            parties: request.parties.map { Party(name: $0.name, phone: $0.phone, minor: $0.minor) },
            facts: CaseFacts(
                threatOfViolence: request.threatOfViolence, threatOfSelfHarm: request.threatOfSelfHarm,
                repeatIncident: request.repeatIncident, priorPoliceCalls: Int(request.priorPoliceCalls)
            )
        )
        var response = Pingan_Dispute_V1_OpenCaseResponse()
        response.case = try await store.open(newCase, applying: event).wire(revealingParties: false)
        return response
    }

    func getCase(_ request: Pingan_Dispute_V1_GetCaseRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_GetCaseResponse {
        let principal = try verifier.principal(context, anyOf: [.staff, .mediator, .leader])
        let id = try UUID.field(request.caseID, "case_id")
        let found = try await visibleCase(id, named: request.caseID, to: principal)
        if request.revealParties {
            guard principal.has(.mediator) else {
                throw ConnectError(.permissionDenied, "reveal_parties: only mediators may see parties' names and phones")
            }
            try await store.auditPersonalDataRead(case: id, by: principal, rule: "mediator in the case's jurisdiction (\(principal.centre))")
        }
        var response = Pingan_Dispute_V1_GetCaseResponse()
        response.case = found.wire(revealingParties: request.revealParties)
        response.timeline = try await store.timeline(of: id).map(\.wire)
        return response
    }

    func listCases(_ request: Pingan_Dispute_V1_ListCasesRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_ListCasesResponse {
        let principal = try verifier.principal(context, anyOf: [.staff, .mediator, .leader])
        let root = try DivisionCode.field(request.divisionCode, "division_code")
        try principal.require(root, field: "division_code")
        let limit: Int
        switch request.pageSize {
        case 0: limit = 50
        case 1...Int32(Self.maxPageSize): limit = Int(request.pageSize)
        default: throw ConnectError.invalidArgument(field: "page_size", "must be between 1 and \(Self.maxPageSize)")
        }
        let cursor = try CaseCursor(token: request.pageToken)
        let rows = try await store.list(under: root, after: cursor, limit: limit + 1)
        let page = rows.prefix(limit)
        var response = Pingan_Dispute_V1_ListCasesResponse()
        response.cases = page.map { $0.case.wire(revealingParties: false) }
        if rows.count > limit, let last = page.last {
            response.nextPageToken = last.cursor.token
        }
        return response
    }

    func resolveCase(_ request: Pingan_Dispute_V1_ResolveCaseRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_ResolveCaseResponse {
        let principal = try verifier.principal(context, anyOf: [.staff, .mediator])
        let id = try UUID.field(request.caseID, "case_id")
        let outcome = request.outcome.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...2000).contains(outcome.count) else { throw ConnectError.invalidArgument(field: "outcome", "must be 1 to 2000 characters") }
        _ = try await visibleCase(id, named: request.caseID, to: principal)
        let resolved = try principal.visible(try await store.resolve(id, outcome: outcome, actor: principal.subject), at: \.village, "case \(request.caseID)")
        var response = Pingan_Dispute_V1_ResolveCaseResponse()
        response.case = resolved.wire(revealingParties: false)
        return response
    }

    func caseFacts(_ request: Pingan_Dispute_V1_CaseFactsRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_CaseFactsResponse {
        let (root, month) = try verifier.factsScope(context, rootCode: request.rootCode, month: request.month)
        var response = Pingan_Dispute_V1_CaseFactsResponse()
        response.facts = try await store.facts(under: root, in: month).map { row in
            var facts = Pingan_Dispute_V1_VillageCaseFacts()
            facts.villageCode = row.village
            facts.opened = Int32(row.opened)
            facts.resolved = Int32(row.resolved)
            return facts
        }
        return response
    }

    /// The case if the caller may see it; `name` is the id as the caller sent it.
    private func visibleCase(_ id: UUID, named name: String, to principal: Principal) async throws -> DisputeCase {
        try principal.visible(try await store.find(id), at: \.village, "case \(name)")
    }
}

extension DisputeCase {
    /// The case as a response carries it: parties masked unless a reveal was allowed (and
    /// audited) by the caller.
    func wire(revealingParties reveal: Bool) -> Pingan_Dispute_V1_Case {
        var value = Pingan_Dispute_V1_Case()
        value.id = id.wire
        value.incidentID = incidentID?.wire ?? ""
        value.villageCode = village.rawValue
        value.category = category
        value.source = source
        value.status = status == .resolved ? .resolved : .open
        value.description_p = description
        value.parties = parties.map { stored in
            var party = Pingan_Grid_V1_Party()
            party.name = reveal ? stored.name : Masking.name(stored.name)
            party.phone = reveal ? stored.phone : Masking.phone(stored.phone)
            party.minor = stored.minor
            return party
        }
        value.threatOfViolence = facts.threatOfViolence
        value.threatOfSelfHarm = facts.threatOfSelfHarm
        value.repeatIncident = facts.repeatIncident
        value.priorPoliceCalls = Int32(facts.priorPoliceCalls)
        value.openedAt = openedAt.wireTimestamp
        return value
    }
}

extension TimelineEntry {
    var wire: Pingan_Dispute_V1_TimelineEntry {
        var entry = Pingan_Dispute_V1_TimelineEntry()
        entry.at = at.wireTimestamp
        entry.kind = kind
        entry.note = note
        entry.actor = actor
        return entry
    }
}
