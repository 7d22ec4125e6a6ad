import Foundation
import PinganContracts
import PinganDomain
import PinganOutbox
import PinganPostgres

/// Where grids, their members and their incidents live.
protocol GridStore: Sendable {
    /// The village a grid belongs to, or `nil` if there is no such grid.
    func village(ofGrid id: UUID) async throws -> DivisionCode?
    func divisionExists(_ code: DivisionCode) async throws -> Bool
    /// Creates a grid; ``GridStoreError/duplicateGridName`` when the village has one of that name.
    func createGrid(village: DivisionCode, name: String) async throws -> Grid
    func addMember(grid: UUID, name: String, role: String) async throws -> UUID
    func isMember(_ member: UUID, of grid: UUID) async throws -> Bool
    /// Stores the incident and, in the same transaction, the event that opens its case.
    func report(_ incident: Incident) async throws -> Incident
    /// Incidents per village under `root` reported during `month`.
    func countIncidents(under root: DivisionCode, in month: Month) async throws -> [(village: String, incidents: Int)]
}

/// Why the store refused a change.
enum GridStoreError: Error, Equatable {
    case duplicateGridName
}

/// Grids, members and incidents in schema `grid`.
struct PostgresGridStore: GridStore {
    let pool: PostgresPool
    let outbox: Outbox

    func village(ofGrid id: UUID) async throws -> DivisionCode? {
        let rows = try await pool.query("SELECT village_code FROM grid.grids WHERE id = $1", [id])
        return try rows.first.map { try DivisionCode(validating: try $0.decode(String.self, at: 0)) }
    }

    func divisionExists(_ code: DivisionCode) async throws -> Bool {
        try await !pool.query("SELECT 1 FROM grid.divisions WHERE code = $1", [code.rawValue]).isEmpty
    }

    func createGrid(village: DivisionCode, name: String) async throws -> Grid {
        let grid = Grid(id: UUID(), village: village, name: name)
        do {
            try await pool.query("INSERT INTO grid.grids (id, village_code, name) VALUES ($1, $2, $3)", [grid.id, village.rawValue, name])
        } catch let error as PostgresError where error.isUniqueViolation {
            throw GridStoreError.duplicateGridName
        }
        return grid
    }

    func addMember(grid: UUID, name: String, role: String) async throws -> UUID {
        let id = UUID()
        try await pool.query("INSERT INTO grid.members (id, grid_id, name, role) VALUES ($1, $2, $3, $4)", [id, grid, name, role])
        return id
    }

    func isMember(_ member: UUID, of grid: UUID) async throws -> Bool {
        try await !pool.query("SELECT 1 FROM grid.members WHERE id = $1 AND grid_id = $2", [member, grid]).isEmpty
    }

    func report(_ incident: Incident) async throws -> Incident {
        let report = incident.report
        let reportedAt = try await outbox.transaction(pool) { transaction in
            let rows = try await transaction.query(
                """
                INSERT INTO grid.incidents (id, grid_id, village_code, reporter_member_id, category, description,
                    party_count, threat_of_violence, threat_of_self_harm, repeat_incident, prior_police_calls)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                RETURNING reported_at
                """,
                [incident.id, report.gridID, incident.village.rawValue, report.reporterID, report.category.rawValue,
                 report.request.description_p, report.request.parties.count, report.request.threatOfViolence,
                 report.request.threatOfSelfHarm, report.request.repeatIncident, Int(report.request.priorPoliceCalls)]
            )
            try await outbox.enqueue(transaction, topic: IncidentEvents.reported, incident.openCaseEvent)
            return try rows[0].decode(Date.self, at: 0)
        }
        var stored = incident
        stored.reportedAt = reportedAt
        return stored
    }

    func countIncidents(under root: DivisionCode, in month: Month) async throws -> [(village: String, incidents: Int)] {
        let (start, end) = month.range
        return try await pool.query(
            """
            SELECT village_code, count(*) FROM grid.incidents
            WHERE village_code BETWEEN $1 AND $2 AND reported_at >= $3 AND reported_at < $4
            GROUP BY village_code ORDER BY village_code
            """,
            [root.rawValue, root.lastInSubtree, start, end]
        ).map { (try $0.decode(String.self, at: 0), try $0.decode(Int.self, at: 1)) }
    }
}
