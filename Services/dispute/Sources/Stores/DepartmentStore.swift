import Foundation
import PinganDomain
import PinganPostgres

/// Where the departments a centre may summon (中心吹哨、部门报到) are registered.
protocol DepartmentStore: Sendable {
    /// Registers a department; ``CaseStoreError/duplicateDepartment`` when the name or key is taken.
    func registerDepartment(centre: DivisionCode, name: String, apiKeyName: String) async throws -> Department
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
            throw CaseStoreError.duplicateDepartment
        }
        return department
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
