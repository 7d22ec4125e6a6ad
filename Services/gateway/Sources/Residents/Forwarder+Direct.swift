import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain
import PinganOutbox

extension Forwarder {
    /// Calls `method` as `principal`, a caller the gateway itself vouches for: the public
    /// behind the Open311 door, or a resident whose one-time code or rating link the gateway
    /// checked. Logged to the access log as every forwarded call is.
    /// - Parameter event: for an event method called directly (a one-time code's text), the
    ///   id that makes a retry send nothing twice.
    func call<Input, Output>(
        _ method: ConnectMethod<Input, Output>, _ request: Input, as principal: Principal, peer: String?, event: UUID? = nil
    ) async throws -> Output {
        let started = ContinuousClock.now
        do {
            guard let client = MethodTable.byPath[method.path]?.owner.flatMap({ peers[$0] }) else {
                throw ConnectError(.unimplemented, "no method \(method.path)")
            }
            var headers = [verifier.header(for: principal)]
            if let event { headers.append((EventHeader.name, event.wire)) }
            let output = try await client.call(method, request, options: CallOptions(timeout: .seconds(15), headers: headers))
            access.record(method.path, subject: principal.subject, centre: principal.centre.rawValue, error: nil, rule: "vouched for by the gateway", peer: peer, started: started)
            return output
        } catch {
            access.record(method.path, subject: principal.subject, centre: principal.centre.rawValue, error: error, rule: "vouched for by the gateway", peer: peer, started: started)
            throw error
        }
    }

    /// The gateway's own principal for a call it makes on a resident's behalf, within its centre.
    func vouching(_ subject: String, roles: Set<Role>) -> Principal {
        Principal(subject: subject, centre: centre, roles: roles, expiresAt: Date().addingTimeInterval(120))
    }
}
