import Crypto
import Foundation
import HummingbirdBcrypt
import NIOPosix
import PinganAccess
import PinganConnect
import PinganDomain

/// Who may sign in: people with bcrypt passwords, department systems with API keys stored
/// as SHA-256 digests.
public struct Accounts: Sendable {
    let store: any AccountStore
    let bcryptCost: UInt8
    /// A hash checked when the username is unknown, at the same cost as real ones, so a wrong
    /// name takes as long as a wrong password and does not reveal which names exist.
    private let decoy: String

    init(store: any AccountStore, bcryptCost: UInt8) {
        self.store = store
        self.bcryptCost = bcryptCost
        decoy = Bcrypt.hash("pingan-decoy-\(UUID.random())", cost: bcryptCost)
    }

    /// Creates or replaces a user. bcrypt runs on a thread pool: it is deliberately slow.
    public func saveUser(username: String, password: String, centre: DivisionCode, roles: Set<Role>) async throws {
        try Self.requireGrantable(roles)
        let hash = try await hash(password: password)
        try await store.saveUser(username: username, passwordHash: hash, centre: centre, roles: roles.map(\.rawValue).sorted())
    }

    /// The bcrypt hash of a new password, checked first: bcrypt reads at most 72 bytes and
    /// stops at a NUL, so a longer password or one holding NUL would not mean what it says.
    func hash(password: String, field: String = "password") async throws -> String {
        guard password.utf8.count >= 10, password.utf8.count <= 72 else {
            throw ConnectError.invalidArgument(field: field, "must be 10 to 72 bytes")
        }
        guard !password.utf8.contains(0) else { throw ConnectError.invalidArgument(field: field, "contains a NUL character") }
        let cost = bcryptCost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    /// What signing in found: the account, or why not.
    enum SignIn: Sendable, Equatable {
        case signedIn(centre: DivisionCode, roles: Set<Role>)
        /// The password was right, but an administrator disabled the account.
        case disabled
        /// A wrong password, or no such user: the same to the caller.
        case wrong
    }

    /// Checks a password; a disabled account is found out only with its right password, so a
    /// guesser learns nothing more than from any other account.
    func signIn(username: String, password: String) async throws -> SignIn {
        let account = try await store.user(username)
        let hash = account?.secretHash ?? decoy
        let matches = try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
        guard matches, let account else { return .wrong }
        guard !account.disabled else { return .disabled }
        return .signedIn(centre: account.centre, roles: Set(account.roles.map(Role.init)))
    }

    /// Creates a department system's key and returns it; only its digest is stored.
    public func createAPIKey(name: String, centre: DivisionCode, roles: Set<Role>) async throws -> String {
        try Self.requireGrantable(roles)
        let (key, digest) = Self.newAPIKey()
        try await store.saveAPIKey(name: name, keyDigest: digest, centre: centre, roles: roles.map(\.rawValue).sorted())
        return key
    }

    /// A new key (`pk_` and 64 hex digits of the system's random generator) and the digest
    /// that is all the gateway keeps of it.
    static func newAPIKey() -> (key: String, digest: String) {
        let key = "pk_" + (0..<32).map { _ in UInt8.random(in: 0...255) }.hexadecimal
        return (key, digest(key))
    }

    func apiKey(_ key: String) async throws -> (name: String, centre: DivisionCode, roles: Set<Role>)? {
        guard let account = try await store.apiKey(digest: Self.digest(key)) else { return nil }
        return (account.name, account.centre, Set(account.roles.map(Role.init)))
    }

    /// `system` belongs to the services themselves; a person or a department system holding
    /// it could deliver forged events.
    static func requireGrantable(_ roles: Set<Role>) throws {
        guard !roles.contains(.system) else {
            throw ConnectError.invalidArgument(field: "roles", "the system role is the mesh's own and cannot be given to an account")
        }
    }

    static func digest(_ key: String) -> String {
        SHA256.hash(data: Data(key.utf8)).hexadecimal
    }
}
