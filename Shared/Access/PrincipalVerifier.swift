import Foundation
import PinganConnect
import PinganContracts
import PinganDomain

/// The header that carries a signed ``Principal`` from the gateway to a service.
public enum PrincipalHeader {
    public static let name = "Pingan-Principal"
}

/// Verifies the signed principal on each call and refuses callers without the roles a
/// method needs, with the Connect errors callers should see.
public struct PrincipalVerifier: Sendable {
    let signer: TokenSigner

    /// - Parameter previous: the mesh key before a rotation, still accepted until every
    ///   service has the new one.
    public init(meshSecret: String, previous: [String] = []) throws(AccessError) {
        signer = try TokenSigner(secret: meshSecret, previous: previous, audience: .mesh)
    }

    /// The verified caller, or `unauthenticated`.
    public func principal(_ context: ConnectContext) throws -> Principal {
        guard let header = context.header(PrincipalHeader.name) else {
            throw ConnectError(.unauthenticated, "this service is reached through the gateway")
        }
        do {
            return try signer.verify(header)
        } catch {
            throw ConnectError(.unauthenticated, "the forwarded principal is not valid: \(error)")
        }
    }

    /// The caller, who must hold one of `roles` (or be a service).
    public func principal(_ context: ConnectContext, anyOf roles: Set<Role>) throws -> Principal {
        let principal = try principal(context)
        guard principal.has(.system) || !principal.roles.isDisjoint(with: roles) else {
            throw ConnectError(.permissionDenied, "this needs one of the roles \(roles.map(\.rawValue).sorted().joined(separator: ", "))")
        }
        return principal
    }

    /// The caller, who must be allowed `method` by ``MethodRoles``: `permission_denied` for
    /// anyone else, and for every method the table does not list.
    public func principal<Input, Output>(_ context: ConnectContext, for method: ConnectMethod<Input, Output>) throws -> Principal {
        switch MethodRoles.rules[method.path] {
        case .anyOf(let roles)?: return try principal(context, anyOf: roles)
        case .system?: return try system(context)
        case .public?, .signIn?, nil:
            throw ConnectError(.permissionDenied, "no principal is checked for \(method.path)")
        }
    }

    /// Services only: event deliveries between services.
    public func system(_ context: ConnectContext) throws -> Principal {
        let principal = try principal(context)
        guard principal.has(.system) else { throw ConnectError(.permissionDenied, "this method is internal to the mesh") }
        return principal
    }

    /// Checks a monthly-facts request (the index's questions to grid, dispute and risk): a
    /// leader, staff or the mesh itself, asking about a subtree it covers, for a valid month.
    public func factsScope<Input, Output>(
        _ context: ConnectContext, for method: ConnectMethod<Input, Output>, rootCode: String, month: String
    ) throws -> (root: DivisionCode, month: Month) {
        let principal = try principal(context, for: method)
        let root = try DivisionCode.field(rootCode, "root_code")
        let parsed = try Month.field(month, "month")
        try principal.require(root, field: "root_code")
        return (root, parsed)
    }

    /// The header to attach when calling another service as `principal`.
    public func header(for principal: Principal) -> (String, String) {
        (PrincipalHeader.name, signer.sign(principal))
    }
}

extension Principal {
    /// Refuses a division named in a request that lies outside the caller's jurisdiction.
    /// The caller named the division itself, so saying it is outside leaks nothing new.
    public func require(_ code: DivisionCode, field: String) throws {
        guard covers(code) else {
            throw ConnectError(.permissionDenied, "\(field): \(code) is outside the jurisdiction of centre \(centre)")
        }
    }

    /// The record, if it exists inside the caller's jurisdiction; otherwise `not_found` with
    /// the same message whether it is missing or elsewhere, so its existence does not leak.
    /// This is the one check every service makes before showing or changing a record.
    ///
    /// - Parameters:
    ///   - record: the record as found, or `nil` when there is none.
    ///   - place: where the record lies (a case's village, a warning's centre); `nil` for a
    ///     record that lies nowhere the caller could name, which no one may see.
    ///   - description: how the caller named it, such as `case 3f2a…`.
    public func visible<Record>(_ record: Record?, at place: (Record) -> DivisionCode?, _ description: String) throws -> Record {
        guard let record, let code = place(record), covers(code) else { throw ConnectError(.notFound, "\(description) not found") }
        return record
    }
}
