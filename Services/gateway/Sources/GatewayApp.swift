import Foundation
import Hummingbird
import PinganAccess
import PinganDomain
import PinganConnect
import PinganContracts
import PinganRuntime

/// The gateway's settings: the common ones and its own.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `GATEWAY_CENTRE` | `ROOT_DIVISION` | the centre this gateway serves; callers act within its subtree only |
/// | `TOKEN_SECRET` | (required) | HMAC key of the bearer tokens it issues, 32+ bytes, not `MESH_SECRET` |
/// | `TOKEN_SECRET_PREVIOUS` | (none) | the token key before a rotation: tokens it signed are accepted until they expire |
/// | `TOKEN_TTL_SECONDS` | `3600` | token lifetime |
/// | `BCRYPT_COST` | `11` | bcrypt work factor for stored passwords |
/// | `TRUSTED_PROXIES` | (none) | comma-separated IP addresses and CIDR ranges of the proxies in front (an ingress); only their `X-Forwarded-For` names the client |
/// | `ACCESS_LOG_RETENTION_DAYS` | `180` | days the access log is kept (180 to 3650); older months' partitions are detached and dropped (``AccessLogRetention``) |
/// | `ACCESS_LOG_SPOOL` | `$TMPDIR/pingan-gateway-<PORT>` | the directory, on a disk of its own that outlives the process, where calls' access-log entries wait for the database (``AccessSpool``); one gateway per directory |
public struct GatewaySettings: Sendable {
    public var service: ServiceSettings
    public var centre: DivisionCode
    public var tokenSecret: String
    public var previousTokenSecrets: [String] = []
    public var tokenLifetime: TimeInterval
    public var bcryptCost: UInt8
    /// Whose `X-Forwarded-For` names the client, for sign-in throttling and the access log.
    /// None by default: behind an ingress every caller then shares its address, which the
    /// throttle allows for (``SignInRule``) but the access log cannot tell apart.
    public var trustedProxies = TrustedProxies()
    /// How long `gateway.access_log` is kept (``AccessLogPartitions``).
    public var accessLogRetention = AccessLogRetention.default
    /// Where calls' access-log entries wait for the database (``AccessSpool``). A gateway
    /// restarted on the same directory writes what its predecessor left there; built in code,
    /// each gateway has a new one of its own.
    public var accessLogSpool = FileManager.default.temporaryDirectory.appendingPathComponent("pingan-gateway-\(UUID().uuidString.lowercased())")

    public init(service: ServiceSettings, centre: DivisionCode? = nil, tokenSecret: String, tokenLifetime: TimeInterval = 3600, bcryptCost: UInt8 = 11) {
        self.service = service
        self.centre = centre ?? service.mesh.root
        self.tokenSecret = tokenSecret
        self.tokenLifetime = tokenLifetime
        self.bcryptCost = bcryptCost
    }

    public init(_ reader: SettingsReader) throws(ConfigurationError) {
        let service = try ServiceSettings(reader, for: .gateway)
        var centre = service.mesh.root
        if let text = reader.string("GATEWAY_CENTRE") {
            do {
                centre = try DivisionCode(validating: text)
            } catch {
                throw ConfigurationError(variable: "GATEWAY_CENTRE", problem: error.description)
            }
        }
        let tokenSecret = try reader.secret("TOKEN_SECRET", purpose: "signs the bearer tokens the gateway issues")
        var previous: [String] = []
        if reader.string("TOKEN_SECRET_PREVIOUS", isSecret: true) != nil {
            previous = [try reader.secret("TOKEN_SECRET_PREVIOUS", purpose: "the token key before a rotation, still accepted")]
        }
        // With one key, a user's bearer token would be signed like a mesh principal; the
        // audience in every token refuses it anyway, and the keys are kept apart besides.
        let meshKeys = Set([service.mesh.meshSecret] + service.mesh.previousMeshSecrets)
        guard meshKeys.isDisjoint(with: [tokenSecret] + previous) else {
            throw ConfigurationError(variable: "TOKEN_SECRET", problem: "must differ from MESH_SECRET (and the previous keys of each from the other)")
        }
        self.init(
            service: service, centre: centre, tokenSecret: tokenSecret,
            tokenLifetime: TimeInterval(try reader.integer("TOKEN_TTL_SECONDS", in: 60...86_400) ?? 3600),
            bcryptCost: UInt8(try reader.integer("BCRYPT_COST", in: 4...16) ?? 11)
        )
        previousTokenSecrets = previous
        accessLogRetention = AccessLogRetention(
            days: try reader.integer("ACCESS_LOG_RETENTION_DAYS", in: AccessLogRetention.minimumDays...3650) ?? AccessLogRetention.defaultDays
        )
        accessLogSpool = reader.string("ACCESS_LOG_SPOOL").map { URL(fileURLWithPath: $0, isDirectory: true) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("pingan-gateway-\(service.port)")
        do {
            trustedProxies = try TrustedProxies(parsing: reader.string("TRUSTED_PROXIES") ?? "")
        } catch {
            throw ConfigurationError(variable: "TRUSTED_PROXIES", problem: error.description)
        }
    }
}

/// Assembles the gateway: schema `gateway` (users, API keys), `pingan.gateway.v1.AuthService`
/// and `AdminService`, and every other service's methods forwarded with a signed principal.
public enum GatewayApp {
    /// - Parameter now: the time of day, for sign-in throttling; tests pass a clock they control.
    public static func build(
        settings: GatewaySettings, now: @escaping @Sendable () -> Date = { Date() },
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let host = ServiceHost(.gateway, settings: settings.service, migrator: GatewayMigrations.migrator)
        let tokens = try TokenSigner(secret: settings.tokenSecret, previous: settings.previousTokenSecrets, audience: .gateway)
        let spool: AccessSpool
        do {
            spool = try AccessSpool(directory: settings.accessLogSpool)
        } catch {
            throw ConfigurationError(variable: "ACCESS_LOG_SPOOL", problem: error.description)
        }
        let access = AccessLog(pool: host.pool, logger: host.logger, spool: spool)
        // Entries are stamped with the real time (not `now`), so their partitions follow it too.
        let accessPartitions = AccessLogPartitions(pool: host.pool, retention: settings.accessLogRetention)
        let store = PostgresAccountStore(pool: host.pool)
        let accounts = Accounts(store: store, bcryptCost: settings.bcryptCost)
        let sessions = SessionRevocations(pool: host.pool, logger: host.logger, tokenLifetime: settings.tokenLifetime)
        let transport = CurlTransport()
        var peers: [MeshService: ConnectClient] = [:]
        for peer in MeshService.peers {
            peers[peer] = ConnectClient(baseURL: settings.service.mesh.url(peer), transport: transport)
        }
        let forwarder = Forwarder(
            accounts: accounts, tokens: tokens, sessions: sessions, verifier: try PrincipalVerifier(meshSecret: settings.service.mesh.meshSecret, previous: settings.service.mesh.previousMeshSecrets),
            centre: settings.centre, peers: peers, access: access
        )
        var routes = ConnectRoutes()
        let auth = AuthServiceHandler(
            accounts: accounts, tokens: tokens, lifetime: settings.tokenLifetime, throttle: SignInThrottle(now: now), access: access
        )
        auth.register(into: &routes)
        let admin = AdminServiceHandler(accounts: accounts, store: store, sessions: sessions, forwarder: forwarder, access: access)
        admin.register(into: &routes)
        let residents = ResidentDesk(
            forwarder: forwarder, codes: ResidentCodes(pool: host.pool),
            sessions: try TokenSigner(secret: settings.tokenSecret, previous: settings.previousTokenSecrets, audience: .resident), now: now
        )
        let dashboard = Dashboard(forwarder: forwarder, tokens: tokens, auth: auth, admin: admin, residents: residents, now: now)
        routes.fallback { try await forwarder.forward($0, $1, $2) }
        // Nothing of a body is read for a caller without credentials; signing in and the
        // health check are small. A refusal here is logged like any other call.
        routes.admit { path, headers, peer in
            if path == AuthServiceMethods.login.path || path == HealthMethods.check.path { return 4096 }
            let started = ContinuousClock.now
            do {
                try forwarder.admit(headers)
            } catch {
                access.record(path, subject: "", centre: "", error: error, rule: "admission", peer: peer, started: started)
                throw error
            }
            return nil
        }
        return host.application(
            routes: routes, services: [access, sessions, accessPartitions.hourly(now: { Date() }, logger: host.logger)], pages: dashboard.responder(),
            trustedProxies: settings.trustedProxies, beforeServing: { await accessPartitions.keepAtStart(now: Date(), logger: host.logger) },
            onServerRunning: onServerRunning
        )
    }

    /// Runs `body` with the gateway's accounts on a migrated database, for the command line.
    public static func withAccounts<R>(settings: GatewaySettings, _ body: (Accounts) async throws -> R) async throws -> R {
        try await ServiceHost(.gateway, settings: settings.service, migrator: GatewayMigrations.migrator).onMigratedDatabase { pool in
            try await body(Accounts(store: PostgresAccountStore(pool: pool), bcryptCost: settings.bcryptCost))
        }
    }
}
