import Foundation
import PinganAccess
import PinganConnect
import PinganDomain

/// A person who signs in for a department (a clerk of the police station, the judicial
/// office): a user with the role `department` whose account names the department's API key.
///
/// Dispute-service knows a department by its key (`apikey:<name>`, ``Forwarder/actingForDepartment(_:)``),
/// so such a person's calls carry that identity and the role `department` alone: they see
/// and answer exactly the summons and cases the department's own system does, and nothing a
/// centre's staff sees. The rules here keep an account from being half one and half the other.
enum DepartmentPerson {
    /// The key a create request names, or `nil` for a person of no department. The role
    /// `department` needs a key (without one its holder would be refused everywhere), and a
    /// key needs that role and no other (a department's person is not also centre staff).
    static func keyName(_ text: String, roles: Set<Role>) throws -> String? {
        let name = text.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else {
            guard !roles.contains(.department) else {
                throw ConnectError.invalidArgument(field: "department_key", "is required with the role department: the name of the department's API key")
            }
            return nil
        }
        try requireOnlyRole(roles)
        return try AccountAdminRule.accountName(name, field: "department_key")
    }

    /// A person of a department holds the role `department` and no other.
    static func requireOnlyRole(_ roles: Set<Role>) throws {
        guard roles == [.department] else {
            throw ConnectError.invalidArgument(field: "roles", "a person of a department holds the role department and no other")
        }
    }

    /// The named key exists in the administrator's subtree, is valid, is a department's and
    /// stands at the person's centre.
    static func requireUsable(_ key: APIKeyRecord?, named name: String, at centre: DivisionCode) throws {
        guard let key else { throw ConnectError(.notFound, "department_key: API key \(name) not found") }
        guard key.revokedAt == nil else { throw ConnectError.invalidArgument(field: "department_key", "API key \(name) is revoked") }
        guard key.roles.contains(Role.department.rawValue) else {
            throw ConnectError.invalidArgument(field: "department_key", "API key \(name) is not a department's (it lacks the role department)")
        }
        guard key.centre == centre else {
            throw ConnectError.invalidArgument(field: "department_key", "API key \(name) is at centre \(key.centre); the person must be at the same centre")
        }
    }
}
