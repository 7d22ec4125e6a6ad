import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganOutbox
import PinganPostgres

/// Grids, members and incidents in schema `grid`.
struct GridStore: Sendable {
    static let incidentTopic = "incident.reported"

    let pool: PostgresPool
    let wakeup: OutboxWakeup

    /// The village a grid belongs to, or `nil` if there is no such grid.
    func village(ofGrid id: UUID) async throws -> DivisionCode? {
        let rows = try await pool.query("SELECT village_code FROM grid.grids WHERE id = $1", [id])
        return try rows.first.map { try DivisionCode(validating: try $0.decode(String.self, at: 0)) }
    }

    func divisionExists(_ code: DivisionCode) async throws -> Bool {
        try await !pool.query("SELECT 1 FROM grid.divisions WHERE code = $1", [code.rawValue]).isEmpty
    }

    func createGrid(village: DivisionCode, name: String) async throws -> Pingan_Grid_V1_Grid {
        let id = UUID()
        try await pool.query("INSERT INTO grid.grids (id, village_code, name) VALUES ($1, $2, $3)", [id, village.rawValue, name])
        var grid = Pingan_Grid_V1_Grid()
        grid.id = id.uuidString
        grid.villageCode = village.rawValue
        grid.name = name
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

    /// Stores the incident and, in the same transaction, the event that opens its case.
    func report(_ report: IncidentReport, village: DivisionCode) async throws -> Pingan_Grid_V1_Incident {
        let id = UUID()
        let request = report.request
        let reportedAt = try await pool.transaction { transaction in
            let rows = try await transaction.query(
                """
                INSERT INTO grid.incidents (id, grid_id, village_code, reporter_member_id, category, description,
                    party_count, threat_of_violence, threat_of_self_harm, repeat_incident, prior_police_calls)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                RETURNING reported_at
                """,
                [id, report.gridID, village.rawValue, report.reporterID, report.category.rawValue, request.description_p,
                 request.parties.count, request.threatOfViolence, request.threatOfSelfHarm, request.repeatIncident,
                 Int(request.priorPoliceCalls)]
            )
            var event = Pingan_Dispute_V1_OpenCaseRequest()
            event.incidentID = id.uuidString
            event.villageCode = village.rawValue
            event.category = report.category
            event.source = .gridReport
            event.description_p = request.description_p
            event.parties = request.parties
            event.threatOfViolence = request.threatOfViolence
            event.threatOfSelfHarm = request.threatOfSelfHarm
            event.repeatIncident = request.repeatIncident
            event.priorPoliceCalls = request.priorPoliceCalls
            try await Outbox.enqueue(transaction, schema: "grid", topic: Self.incidentTopic, event)
            return try rows[0].decode(Date.self, at: 0)
        }
        wakeup.signal()
        var incident = Pingan_Grid_V1_Incident()
        incident.id = id.uuidString
        incident.gridID = report.gridID.uuidString
        incident.villageCode = village.rawValue
        incident.reporterMemberID = report.reporterID.uuidString
        incident.category = report.category
        incident.description_p = request.description_p
        incident.partyCount = Int32(request.parties.count)
        incident.threatOfViolence = request.threatOfViolence
        incident.threatOfSelfHarm = request.threatOfSelfHarm
        incident.repeatIncident = request.repeatIncident
        incident.priorPoliceCalls = request.priorPoliceCalls
        incident.reportedAt = reportedAt.wireTimestamp
        return incident
    }

    /// Incidents per village under `root` reported during `month`.
    func countIncidents(under root: DivisionCode, in month: Month) async throws -> [Pingan_Grid_V1_VillageIncidentCount] {
        let (start, end) = month.range
        let rows = try await pool.query(
            """
            SELECT village_code, count(*) FROM grid.incidents
            WHERE village_code BETWEEN $1 AND $2 AND reported_at >= $3 AND reported_at < $4
            GROUP BY village_code ORDER BY village_code
            """,
            [root.rawValue, root.lastInSubtree, start, end]
        )
        return try rows.map { row in
            var count = Pingan_Grid_V1_VillageIncidentCount()
            count.villageCode = try row.decode(String.self, at: 0)
            count.incidents = Int32(try row.decode(Int.self, at: 1))
            return count
        }
    }
}
