import Foundation
import HTTPTypes
import PinganAccess
import PinganDomain
import PinganConnect
import PinganContracts

/// The gateway's one door: authenticates each call, fixes the centre it may act for, and
/// forwards it unchanged to the service that owns the method, with a signed principal.
struct Forwarder: Sendable {
    let accounts: Accounts
    let tokens: TokenSigner
    /// People's tokens that ended early: a disabled user's, or from before a password reset.
    let sessions: SessionRevocations
    let verifier: PrincipalVerifier
    /// The centre this gateway is deployed for: it serves this subtree only.
    let centre: DivisionCode
    let peers: [MeshService: ConnectClient]
    let access: AccessLog

    /// Forwards one call and writes it to the access log, whatever its outcome.
    func forward(_ body: [UInt8], _ codec: ConnectCodec, _ context: ConnectContext) async throws -> [UInt8] {
        let started = ContinuousClock.now
        var subject = ""
        var centre = ""
        var rule = "not authenticated"
        func log(_ error: (any Error)?) {
            access.record(context.path, subject: subject, centre: centre, records: AccessLog.recordIDs(in: body, codec: codec),
                          error: error, rule: rule, peer: context.peer, started: started)
        }
        do {
            guard let client = peer(for: context.path) else {
                rule = "no such method"
                throw ConnectError(.unimplemented, "no method \(context.path)")
            }
            let (caller, logged) = try await identify(context)
            subject = logged
            rule = "outside gateway centre \(self.centre)"
            let (principal, why) = try scoped(caller)
            centre = principal.centre.rawValue
            rule = why
            var timeout = Duration.seconds(30)
            if let remaining = context.remaining { timeout = min(timeout, remaining) }
            let output = try await client.send(
                path: context.path, body: body, codec: codec, retry: false,
                options: CallOptions(timeout: timeout, headers: [verifier.header(for: principal)], trace: context.trace)
            )
            log(nil)
            return output
        } catch {
            log(error)
            throw error
        }
    }

    /// The service that owns the method at `path`, from the method table generated from the
    /// `.proto` files.
    private func peer(for path: String) -> ConnectClient? {
        MethodTable.byPath[path]?.owner.flatMap { peers[$0] }
    }

    /// Refuses, before the body is read, a call that carries no credentials or a bearer
    /// token that does not verify; an API key of the right shape is looked up once the call
    /// is read.
    func admit(_ headers: HTTPFields) throws {
        switch Credentials(headers) {
        case .bearer(let token):
            guard let principal = try? tokens.verify(token) else { throw Self.invalidToken }
            guard sessions.isCurrent(principal) else { throw Self.endedSession }
        case .otherScheme:
            throw Self.invalidToken
        case .apiKey(let key):
            guard Credentials.isWellFormed(apiKey: key) else { throw Self.invalidAPIKey }
        case .missing:
            throw Self.noCredentials
        }
    }

    /// The caller from `Authorization: Bearer` (people) or `X-Api-Key` (department systems).
    func authenticate(_ context: ConnectContext) async throws -> Principal {
        try await identify(context).principal
    }

    /// The caller as the services see them, and as the access log names them: a person of a
    /// department as `user:<name> as apikey:<key>`, so the log still says who it was.
    func identify(_ context: ConnectContext) async throws -> (principal: Principal, logged: String) {
        if case .bearer(let token) = Credentials(context.headers) {
            let person = try person(token)
            guard let acting = try await actingForDepartment(person) else { return (person, person.subject) }
            return (acting, "\(person.subject) as \(acting.subject)")
        }
        let caller = try await credentialed(context)
        return (caller, caller.subject)
    }

    /// A person of a department acts as their department: the principal the services get
    /// names the department's key (`apikey:<name>`) with the role `department` alone, exactly
    /// as the department system's own calls do, so dispute-service finds their summons and
    /// cases with no change of its own. `nil` for anyone else.
    ///
    /// The account is read on each call, as an API key is: a person moved off the department
    /// stops acting for it at once. Their session still ends early as any person's does
    /// (``SessionRevocations``), since the token itself stays the person's.
    func actingForDepartment(_ person: Principal) async throws -> Principal? {
        guard person.has(.department), person.subject.hasPrefix("user:") else { return nil }
        guard let key = try await accounts.store.user(String(person.subject.dropFirst(5)))?.departmentKey else { return nil }
        return Principal(subject: "apikey:\(key)", centre: person.centre, roles: [.department], expiresAt: person.expiresAt)
    }

    /// The caller from credentials other than a person's token: an API key.
    private func credentialed(_ context: ConnectContext) async throws -> Principal {
        switch Credentials(context.headers) {
        case .bearer(let token):
            return try person(token)
        case .otherScheme:
            throw ConnectError(.unauthenticated, "Authorization must be \"Bearer <token>\"")
        case .apiKey(let key):
            guard let account = try await accounts.apiKey(key) else { throw Self.invalidAPIKey }
            // Valid one to two minutes, ending on a whole minute: the same principal, and so
            // the same signed header, serves a department's calls for a minute, as a person's
            // token does for its session, instead of a new signature per call.
            let expires = (Date().timeIntervalSince1970 / 60).rounded(.down) * 60 + 120
            return Principal(subject: "apikey:\(account.name)", centre: account.centre, roles: account.roles,
                             expiresAt: Date(timeIntervalSince1970: expires))
        case .missing:
            throw Self.noCredentials
        }
    }

    /// The person a bearer token names, if it verifies and their session has not ended
    /// (``SessionRevocations``): the one check of a token, for calls and dashboard pages alike.
    func person(_ token: String, now: Date = Date()) throws -> Principal {
        let principal: Principal
        do {
            principal = try tokens.verify(token, now: now)
        } catch {
            throw ConnectError(.unauthenticated, "the token is not valid: \(error)")
        }
        guard sessions.isCurrent(principal) else { throw Self.endedSession }
        return principal
    }

    private static let endedSession = ConnectError(
        .unauthenticated, "the session has ended (the account was disabled, or its password or roles changed); sign in again"
    )
    private static let invalidToken = ConnectError(.unauthenticated, "the token is not valid; sign in again with AuthService/Login")
    private static let invalidAPIKey = ConnectError(.unauthenticated, "the API key is not valid")
    private static let noCredentials = ConnectError(
        .unauthenticated, "sign in with AuthService/Login and send Authorization: Bearer <token>, or send X-Api-Key"
    )

    /// The caller narrowed to this gateway's subtree. A caller whose centre lies elsewhere
    /// is refused; one above it (a city token at a county gateway) acts for this centre only.
    /// The `system` role is never passed on, so the services' event-delivery methods, which
    /// accept only that role, cannot be reached through the gateway.
    /// - Returns: the principal passed on, and the rule that allowed it, for the access log.
    func scoped(_ caller: Principal) throws -> (Principal, String) {
        var principal = caller
        principal.roles.remove(.system)
        if centre.contains(caller.centre) { return (principal, "centre \(caller.centre) within gateway centre \(centre)") }
        if caller.centre.contains(centre) {
            principal.centre = centre
            return (principal, "narrowed from centre \(caller.centre) to gateway centre \(centre)")
        }
        throw ConnectError(.permissionDenied, "this gateway serves centre \(centre); your centre \(caller.centre) is outside it")
    }
}
