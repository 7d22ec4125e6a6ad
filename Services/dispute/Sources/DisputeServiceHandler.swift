import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganOutbox

/// `pingan.dispute.v1.DisputeService`: one method per RPC, named as in the `.proto`.
struct DisputeServiceHandler: Sendable {
    static let maxPageSize = 200

    let store: CaseStore
    let jurisdiction: Jurisdiction

    func register(into routes: inout ConnectRoutes) {
        routes.register(DisputeServiceMethods.openCase) { try await openCase($0, $1) }
        routes.register(DisputeServiceMethods.getCase) { try await getCase($0, $1) }
        routes.register(DisputeServiceMethods.listCases) { try await listCases($0, $1) }
        routes.register(DisputeServiceMethods.resolveCase) { try await resolveCase($0, $1) }
        routes.register(DisputeServiceMethods.caseFacts) { try await caseFacts($0, $1) }
    }

    /// Delivered by grid-service's outbox relay, never by people.
    func openCase(_ request: Pingan_Dispute_V1_OpenCaseRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_OpenCaseResponse {
        _ = try jurisdiction.system(context)
        let eventID = try context.eventID()
        let incident = try UUID.field(request.incidentID, "incident_id")
        let village = try DivisionCode.field(request.villageCode, "village_code")
        var response = Pingan_Dispute_V1_OpenCaseResponse()
        response.case = try await store.open(request, incident: incident, village: village, eventID: eventID).masked
        return response
    }

    func getCase(_ request: Pingan_Dispute_V1_GetCaseRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_GetCaseResponse {
        let principal = try jurisdiction.principal(context, anyOf: [.staff, .mediator, .leader])
        let id = try UUID.field(request.caseID, "case_id")
        let found = try await visibleCase(id, to: principal)
        var response = Pingan_Dispute_V1_GetCaseResponse()
        if request.revealParties {
            guard principal.has(.mediator) else {
                throw ConnectError(.permissionDenied, "reveal_parties: only mediators may see parties' names and phones")
            }
            try await store.auditPersonalDataRead(case: id, by: principal, rule: "mediator in the case's jurisdiction (\(principal.centre))")
            response.case = found
        } else {
            response.case = found.masked
        }
        response.timeline = try await store.timeline(of: id)
        return response
    }

    func listCases(_ request: Pingan_Dispute_V1_ListCasesRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_ListCasesResponse {
        let principal = try jurisdiction.principal(context, anyOf: [.staff, .mediator, .leader])
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
        response.cases = page.map(\.case.masked)
        if rows.count > limit, let last = page.last {
            response.nextPageToken = last.cursor.token
        }
        return response
    }

    func resolveCase(_ request: Pingan_Dispute_V1_ResolveCaseRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_ResolveCaseResponse {
        let principal = try jurisdiction.principal(context, anyOf: [.staff, .mediator])
        let id = try UUID.field(request.caseID, "case_id")
        let outcome = request.outcome.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...2000).contains(outcome.count) else { throw ConnectError.invalidArgument(field: "outcome", "must be 1 to 2000 characters") }
        _ = try await visibleCase(id, to: principal)
        guard let resolved = try await store.resolve(id, outcome: outcome, actor: principal.subject) else {
            throw ConnectError(.notFound, "case \(id) not found")
        }
        var response = Pingan_Dispute_V1_ResolveCaseResponse()
        response.case = resolved.masked
        return response
    }

    func caseFacts(_ request: Pingan_Dispute_V1_CaseFactsRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_CaseFactsResponse {
        let (root, month) = try jurisdiction.factsScope(context, rootCode: request.rootCode, month: request.month)
        var response = Pingan_Dispute_V1_CaseFactsResponse()
        response.facts = try await store.facts(under: root, in: month)
        return response
    }

    /// The case, if it exists inside the caller's jurisdiction. A case elsewhere is
    /// `not_found` exactly as a missing one is, so its existence does not leak.
    private func visibleCase(_ id: UUID, to principal: Principal) async throws -> Pingan_Dispute_V1_Case {
        guard let found = try await store.find(id), let village = try? DivisionCode(validating: found.villageCode),
              principal.covers(village)
        else { throw ConnectError(.notFound, "case \(id) not found") }
        return found
    }
}

/// The position after the last case of a ListCases page: its `(opened_at, id)`, with
/// opened_at in whole microseconds as PostgreSQL stores it, so no case is skipped.
struct CaseCursor: Sendable {
    let openedAt: Date
    let id: UUID

    init(openedAt: Date, id: UUID) {
        self.openedAt = openedAt
        self.id = id
    }

    /// Parses a page token; `nil` for the first page.
    init?(token: String) throws {
        guard !token.isEmpty else { return nil }
        guard let data = Data(base64Encoded: token), let text = String(data: data, encoding: .utf8),
              case let parts = text.split(separator: "|"), parts.count == 2,
              let micros = Int64(parts[0]), let id = UUID(uuidString: String(parts[1]))
        else { throw ConnectError.invalidArgument(field: "page_token", "is not a token from a previous page") }
        self.init(openedAt: Date(timeIntervalSince1970: Double(micros) / 1_000_000), id: id)
    }

    var token: String {
        let micros = Int64((openedAt.timeIntervalSince1970 * 1_000_000).rounded())
        return Data("\(micros)|\(id.uuidString)".utf8).base64EncodedString()
    }
}
