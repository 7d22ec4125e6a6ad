import Foundation
import PinganAccess
import PinganDomain
import PinganConnect
import PinganContracts
import PinganPostgres

/// `pingan.grid.v1.GridService`: one method per RPC, named as in the `.proto`.
struct GridServiceHandler: Sendable {
    static let maxPageSize = 200

    let store: any GridStore
    let verifier: PrincipalVerifier
    /// The time of day; tests pass a clock they control.
    let now: @Sendable () -> Date

    func register(into routes: inout ConnectRoutes) {
        routes.register(GridServiceMethods.createGrid) { try await createGrid($0, $1) }
        routes.register(GridServiceMethods.listGrids) { try await listGrids($0, $1) }
        routes.register(GridServiceMethods.addGridMember) { try await addGridMember($0, $1) }
        routes.register(GridServiceMethods.listGridMembers) { try await listGridMembers($0, $1) }
        routes.register(GridServiceMethods.reportIncident) { try await reportIncident($0, $1) }
        routes.register(GridServiceMethods.countIncidents) { try await countIncidents($0, $1) }
        routes.register(GridServiceMethods.recordScreening) { try await recordScreening($0, $1) }
        routes.register(GridServiceMethods.screeningFacts) { try await screeningFacts($0, $1) }
    }

    func createGrid(_ request: Pingan_Grid_V1_CreateGridRequest, _ context: ConnectContext) async throws -> Pingan_Grid_V1_CreateGridResponse {
        let principal = try verifier.principal(context, for: GridServiceMethods.createGrid)
        let village = try DivisionCode.field(request.villageCode, "village_code")
        guard village.level == .village else { throw ConnectError.invalidArgument(field: "village_code", "\(village) is a \(village.level.rawValue), not a village") }
        try principal.require(village, field: "village_code")
        let name = try String.field(request.name, "name", upTo: 100)
        guard try await store.divisionExists(village) else {
            throw ConnectError(.failedPrecondition, "village \(village) is not registered; import it with DivisionService/ImportDivisions first")
        }
        try GridAdmission.refuse(village, countyWithOwnPlatform: try await store.countyWithOwnPlatform(of: village))
        var response = Pingan_Grid_V1_CreateGridResponse()
        do {
            response.grid = try await store.createGrid(village: village, name: name, now: now(), key: try Self.key(request.requestID, principal)).wire
        } catch GridStoreError.duplicateGridName {
            throw ConnectError(.alreadyExists, "village \(village) already has a grid named \(name)")
        }
        return response
    }

    func listGrids(_ request: Pingan_Grid_V1_ListGridsRequest, _ context: ConnectContext) async throws -> Pingan_Grid_V1_ListGridsResponse {
        let principal = try verifier.principal(context, for: GridServiceMethods.listGrids)
        let centre = try DivisionCode.field(request.centreCode, "centre_code")
        try principal.require(centre, field: "centre_code")
        let limit = try PageSize.field(request.pageSize, default: 50, max: Self.maxPageSize)
        let rows = try await store.grids(under: centre, after: try PageCursor(token: request.pageToken), limit: limit + 1)
        var response = Pingan_Grid_V1_ListGridsResponse()
        let page = Page(rows, limit: limit, cursor: \.cursor)
        response.grids = page.items.map(\.grid.wire)
        response.nextPageToken = page.nextPageToken
        return response
    }

    func addGridMember(_ request: Pingan_Grid_V1_AddGridMemberRequest, _ context: ConnectContext) async throws -> Pingan_Grid_V1_AddGridMemberResponse {
        let principal = try verifier.principal(context, for: GridServiceMethods.addGridMember)
        let gridID = try UUID.field(request.gridID, "grid_id")
        let name = try String.field(request.name, "name", upTo: 50)
        guard let role = request.role.storedName else { throw ConnectError.invalidArgument(field: "role", "is required") }
        let village = try await requireGrid(gridID, visibleTo: principal)
        try GridAdmission.refuse(village, countyWithOwnPlatform: try await store.countyWithOwnPlatform(of: village))
        let id = try await store.addMember(grid: gridID, name: name, role: role, key: try Self.key(request.requestID, principal))
        var response = Pingan_Grid_V1_AddGridMemberResponse()
        response.member = GridMember(id: id, grid: gridID, name: name, role: request.role).wire
        return response
    }

    func listGridMembers(_ request: Pingan_Grid_V1_ListGridMembersRequest, _ context: ConnectContext) async throws -> Pingan_Grid_V1_ListGridMembersResponse {
        let principal = try verifier.principal(context, for: GridServiceMethods.listGridMembers)
        let gridID = try UUID.field(request.gridID, "grid_id")
        let limit = try PageSize.field(request.pageSize, default: 50, max: Self.maxPageSize)
        let cursor = try PageCursor(token: request.pageToken)
        try await requireGrid(gridID, visibleTo: principal)
        let page = Page(try await store.members(of: gridID, after: cursor, limit: limit + 1), limit: limit, cursor: \.cursor)
        var response = Pingan_Grid_V1_ListGridMembersResponse()
        response.members = page.items.map(\.member.wire)
        response.nextPageToken = page.nextPageToken
        return response
    }

    func reportIncident(_ request: Pingan_Grid_V1_ReportIncidentRequest, _ context: ConnectContext) async throws -> Pingan_Grid_V1_ReportIncidentResponse {
        let principal = try verifier.principal(context, for: GridServiceMethods.reportIncident)
        let report = try IncidentReport(validating: request)
        let incident = try await store.report(
            report, key: try Self.key(request.requestID, principal), filedBy: principal.subject, admission: GridAdmission(principal: principal)
        )
        var response = Pingan_Grid_V1_ReportIncidentResponse()
        response.incident = incident.wire
        return response
    }

    func countIncidents(_ request: Pingan_Grid_V1_CountIncidentsRequest, _ context: ConnectContext) async throws -> Pingan_Grid_V1_CountIncidentsResponse {
        let (root, month) = try verifier.factsScope(context, for: GridServiceMethods.countIncidents, rootCode: request.rootCode, month: request.month)
        var response = Pingan_Grid_V1_CountIncidentsResponse()
        response.counts = try await store.countIncidents(under: root, in: month).map { row in
            var count = Pingan_Grid_V1_VillageIncidentCount()
            count.villageCode = row.village
            count.incidents = Int32(row.incidents)
            return count
        }
        return response
    }

    /// A grid worker records the day's screening of their own grid; "nothing found" counts.
    func recordScreening(_ request: Pingan_Grid_V1_RecordScreeningRequest, _ context: ConnectContext) async throws -> Pingan_Grid_V1_RecordScreeningResponse {
        let principal = try verifier.principal(context, for: GridServiceMethods.recordScreening)
        let screening = try Screening(validating: request, now: now())
        let village = try await requireGrid(screening.gridID, member: screening.reporterID, visibleTo: principal)
        var response = Pingan_Grid_V1_RecordScreeningResponse()
        response.corrected = try await store.record(screening, village: village)
        response.screening = screening.wire(village: village)
        return response
    }

    func screeningFacts(_ request: Pingan_Grid_V1_ScreeningFactsRequest, _ context: ConnectContext) async throws -> Pingan_Grid_V1_ScreeningFactsResponse {
        let (root, month) = try verifier.factsScope(context, for: GridServiceMethods.screeningFacts, rootCode: request.rootCode, month: request.month)
        var response = Pingan_Grid_V1_ScreeningFactsResponse()
        response.facts = try await store.screeningFacts(under: root, in: month).map { row in
            var facts = Pingan_Grid_V1_VillageScreeningFacts()
            facts.villageCode = row.village
            facts.grids = Int32(row.grids)
            facts.gridDaysScreened = Int32(row.gridDaysScreened)
            facts.nothingFoundDays = Int32(row.nothingFoundDays)
            facts.householdsVisited = Int32(clamping: row.householdsVisited)
            facts.disputesFound = Int32(clamping: row.disputesFound)
            return facts
        }
        return response
    }

    /// The request's idempotency key, if it sent one.
    static func key(_ text: String, _ principal: Principal) throws -> RequestKey? {
        text.isEmpty ? nil : RequestKey(id: try UUID.field(text, "request_id"), subject: principal.subject)
    }

    /// The grid's village; a grid outside the caller's verifier is `not_found`, exactly
    /// like one that does not exist, so nothing leaks about other centres' grids.
    @discardableResult
    private func requireGrid(_ id: UUID, visibleTo principal: Principal) async throws -> DivisionCode {
        try principal.visible(try await store.village(ofGrid: id), at: { $0 }, "grid \(id.wire)")
    }

    /// The grid's village, once the caller may see the grid and `member` is one of its members:
    /// a report or a screening comes from a member of the grid it is about.
    private func requireGrid(_ id: UUID, member: UUID, visibleTo principal: Principal) async throws -> DivisionCode {
        try GridAdmission(principal: principal).admit(grid: id, try await store.village(ofGrid: id, member: member))
    }
}

extension Grid {
    /// The grid as a response carries it.
    var wire: Pingan_Grid_V1_Grid {
        var grid = Pingan_Grid_V1_Grid()
        grid.id = id.wire
        grid.villageCode = village.rawValue
        grid.name = name
        return grid
    }
}

extension Incident {
    /// The incident as a response carries it.
    var wire: Pingan_Grid_V1_Incident {
        let request = report.request
        var incident = Pingan_Grid_V1_Incident()
        incident.id = id.wire
        incident.gridID = report.gridID.wire
        incident.villageCode = village.rawValue
        incident.reporterMemberID = report.reporterID.wire
        incident.category = report.category
        incident.description_p = request.description_p
        incident.partyCount = Int32(request.parties.count)
        incident.threatOfViolence = request.threatOfViolence
        incident.threatOfSelfHarm = request.threatOfSelfHarm
        incident.repeatIncident = request.repeatIncident
        incident.priorPoliceCalls = request.priorPoliceCalls
        incident.reportedAt = reportedAt?.wireTimestamp ?? ""
        return incident
    }
}
