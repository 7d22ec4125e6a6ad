import Foundation
import PinganAccess
import PinganDomain
import PinganPostgres

/// Where the departments a centre may summon (中心吹哨、部门报到) are registered.
protocol DepartmentStore: Sendable {
    /// Registers a department, or answers the one registered before with the same centre, name
    /// and key; ``CaseStoreError/duplicateDepartment(_:)`` names the department that holds the
    /// name or the key otherwise.
    func registerDepartment(centre: DivisionCode, name: String, apiKeyName: String) async throws -> Department
    /// Departments registered at `root` and the centres below it, oldest first, after `cursor`.
    func departments(under root: DivisionCode, after cursor: PageCursor?, limit: Int) async throws -> [(department: Department, cursor: PageCursor)]
    func departments(_ ids: [UUID]) async throws -> [Department]
    /// The department a gateway principal acts for, by its API key's subject.
    func department(subject: String) async throws -> Department?
}

/// Departments in schema `dispute`.
struct PostgresDepartmentStore: DepartmentStore {
    let pool: PostgresPool

    func registerDepartment(centre: DivisionCode, name: String, apiKeyName: String) async throws -> Department {
        let department = Department(id: UUID.random(), centre: centre, name: name, apiKeyName: apiKeyName)
        do {
            try await pool.query(
                "INSERT INTO dispute.departments (id, centre_code, name, api_key_name) VALUES ($1, $2, $3, $4)",
                [department.id, centre.rawValue, name, apiKeyName]
            )
        } catch let error as PostgresError where error.isUniqueViolation {
            let holders = try await pool.query(
                "SELECT id, centre_code, name, api_key_name FROM dispute.departments WHERE (centre_code = $1 AND name = $2) OR api_key_name = $3",
                [centre.rawValue, name, apiKeyName]
            ).map(CaseRows.decodeDepartment)
            if let same = holders.first(where: { $0.centre == centre && $0.name == name && $0.apiKeyName == apiKeyName }) { return same }
            throw CaseStoreError.duplicateDepartment(holders.first?.id)
        }
        return department
    }

    func departments(under root: DivisionCode, after cursor: PageCursor?, limit: Int) async throws -> [(department: Department, cursor: PageCursor)] {
        try await pool.query(
            """
            SELECT id, centre_code, name, api_key_name, created_at FROM dispute.departments
            WHERE centre_code BETWEEN $1 AND $2 AND ($3::timestamptz IS NULL OR (created_at, id) > ($3, $4))
            ORDER BY created_at, id LIMIT $5
            """,
            [root.rawValue, root.lastInSubtree, cursor?.time, cursor?.id, limit]
        ).map { row in
            let department = try CaseRows.decodeDepartment(row)
            return (department, PageCursor(time: try row.decode(Date.self, at: 4), id: department.id))
        }
    }

    func departments(_ ids: [UUID]) async throws -> [Department] {
        try await pool.query(
            "SELECT id, centre_code, name, api_key_name FROM dispute.departments WHERE id = ANY($1::uuid[])", [ids.map(\.wire)]
        ).map(CaseRows.decodeDepartment)
    }

    func department(subject: String) async throws -> Department? {
        guard subject.hasPrefix(Department.subjectPrefix) else { return nil }
        return try await pool.query(
            "SELECT id, centre_code, name, api_key_name FROM dispute.departments WHERE api_key_name = $1", [String(subject.dropFirst(Department.subjectPrefix.count))]
        ).first.map(CaseRows.decodeDepartment)
    }
}
