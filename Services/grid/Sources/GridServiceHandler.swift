import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganPostgres

/// `pingan.grid.v1.GridService`: one method per RPC, named as in the `.proto`.
struct GridServiceHandler: Sendable {
    let store: GridStore
    let jurisdiction: Jurisdiction

    func register(into routes: inout ConnectRoutes) {
        routes.register(GridServiceMethods.createGrid) { try await createGrid($0, $1) }
        routes.register(GridServiceMethods.addGridMember) { try await addGridMember($0, $1) }
        routes.register(GridServiceMethods.reportIncident) { try await reportIncident($0, $1) }
        routes.register(GridServiceMethods.countIncidents) { try await countIncidents($0, $1) }
    }

    func createGrid(_ request: Pingan_Grid_V1_CreateGridRequest, _ context: ConnectContext) async throws -> Pingan_Grid_V1_CreateGridResponse {
        let principal = try jurisdiction.principal(context, anyOf: [.admin, .staff])
        let village = try DivisionCode.field(request.villageCode, "village_code")
        guard village.level == .village else { throw ConnectError.invalidArgument(field: "village_code", "\(village) is a \(village.level.rawValue), not a village") }
        try principal.require(village, field: "village_code")
        let name = request.name.trimmingCharacters(in: .whitespaces)
        guard (1...100).contains(name.count) else { throw ConnectError.invalidArgument(field: "name", "must be 1 to 100 characters") }
        guard try await store.divisionExists(village) else {
            throw ConnectError(.failedPrecondition, "village \(village) is not registered; import it with DivisionService/ImportDivisions first")
        }
        var response = Pingan_Grid_V1_CreateGridResponse()
        do {
            response.grid = try await store.createGrid(village: village, name: name)
        } catch let error as PostgresError where error.isUniqueViolation {
            throw ConnectError(.alreadyExists, "village \(village) already has a grid named \(name)")
        }
        return response
    }

    func addGridMember(_ request: Pingan_Grid_V1_AddGridMemberRequest, _ context: ConnectContext) async throws -> Pingan_Grid_V1_AddGridMemberResponse {
        let principal = try jurisdiction.principal(context, anyOf: [.admin, .staff])
        let gridID = try UUID.field(request.gridID, "grid_id")
        let name = request.name.trimmingCharacters(in: .whitespaces)
        guard (1...50).contains(name.count) else { throw ConnectError.invalidArgument(field: "name", "must be 1 to 50 characters") }
        guard let role = request.role.storedName else { throw ConnectError.invalidArgument(field: "role", "is required") }
        try await requireGrid(gridID, visibleTo: principal)
        var response = Pingan_Grid_V1_AddGridMemberResponse()
        response.member.id = try await store.addMember(grid: gridID, name: name, role: role).uuidString
        response.member.gridID = gridID.uuidString
        response.member.name = Masking.name(name)
        response.member.role = request.role
        return response
    }

    func reportIncident(_ request: Pingan_Grid_V1_ReportIncidentRequest, _ context: ConnectContext) async throws -> Pingan_Grid_V1_ReportIncidentResponse {
        let principal = try jurisdiction.principal(context, anyOf: [.gridWorker, .staff])
        let report = try IncidentReport(validating: request)
        let village = try await requireGrid(report.gridID, visibleTo: principal)
        guard try await store.isMember(report.reporterID, of: report.gridID) else {
            throw ConnectError.invalidArgument(field: "reporter_member_id", "is not a member of grid \(report.gridID)")
        }
        var response = Pingan_Grid_V1_ReportIncidentResponse()
        response.incident = try await store.report(report, village: village)
        context.logger.info("incident reported", metadata: ["incident": "\(response.incident.id)", "village": "\(village)"])
        return response
    }

    func countIncidents(_ request: Pingan_Grid_V1_CountIncidentsRequest, _ context: ConnectContext) async throws -> Pingan_Grid_V1_CountIncidentsResponse {
        let (root, month) = try jurisdiction.factsScope(context, rootCode: request.rootCode, month: request.month)
        var response = Pingan_Grid_V1_CountIncidentsResponse()
        response.counts = try await store.countIncidents(under: root, in: month)
        return response
    }

    /// The grid's village; a grid outside the caller's jurisdiction is `not_found`, exactly
    /// like one that does not exist, so nothing leaks about other centres' grids.
    @discardableResult
    private func requireGrid(_ id: UUID, visibleTo principal: Principal) async throws -> DivisionCode {
        guard let village = try await store.village(ofGrid: id), principal.covers(village) else {
            throw ConnectError(.notFound, "grid \(id) not found")
        }
        return village
    }
}
