import Foundation
import PinganAccess
import PinganDomain
import PinganConnect
import PinganContracts

/// `pingan.gateway.v1.AuthService`.
struct AuthServiceHandler: Sendable {
    let accounts: Accounts
    let tokens: TokenSigner
    let lifetime: TimeInterval
    let throttle: SignInThrottle
    let access: AccessLog

    func register(into routes: inout ConnectRoutes) {
        routes.register(AuthServiceMethods.login) { try await signIn($0, $1) }
    }

    /// Signs in and writes the attempt to the access log, whichever door it came through
    /// (`AuthService/Login` or the dashboard's form).
    func signIn(_ request: Pingan_Gateway_V1_LoginRequest, _ context: ConnectContext) async throws -> Pingan_Gateway_V1_LoginResponse {
        let started = ContinuousClock.now
        let subject = "user:" + AccessLog.printable(String(request.username.prefix(64)))
        do {
            let response = try await login(request, context)
            access.record(AuthServiceMethods.login.path, subject: subject, centre: response.centreCode, error: nil, rule: "password",
                          peer: context.peer, started: started)
            return response
        } catch {
            access.record(AuthServiceMethods.login.path, subject: subject, centre: "", error: error, rule: "password",
                          peer: context.peer, started: started)
            throw error
        }
    }

    func login(_ request: Pingan_Gateway_V1_LoginRequest, _ context: ConnectContext) async throws -> Pingan_Gateway_V1_LoginResponse {
        let username = try String.field(request.username, "username", upTo: 64)
        guard !request.password.isEmpty else { throw ConnectError.invalidArgument(field: "password", "is required") }
        let admission = try throttle.admit(account: username, address: context.peer)
        let found = try await throttle.checking(admission) {
            request.password.utf8.count <= 72 ? try await accounts.signIn(username: username, password: request.password) : .wrong
        }
        guard case .signedIn(let centre, let roles) = found else {
            throttle.failed(account: username, address: context.peer)
            // Printable only: a name with line breaks must not forge log lines.
            context.logger.notice("failed login", metadata: ["username": "\(AccessLog.printable(username))", "disabled": "\(found == .disabled)"])
            throw found == .disabled
                ? ConnectError(.unauthenticated, "this account is disabled; ask your centre's administrator")
                : ConnectError(.unauthenticated, "wrong username or password")
        }
        let account = (centre: centre, roles: roles)
        throttle.succeeded(account: username)
        let expires = Date().addingTimeInterval(lifetime)
        let principal = Principal(subject: "user:\(username)", centre: account.centre, roles: account.roles, expiresAt: expires)
        var response = Pingan_Gateway_V1_LoginResponse()
        response.token = tokens.sign(principal)
        response.centreCode = account.centre.rawValue
        response.roles = account.roles.map(\.rawValue).sorted()
        response.expiresAt = expires.wireTimestamp
        return response
    }
}
