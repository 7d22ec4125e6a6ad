import Foundation
import Hummingbird
import PinganAccess
import PinganConnect
import PinganPostgres

/// The gateway's own settings, besides the common ones and the mesh's.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `GATEWAY_CENTRE` | `ROOT_DIVISION` | the centre this gateway serves; callers act within its subtree only |
/// | `TOKEN_SECRET` | (required) | HMAC key of the bearer tokens it issues, 32+ bytes |
/// | `TOKEN_TTL_SECONDS` | `3600` | token lifetime |
/// | `BCRYPT_COST` | `11` | bcrypt work factor for stored passwords |
public struct GatewaySettings: Sendable {
    public var centre: DivisionCode
    public var tokenSecret: String
    public var tokenLifetime: TimeInterval
    public var bcryptCost: UInt8

    public init(centre: DivisionCode, tokenSecret: String, tokenLifetime: TimeInterval = 3600, bcryptCost: UInt8 = 11) {
        self.centre = centre
        self.tokenSecret = tokenSecret
        self.tokenLifetime = tokenLifetime
        self.bcryptCost = bcryptCost
    }

    public static func fromEnvironment(mesh: MeshConfiguration, _ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> GatewaySettings {
        let reader = EnvironmentReader(environment)
        var centre = mesh.root
        if let text = reader.string("GATEWAY_CENTRE") {
            do {
                centre = try DivisionCode(validating: text)
            } catch {
                throw ConfigurationError(variable: "GATEWAY_CENTRE", problem: error.description)
            }
        }
        guard let secret = reader.string("TOKEN_SECRET"), secret.utf8.count >= 32 else {
            throw ConfigurationError(variable: "TOKEN_SECRET", problem: "must be set to at least 32 bytes")
        }
        return GatewaySettings(
            centre: centre, tokenSecret: secret,
            tokenLifetime: TimeInterval(try reader.integer("TOKEN_TTL_SECONDS", in: 60...86_400) ?? 3600),
            bcryptCost: UInt8(try reader.integer("BCRYPT_COST", in: 4...16) ?? 11)
        )
    }
}

/// Assembles the gateway: schema `gateway` (users, API keys), `pingan.gateway.v1.AuthService`,
/// and every other service's methods forwarded with a signed principal.
public enum GatewayApp {
    public static let name = "gateway"
    public static let defaultPort = 8080

    public static func build(
        configuration: ServiceConfiguration, mesh: MeshConfiguration, settings: GatewaySettings,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let host = ServiceHost(name: name, configuration: configuration, migrator: GatewayMigrations.migrator)
        let tokens = try TokenSigner(secret: settings.tokenSecret)
        let accounts = Accounts(pool: host.pool, bcryptCost: settings.bcryptCost)
        let transport = CurlTransport()
        var peers: [String: ConnectClient] = [:]
        for peer in MeshConfiguration.Peer.allCases {
            peers[peer.rawValue] = ConnectClient(baseURL: mesh.url(peer), transport: transport)
        }
        let forwarder = Forwarder(
            accounts: accounts, tokens: tokens, jurisdiction: try Jurisdiction(meshSecret: mesh.meshSecret),
            centre: settings.centre, peers: peers
        )
        var routes = ConnectRoutes()
        AuthServiceHandler(accounts: accounts, tokens: tokens, lifetime: settings.tokenLifetime).register(into: &routes)
        routes.fallback { try await forwarder.forward($0, $1, $2) }
        return host.application(routes: routes, onServerRunning: onServerRunning)
    }

    /// Runs `body` with the gateway's accounts on a migrated database, for the command line.
    public static func withAccounts<R>(
        configuration: ServiceConfiguration, bcryptCost: UInt8, _ body: (Accounts) async throws -> R
    ) async throws -> R {
        let host = ServiceHost(name: name, configuration: configuration, migrator: GatewayMigrations.migrator)
        try await host.migrator.migrate(host.pool, logger: host.logger)
        do {
            let result = try await body(Accounts(pool: host.pool, bcryptCost: bcryptCost))
            await host.pool.close()
            return result
        } catch {
            await host.pool.close()
            throw error
        }
    }
}
