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

    func register(into routes: inout ConnectRoutes) {
        routes.register(AuthServiceMethods.login) { try await login($0, $1) }
    }

    func login(_ request: Pingan_Gateway_V1_LoginRequest, _ context: ConnectContext) async throws -> Pingan_Gateway_V1_LoginResponse {
        guard !request.username.isEmpty else { throw ConnectError.invalidArgument(field: "username", "is required") }
        guard !request.password.isEmpty else { throw ConnectError.invalidArgument(field: "password", "is required") }
        guard request.password.utf8.count <= 72, request.username.count <= 64,
              let account = try await accounts.authenticate(username: request.username, password: request.password)
        else {
            context.logger.notice("failed login", metadata: ["username": "\(request.username.prefix(64))"])
            throw ConnectError(.unauthenticated, "wrong username or password")
        }
        let expires = Date().addingTimeInterval(lifetime)
        let principal = Principal(subject: "user:\(request.username)", centre: account.centre, roles: account.roles, expiresAt: expires)
        var response = Pingan_Gateway_V1_LoginResponse()
        response.token = tokens.sign(principal)
        response.centreCode = account.centre.rawValue
        response.roles = account.roles.map(\.rawValue).sorted()
        response.expiresAt = expires.wireTimestamp
        return response
    }
}
