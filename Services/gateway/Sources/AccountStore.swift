import Foundation
import PinganDomain
import PinganPostgres

/// A stored account: a person's password hash or a department system's key digest, with
/// the centre it acts for and its roles.
struct StoredAccount: Sendable {
    let name: String
    let secretHash: String
    let centre: DivisionCode
    let roles: [String]
    /// A disabled user cannot sign in (keys are revoked instead, and then not found).
    var disabled = false
    /// For a person of a department: the department's API key name, whose identity their
    /// calls carry (``Forwarder/identify(_:)``); `nil` for everyone else and for keys.
    var departmentKey: String?
}

/// Where users and API keys live.
protocol AccountStore: Sendable {
    /// Creates or replaces a user; a replaced user's tokens end (``SessionRevocations``).
    func saveUser(username: String, passwordHash: String, centre: DivisionCode, roles: [String]) async throws
    func user(_ username: String) async throws -> StoredAccount?
    func saveAPIKey(name: String, keyDigest: String, centre: DivisionCode, roles: [String]) async throws
    /// The key with this digest, unless it was revoked.
    func apiKey(digest: String) async throws -> StoredAccount?
}

/// Users and API keys in schema `gateway`.
struct PostgresAccountStore: AccountStore {
    let pool: PostgresPool

    func saveUser(username: String, passwordHash: String, centre: DivisionCode, roles: [String]) async throws {
        try await pool.query(
            """
            INSERT INTO gateway.users (username, password_hash, centre_code, roles) VALUES ($1, $2, $3, $4)
            ON CONFLICT (username) DO UPDATE SET password_hash = $2, centre_code = $3, roles = $4, sessions_valid_after = $5
            """,
            [username, passwordHash, centre.rawValue, roles, Date()]
        )
    }

    func user(_ username: String) async throws -> StoredAccount? {
        try await pool.query(
            "SELECT username, password_hash, centre_code, roles, disabled_at IS NOT NULL, department_key FROM gateway.users WHERE username = $1", [username]
        ).first.map(Self.account)
    }

    func saveAPIKey(name: String, keyDigest: String, centre: DivisionCode, roles: [String]) async throws {
        try await pool.query(
            "INSERT INTO gateway.api_keys (name, key_hash, centre_code, roles) VALUES ($1, $2, $3, $4)",
            [name, keyDigest, centre.rawValue, roles]
        )
    }

    func apiKey(digest: String) async throws -> StoredAccount? {
        try await pool.query(
            "SELECT name, key_hash, centre_code, roles, false, NULL::text FROM gateway.api_keys WHERE key_hash = $1 AND revoked_at IS NULL", [digest]
        ).first.map(Self.account)
    }

    static func account(_ row: PostgresRow) throws -> StoredAccount {
        StoredAccount(
            name: try row.decode(String.self, at: 0), secretHash: try row.decode(String.self, at: 1),
            centre: try DivisionCode(validating: try row.decode(String.self, at: 2)), roles: try row.decode([String].self, at: 3),
            disabled: try row.decode(Bool.self, at: 4), departmentKey: try row.decode(String?.self, at: 5)
        )
    }
}
