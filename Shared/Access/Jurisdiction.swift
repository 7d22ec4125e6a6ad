import Foundation
import PinganConnect

/// The header that carries a signed ``Principal`` from the gateway to a service.
public enum PrincipalHeader {
    public static let name = "Pingan-Principal"
}

/// Verifies the principal on each call and answers jurisdiction questions with the
/// Connect errors callers should see.
public struct Jurisdiction: Sendable {
    let signer: TokenSigner

    public init(meshSecret: String) throws(AccessError) {
        signer = try TokenSigner(secret: meshSecret)
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

    /// Services only: event deliveries between services.
    public func system(_ context: ConnectContext) throws -> Principal {
        let principal = try principal(context)
        guard principal.has(.system) else { throw ConnectError(.permissionDenied, "this method is internal to the mesh") }
        return principal
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
}

extension DivisionCode {
    /// Parses a division code from a request field, or `invalid_argument` naming it.
    public static func field(_ text: String, _ field: String) throws -> DivisionCode {
        guard !text.isEmpty else { throw ConnectError.invalidArgument(field: field, "is required") }
        do {
            return try DivisionCode(validating: text)
        } catch {
            throw ConnectError.invalidArgument(field: field, error.description)
        }
    }
}

extension UUID {
    /// Parses an id from a request field, or `invalid_argument` naming it.
    public static func field(_ text: String, _ field: String) throws -> UUID {
        guard !text.isEmpty else { throw ConnectError.invalidArgument(field: field, "is required") }
        guard let id = UUID(uuidString: text) else { throw ConnectError.invalidArgument(field: field, "is not a UUID") }
        return id
    }
}
