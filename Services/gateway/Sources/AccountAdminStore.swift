import Foundation
import PinganConnect
import PinganDomain
import PinganPostgres

/// A user as administrators see it: never the password hash.
struct UserRecord: Sendable, Equatable {
    let username: String
    let centre: DivisionCode
    let roles: [String]
    let disabled: Bool
    let createdAt: Date
    /// Tokens issued before this no longer count; `nil` when none has ended early.
    let sessionsValidAfter: Date?
    /// For a person of a department: the department's API key name; `nil` otherwise.
    var departmentKey: String?
}

/// A department system's key as administrators see it: never the key or its digest.
struct APIKeyRecord: Sendable, Equatable {
    let name: String
    let centre: DivisionCode
    let roles: [String]
    let createdAt: Date
    let revokedAt: Date?
}

/// One change to an account, as `gateway.admin_audit` keeps it.
struct AuditRecord: Sendable, Equatable {
    /// `user:<name>` or `apikey:<name>` of the administrator.
    let principal: String
    /// The centre the administrator acted for.
    let centre: DivisionCode
    let method: String
    /// `user:<name>` or `apikey:<name>` changed; its centre is the row's changed record's.
    let target: String
    let detail: String
}

/// An audit row as read back.
struct AuditEntry: Sendable {
    let id: Int64
    let at: Date
    let record: AuditRecord
    let targetCentre: DivisionCode
}

/// What an administrator changes about an existing user.
enum UserChange: Sendable {
    case roles([String])
    case disabled(Bool)
    case passwordHash(String)

    /// Whether the user's tokens end: they carry the old roles, or outlived a disable or a reset.
    var endsSessions: Bool {
        if case .disabled(false) = self { return false }
        return true
    }
}

/// Users, keys and the audit of their changes, for ``AdminServiceHandler``. Every method
/// finds accounts within a subtree only, and every change writes its audit row in the same
/// transaction, so there is no change without its row.
protocol AccountAdminStore: Sendable {
    /// Users of `subtree` ordered by username, after `after`; at most `limit` + 1, so a caller
    /// can tell whether a next page exists.
    func users(in subtree: DivisionCode, after: String?, limit: Int) async throws -> [UserRecord]
    /// `already_exists` when the username is taken, anywhere.
    /// `departmentKey` names the department a person signs in for, or is `nil`.
    func createUser(
        username: String, passwordHash: String, centre: DivisionCode, roles: [String], departmentKey: String?, audit: AuditRecord
    ) async throws -> UserRecord
    /// The key of that name in `subtree`, revoked or not; `nil` when there is none there.
    func apiKey(named name: String, in subtree: DivisionCode) async throws -> APIKeyRecord?
    /// The changed user, or `nil` when no user of that name lies in `subtree`.
    func change(_ username: String, in subtree: DivisionCode, _ change: UserChange, at now: Date, audit: AuditRecord) async throws -> UserRecord?
    func apiKeys(in subtree: DivisionCode, after: String?, limit: Int) async throws -> [APIKeyRecord]
    /// A new key, or one replacing a revoked key of the same name in `subtree`;
    /// `already_exists` when the name is held by a valid key or by a key elsewhere.
    func issueAPIKey(name: String, digest: String, centre: DivisionCode, roles: [String], replacingRevokedIn subtree: DivisionCode, audit: AuditRecord) async throws -> APIKeyRecord
    /// The revoked key (revoked already is fine), or `nil` when none of that name lies in `subtree`.
    func revokeAPIKey(_ name: String, in subtree: DivisionCode, at now: Date, audit: AuditRecord) async throws -> APIKeyRecord?
    /// Changes to accounts of `subtree`, newest first, before row `before`.
    func audit(in subtree: DivisionCode, before: Int64?, limit: Int) async throws -> [AuditEntry]
}

extension PostgresAccountStore: AccountAdminStore {
    static let userColumns = "username, centre_code, roles, disabled_at IS NOT NULL, created_at, sessions_valid_after, department_key"
    static let keyColumns = "name, centre_code, roles, created_at, revoked_at"

    func users(in subtree: DivisionCode, after: String?, limit: Int) async throws -> [UserRecord] {
        try await pool.query(
            """
            SELECT \(Self.userColumns) FROM gateway.users
            WHERE centre_code BETWEEN $1 AND $2 AND ($3::text IS NULL OR username > $3) ORDER BY username LIMIT $4
            """,
            [subtree.rawValue, subtree.lastInSubtree, after, limit + 1]
        ).map(Self.user)
    }

    func createUser(
        username: String, passwordHash: String, centre: DivisionCode, roles: [String], departmentKey: String?, audit: AuditRecord
    ) async throws -> UserRecord {
        try await pool.transaction { connection in
            let rows = try await connection.query(
                """
                INSERT INTO gateway.users (username, password_hash, centre_code, roles, department_key) VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (username) DO NOTHING RETURNING \(Self.userColumns)
                """,
                [username, passwordHash, centre.rawValue, roles, departmentKey]
            )
            guard let row = rows.first else { throw ConnectError(.alreadyExists, "username: \(username) is already taken") }
            let user = try Self.user(row)
            try await Self.write(audit, targetCentre: user.centre, on: connection)
            return user
        }
    }

    func change(_ username: String, in subtree: DivisionCode, _ change: UserChange, at now: Date, audit: AuditRecord) async throws -> UserRecord? {
        let assignment: String
        let value: any PostgresEncodable
        switch change {
        case .roles(let roles): (assignment, value) = ("roles = $4", roles)
        case .disabled(let disabled): (assignment, value) = ("disabled_at = CASE WHEN $4::boolean THEN coalesce(disabled_at, $5::timestamptz) END", disabled)
        case .passwordHash(let hash): (assignment, value) = ("password_hash = $4", hash)
        }
        let sessions = change.endsSessions ? ", sessions_valid_after = greatest(sessions_valid_after, $5::timestamptz)" : ""
        return try await pool.transaction { connection in
            let rows = try await connection.query(
                """
                UPDATE gateway.users SET \(assignment)\(sessions)
                WHERE username = $1 AND centre_code BETWEEN $2 AND $3
                RETURNING \(Self.userColumns)
                """,
                [username, subtree.rawValue, subtree.lastInSubtree, value, now]
            )
            guard let row = rows.first else { return nil }
            let user = try Self.user(row)
            try await Self.write(audit, targetCentre: user.centre, on: connection)
            return user
        }
    }

    func apiKeys(in subtree: DivisionCode, after: String?, limit: Int) async throws -> [APIKeyRecord] {
        try await pool.query(
            """
            SELECT \(Self.keyColumns) FROM gateway.api_keys
            WHERE centre_code BETWEEN $1 AND $2 AND ($3::text IS NULL OR name > $3) ORDER BY name LIMIT $4
            """,
            [subtree.rawValue, subtree.lastInSubtree, after, limit + 1]
        ).map(Self.key)
    }

    func apiKey(named name: String, in subtree: DivisionCode) async throws -> APIKeyRecord? {
        try await pool.query(
            "SELECT \(Self.keyColumns) FROM gateway.api_keys WHERE name = $1 AND centre_code BETWEEN $2 AND $3",
            [name, subtree.rawValue, subtree.lastInSubtree]
        ).first.map(Self.key)
    }

    func issueAPIKey(
        name: String, digest: String, centre: DivisionCode, roles: [String], replacingRevokedIn subtree: DivisionCode, audit: AuditRecord
    ) async throws -> APIKeyRecord {
        try await pool.transaction { connection in
            // A revoked key of the subtree gives its name to the new one: a department
            // registered under the name keeps its registration, as after a rotation.
            let rows = try await connection.query(
                """
                INSERT INTO gateway.api_keys AS k (name, key_hash, centre_code, roles) VALUES ($1, $2, $3, $4)
                ON CONFLICT (name) DO UPDATE SET key_hash = $2, centre_code = $3, roles = $4, created_at = now(), revoked_at = NULL
                WHERE k.revoked_at IS NOT NULL AND k.centre_code BETWEEN $5 AND $6
                RETURNING \(Self.keyColumns)
                """,
                [name, digest, centre.rawValue, roles, subtree.rawValue, subtree.lastInSubtree]
            )
            guard let row = rows.first else { throw ConnectError(.alreadyExists, "name: \(name) is already taken") }
            let key = try Self.key(row)
            try await Self.write(audit, targetCentre: key.centre, on: connection)
            return key
        }
    }

    func revokeAPIKey(_ name: String, in subtree: DivisionCode, at now: Date, audit: AuditRecord) async throws -> APIKeyRecord? {
        try await pool.transaction { connection in
            let rows = try await connection.query(
                """
                UPDATE gateway.api_keys SET revoked_at = coalesce(revoked_at, $4)
                WHERE name = $1 AND centre_code BETWEEN $2 AND $3 RETURNING \(Self.keyColumns)
                """,
                [name, subtree.rawValue, subtree.lastInSubtree, now]
            )
            guard let row = rows.first else { return nil }
            let key = try Self.key(row)
            try await Self.write(audit, targetCentre: key.centre, on: connection)
            return key
        }
    }

    func audit(in subtree: DivisionCode, before: Int64?, limit: Int) async throws -> [AuditEntry] {
        try await pool.query(
            """
            SELECT id, at, principal, centre_code, method, target, target_centre_code, detail FROM gateway.admin_audit
            WHERE target_centre_code BETWEEN $1 AND $2 AND ($3::bigint IS NULL OR id < $3) ORDER BY id DESC LIMIT $4
            """,
            [subtree.rawValue, subtree.lastInSubtree, before, limit + 1]
        ).map { row in
            AuditEntry(
                id: try row.decode(Int64.self, at: 0), at: try row.decode(Date.self, at: 1),
                record: AuditRecord(
                    principal: try row.decode(String.self, at: 2), centre: try DivisionCode(validating: try row.decode(String.self, at: 3)),
                    method: try row.decode(String.self, at: 4), target: try row.decode(String.self, at: 5), detail: try row.decode(String.self, at: 7)
                ),
                targetCentre: try DivisionCode(validating: try row.decode(String.self, at: 6))
            )
        }
    }

    private static func write(_ audit: AuditRecord, targetCentre: DivisionCode, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO gateway.admin_audit (principal, centre_code, method, target, target_centre_code, detail)
            VALUES ($1, $2, $3, $4, $5, $6)
            """,
            [audit.principal, audit.centre.rawValue, audit.method, audit.target, targetCentre.rawValue, audit.detail]
        )
    }

    static func user(_ row: PostgresRow) throws -> UserRecord {
        UserRecord(
            username: try row.decode(String.self, at: 0), centre: try DivisionCode(validating: try row.decode(String.self, at: 1)),
            roles: try row.decode([String].self, at: 2), disabled: try row.decode(Bool.self, at: 3),
            createdAt: try row.decode(Date.self, at: 4), sessionsValidAfter: try row.decode(Date?.self, at: 5),
            departmentKey: try row.decode(String?.self, at: 6)
        )
    }

    static func key(_ row: PostgresRow) throws -> APIKeyRecord {
        APIKeyRecord(
            name: try row.decode(String.self, at: 0), centre: try DivisionCode(validating: try row.decode(String.self, at: 1)),
            roles: try row.decode([String].self, at: 2), createdAt: try row.decode(Date.self, at: 3), revokedAt: try row.decode(Date?.self, at: 4)
        )
    }
}
