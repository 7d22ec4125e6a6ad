import Crypto
import Foundation
import HummingbirdBcrypt
import NIOPosix
import PinganAccess
import PinganConnect
import PinganPostgres

/// Users (password, bcrypt) and department systems (API key, SHA-256) in schema `gateway`.
public struct Accounts: Sendable {
    let pool: PostgresPool
    let bcryptCost: UInt8
    /// A hash checked when the username is unknown, at the same cost as real ones, so a wrong
    /// name takes as long as a wrong password and does not reveal which names exist.
    private let decoy: String

    public init(pool: PostgresPool, bcryptCost: UInt8) {
        self.pool = pool
        self.bcryptCost = bcryptCost
        decoy = Bcrypt.hash("pingan-decoy-\(UUID())", cost: bcryptCost)
    }

    /// Creates or replaces a user. bcrypt runs on a thread pool: it is deliberately slow.
    public func saveUser(username: String, password: String, centre: DivisionCode, roles: Set<Role>) async throws {
        guard password.utf8.count >= 10, password.utf8.count <= 72 else {
            throw ConnectError.invalidArgument(field: "password", "must be 10 to 72 bytes")
        }
        let cost = bcryptCost
        let hash = try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
        try await pool.query(
            """
            INSERT INTO gateway.users (username, password_hash, centre_code, roles) VALUES ($1, $2, $3, $4)
            ON CONFLICT (username) DO UPDATE SET password_hash = $2, centre_code = $3, roles = $4
            """,
            [username, hash, centre.rawValue, roles.map(\.rawValue).sorted()]
        )
    }

    /// The user's centre and roles if the password is right; `nil` for any wrong credentials.
    func authenticate(username: String, password: String) async throws -> (centre: DivisionCode, roles: Set<Role>)? {
        let row = try await pool.query(
            "SELECT password_hash, centre_code, roles FROM gateway.users WHERE username = $1", [username]
        ).first
        let hash = try row?.decode(String.self, at: 0) ?? decoy
        let matches = try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
        guard matches, let row else { return nil }
        return (try DivisionCode(validating: try row.decode(String.self, at: 1)), Set(try row.decode([String].self, at: 2).map(Role.init)))
    }

    /// Creates a department system's key and returns it; only its hash is stored.
    public func createAPIKey(name: String, centre: DivisionCode, roles: Set<Role>) async throws -> String {
        let key = "pk_" + (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        try await pool.query(
            "INSERT INTO gateway.api_keys (name, key_hash, centre_code, roles) VALUES ($1, $2, $3, $4)",
            [name, Self.digest(key), centre.rawValue, roles.map(\.rawValue).sorted()]
        )
        return key
    }

    func apiKey(_ key: String) async throws -> (name: String, centre: DivisionCode, roles: Set<Role>)? {
        guard let row = try await pool.query(
            "SELECT name, centre_code, roles FROM gateway.api_keys WHERE key_hash = $1", [Self.digest(key)]
        ).first else { return nil }
        return (try row.decode(String.self, at: 0), try DivisionCode(validating: try row.decode(String.self, at: 1)),
                Set(try row.decode([String].self, at: 2).map(Role.init)))
    }

    static func digest(_ key: String) -> String {
        SHA256.hash(data: Data(key.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
