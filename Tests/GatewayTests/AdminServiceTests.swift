import Foundation
import Hummingbird
import HummingbirdTesting
@testable import GatewayService
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain
import PinganPostgres
import PinganTestSupport
import Testing

/// `AdminService` through the gateway over real HTTP (`.live`), against a real database:
/// a centre's administrators manage the accounts of their subtree and nothing else, and
/// what they change takes effect at the door at once.
@Suite("gateway account administration")
struct AdminServiceTests {
    static let password = "correct-horse-battery"

    /// A city gateway with an administrator at the city and at township A, and staff in
    /// township A, township B and the county.
    func withGateway(_ body: @escaping @Sendable (InProcessClient, TestDatabase) async throws -> Void) async throws {
        try await TestDatabase.with { database in
            let settings = GatewaySettings(
                service: try TestMesh.settings(databaseURL: database.url), centre: try DivisionCode(validating: TestMesh.root),
                tokenSecret: TestMesh.tokenSecret, bcryptCost: 4
            )
            try await GatewayApp.withAccounts(settings: settings) { accounts in
                let users: [(String, String, Set<Role>)] = [
                    ("city-admin", TestMesh.root, [.admin]), ("town-a-admin", Place.townA, [.admin, .staff]),
                    ("town-a-staff", Place.townA, [.staff]), ("town-b-staff", Place.townB, [.staff]), ("lixian-staff", Place.lixian, [.staff]),
                ]
                for (name, centre, roles) in users {
                    try await accounts.saveUser(username: name, password: Self.password, centre: try DivisionCode(validating: centre), roles: roles)
                }
            }
            try await GatewayApp.build(settings: settings).test(.live) { client in
                try await body(InProcessClient(client), database)
            }
        }
    }

    func login(_ rpc: InProcessClient, _ username: String, _ password: String = Self.password) async throws -> String {
        try await rpc.call(AuthServiceMethods.login, .with { $0.username = username; $0.password = password }).token
    }

    func bearer(_ token: String) -> [(String, String)] { [("Authorization", "Bearer \(token)")] }

    /// A forwarded call whose owner is down here: `unavailable` once the door let it through,
    /// `unauthenticated` if the door refused the credentials.
    func throughTheDoor(_ rpc: InProcessClient, _ headers: [(String, String)]) async throws {
        _ = try await rpc.call(DisputeServiceMethods.listCases, .with { $0.divisionCode = Place.townA }, headers: headers)
    }

    @Test func aCreatedUserSignsInAndAResetPasswordReplacesTheOldOneAndItsSessions() async throws {
        try await withGateway { rpc, _ in
            let admin = bearer(try await login(rpc, "town-a-admin"))
            let created = try await rpc.call(AdminServiceMethods.createUser, .with {
                $0.username = "wang.xm"; $0.centreCode = Place.villageA; $0.roles = ["staff", "grid_worker"]; $0.password = "first-password-1"
            }, headers: admin).user
            #expect(created.username == "wang.xm" && created.centreCode == Place.villageA && created.roles == ["grid_worker", "staff"] && !created.disabled)
            let signedIn = try await rpc.call(AuthServiceMethods.login, .with { $0.username = "wang.xm"; $0.password = "first-password-1" })
            #expect(signedIn.centreCode == Place.villageA && signedIn.roles == ["grid_worker", "staff"])
            await expectCode(.alreadyExists, containing: "username: wang.xm is already taken") {
                _ = try await rpc.call(AdminServiceMethods.createUser, .with {
                    $0.username = "wang.xm"; $0.centreCode = Place.townA; $0.roles = ["staff"]; $0.password = "other-password-1"
                }, headers: admin)
            }

            let before = bearer(signedIn.token)
            await expectCode(.unavailable) { try await throughTheDoor(rpc, before) }
            _ = try await rpc.call(AdminServiceMethods.resetPassword, .with { $0.username = "wang.xm"; $0.password = "second-password-2" }, headers: admin)
            await expectCode(.unauthenticated, containing: "wrong username or password") { _ = try await login(rpc, "wang.xm", "first-password-1") }
            await expectCode(.unauthenticated, containing: "the session has ended") { try await throughTheDoor(rpc, before) }
            let after = bearer(try await login(rpc, "wang.xm", "second-password-2"))
            await expectCode(.unavailable) { try await throughTheDoor(rpc, after) }
        }
    }

    @Test func aDisabledUserCannotSignInAndTheirTokensAreRefused() async throws {
        try await withGateway { rpc, _ in
            let admin = bearer(try await login(rpc, "town-a-admin"))
            let staff = bearer(try await login(rpc, "town-a-staff"))
            await expectCode(.unavailable) { try await throughTheDoor(rpc, staff) }

            let disabled = try await rpc.call(AdminServiceMethods.disableUser, .with { $0.username = "town-a-staff" }, headers: admin).user
            #expect(disabled.disabled)
            await expectCode(.unauthenticated, containing: "the session has ended") { try await throughTheDoor(rpc, staff) }
            await expectCode(.unauthenticated, containing: "this account is disabled") { _ = try await login(rpc, "town-a-staff") }
            // A wrong password for a disabled account says only that.
            await expectCode(.unauthenticated, containing: "wrong username or password") { _ = try await login(rpc, "town-a-staff", "wrong-horse-battery") }
            await expectCode(.permissionDenied, containing: "your own account") {
                _ = try await rpc.call(AdminServiceMethods.disableUser, .with { $0.username = "town-a-admin" }, headers: admin)
            }

            let enabled = try await rpc.call(AdminServiceMethods.enableUser, .with { $0.username = "town-a-staff" }, headers: admin).user
            #expect(!enabled.disabled)
            await expectCode(.unavailable) { try await throughTheDoor(rpc, bearer(try await login(rpc, "town-a-staff"))) }
            // The token from before the disable stays refused.
            await expectCode(.unauthenticated, containing: "the session has ended") { try await throughTheDoor(rpc, staff) }

            // New roles end the old token too: it carries the old ones.
            let current = bearer(try await login(rpc, "town-a-staff"))
            let changed = try await rpc.call(AdminServiceMethods.setUserRoles, .with { $0.username = "town-a-staff"; $0.roles = ["staff", "mediator"] }, headers: admin).user
            #expect(changed.roles == ["mediator", "staff"])
            await expectCode(.unauthenticated, containing: "the session has ended") { try await throughTheDoor(rpc, current) }
            #expect(try await rpc.call(AuthServiceMethods.login, .with { $0.username = "town-a-staff"; $0.password = Self.password }).roles == ["mediator", "staff"])
        }
    }

    @Test func anIssuedKeyWorksIsListedWithoutItsSecretAndIsRefusedAtOnceWhenRevoked() async throws {
        try await withGateway { rpc, database in
            let admin = bearer(try await login(rpc, "town-a-admin"))
            let issued = try await rpc.call(AdminServiceMethods.issueApiKey, .with {
                $0.name = "xdk-police"; $0.centreCode = Place.townA; $0.roles = ["department"]
            }, headers: admin)
            #expect(Credentials.isWellFormed(apiKey: issued.key) && issued.apiKey.name == "xdk-police" && issued.apiKey.revokedAt.isEmpty)
            let key = [("X-Api-Key", issued.key)]
            await expectCode(.unavailable) { try await throughTheDoor(rpc, key) }

            let listed = try await rpc.call(AdminServiceMethods.listApiKeys, .with { _ in }, headers: admin)
            #expect(listed.apiKeys.map(\.name) == ["xdk-police"])
            #expect(!(try listed.jsonString()).contains(issued.key.dropFirst(3)))
            await expectCode(.alreadyExists, containing: "name: xdk-police is already taken") {
                _ = try await rpc.call(AdminServiceMethods.issueApiKey, .with { $0.name = "xdk-police"; $0.centreCode = Place.townA; $0.roles = ["staff"] }, headers: admin)
            }

            let revoked = try await rpc.call(AdminServiceMethods.revokeApiKey, .with { $0.name = "xdk-police" }, headers: admin).apiKey
            #expect(!revoked.revokedAt.isEmpty)
            await expectCode(.unauthenticated, containing: "the API key is not valid") { try await throughTheDoor(rpc, key) }

            // The name goes to a new key, for the department registered under it.
            let reissued = try await rpc.call(AdminServiceMethods.issueApiKey, .with {
                $0.name = "xdk-police"; $0.centreCode = Place.villageA; $0.roles = ["department"]
            }, headers: admin)
            #expect(reissued.key != issued.key && reissued.apiKey.revokedAt.isEmpty)
            await expectCode(.unavailable) { try await throughTheDoor(rpc, [("X-Api-Key", reissued.key)]) }
            await expectCode(.unauthenticated) { try await throughTheDoor(rpc, key) }
            let pool = database.pool()
            defer { Task { await pool.close() } }
            #expect(try await pool.query("SELECT count(*) FROM gateway.api_keys")[0].decode(Int.self, at: 0) == 1)
        }
    }

    @Test func aTownshipAdministratorSeesAndTouchesItsOwnSubtreeOnly() async throws {
        try await withGateway { rpc, database in
            let admin = bearer(try await login(rpc, "town-a-admin"))
            let users = try await rpc.call(AdminServiceMethods.listUsers, .with { _ in }, headers: admin).users
            #expect(users.map(\.username) == ["town-a-admin", "town-a-staff"])
            await expectCode(.permissionDenied, containing: "centre_code: \(Place.townB) is outside") {
                _ = try await rpc.call(AdminServiceMethods.listUsers, .with { $0.centreCode = Place.townB }, headers: admin)
            }
            await expectCode(.permissionDenied) { _ = try await rpc.call(AdminServiceMethods.listApiKeys, .with { $0.centreCode = Place.lixian }, headers: admin) }

            // Not at the county above, not at the sibling township.
            for centre in [Place.lixian, Place.townB, TestMesh.root] {
                await expectCode(.permissionDenied, containing: "centre_code: \(centre) is outside") {
                    _ = try await rpc.call(AdminServiceMethods.createUser, .with {
                        $0.username = "climber"; $0.centreCode = centre; $0.roles = ["admin"]; $0.password = "climbing-password"
                    }, headers: admin)
                }
                await expectCode(.permissionDenied, containing: "centre_code: \(centre) is outside") {
                    _ = try await rpc.call(AdminServiceMethods.issueApiKey, .with { $0.name = "climber"; $0.centreCode = centre; $0.roles = ["staff"] }, headers: admin)
                }
            }
            // A user elsewhere answers as one that does not exist.
            for name in ["town-b-staff", "lixian-staff", "city-admin", "nobody-here"] {
                await expectCode(.notFound, containing: "user \(name) not found") {
                    _ = try await rpc.call(AdminServiceMethods.disableUser, .with { $0.username = name }, headers: admin)
                }
                await expectCode(.notFound, containing: "user \(name) not found") {
                    _ = try await rpc.call(AdminServiceMethods.resetPassword, .with { $0.username = name; $0.password = "taken-over-password" }, headers: admin)
                }
                await expectCode(.notFound, containing: "user \(name) not found") {
                    _ = try await rpc.call(AdminServiceMethods.setUserRoles, .with { $0.username = name; $0.roles = ["admin"] }, headers: admin)
                }
                await expectCode(.notFound, containing: "user \(name) not found") {
                    _ = try await rpc.call(AdminServiceMethods.enableUser, .with { $0.username = name }, headers: admin)
                }
            }
            // A key elsewhere too.
            let city = bearer(try await login(rpc, "city-admin"))
            _ = try await rpc.call(AdminServiceMethods.issueApiKey, .with { $0.name = "mengxi-police"; $0.centreCode = Place.townB; $0.roles = ["department"] }, headers: city)
            await expectCode(.notFound, containing: "API key mengxi-police not found") {
                _ = try await rpc.call(AdminServiceMethods.revokeApiKey, .with { $0.name = "mengxi-police" }, headers: admin)
            }
            #expect(try await rpc.call(AdminServiceMethods.listApiKeys, .with { _ in }, headers: admin).apiKeys.isEmpty)
            // Nothing of the sibling's changed: its staff still signs in, and nothing was created.
            _ = try await login(rpc, "town-b-staff")
            let pool = database.pool()
            defer { Task { await pool.close() } }
            #expect(try await pool.query("SELECT count(*) FROM gateway.users WHERE username = 'climber'")[0].decode(Int.self, at: 0) == 0)
            #expect(try await pool.query("SELECT count(*) FROM gateway.admin_audit WHERE principal = 'user:town-a-admin'")[0].decode(Int.self, at: 0) == 0)

            // Staff are not administrators.
            let staff = bearer(try await login(rpc, "town-a-staff"))
            await expectCode(.permissionDenied, containing: "this needs the role admin") {
                _ = try await rpc.call(AdminServiceMethods.listUsers, .with { _ in }, headers: staff)
            }
            await expectCode(.unauthenticated) { _ = try await rpc.call(AdminServiceMethods.listUsers, .with { _ in }) }

            // The city sees everyone, a page at a time.
            var seen: [String] = []
            var token = ""
            repeat {
                let page = try await rpc.call(AdminServiceMethods.listUsers, .with { $0.pageSize = 2; $0.pageToken = token }, headers: city)
                #expect(page.users.count <= 2)
                seen += page.users.map(\.username)
                token = page.nextPageToken
            } while !token.isEmpty
            #expect(seen == ["city-admin", "lixian-staff", "town-a-admin", "town-a-staff", "town-b-staff"])
        }
    }

    @Test func badInputIsRefusedNamingTheField() async throws {
        try await withGateway { rpc, _ in
            let admin = bearer(try await login(rpc, "town-a-admin"))
            func create(_ change: (inout Pingan_Gateway_V1_CreateUserRequest) -> Void) -> Pingan_Gateway_V1_CreateUserRequest {
                var request = Pingan_Gateway_V1_CreateUserRequest.with {
                    $0.username = "li.si"; $0.centreCode = Place.townA; $0.roles = ["staff"]; $0.password = "good-password-1"
                }
                change(&request)
                return request
            }
            let cases: [(Pingan_Gateway_V1_CreateUserRequest, String)] = [
                (create { $0.username = "" }, "username: is required"),
                (create { $0.username = "Li Si" }, "username: must be 3 to 64 of a-z"),
                (create { $0.username = "li" }, "username: must be 3 to 64"),
                (create { $0.centreCode = "4307" }, "centre_code:"),
                (create { $0.centreCode = "" }, "centre_code: is required"),
                (create { $0.roles = [] }, "roles: at least one role is required"),
                (create { $0.roles = ["staff", "system"] }, "roles[1]: \"system\" is not a role an account may hold"),
                (create { $0.roles = ["boss"] }, "roles[0]:"),
                (create { $0.password = "short" }, "password: must be 10 to 72 bytes"),
                (create { $0.password = String(repeating: "长", count: 25) }, "password: must be 10 to 72 bytes"),
                (create { $0.password = "good-password\u{0}1" }, "password: contains a NUL character"),
            ]
            for (request, message) in cases {
                await expectCode(.invalidArgument, containing: message) { _ = try await rpc.call(AdminServiceMethods.createUser, request, headers: admin) }
            }
            await expectCode(.invalidArgument, containing: "name: is required") {
                _ = try await rpc.call(AdminServiceMethods.issueApiKey, .with { $0.centreCode = Place.townA; $0.roles = ["staff"] }, headers: admin)
            }
            await expectCode(.invalidArgument, containing: "page_size: must be between 1 and 200") {
                _ = try await rpc.call(AdminServiceMethods.listUsers, .with { $0.pageSize = 500 }, headers: admin)
            }
            await expectCode(.invalidArgument, containing: "page_token: is not a token from a previous page") {
                _ = try await rpc.call(AdminServiceMethods.listApiKeys, .with { $0.pageToken = "junk" }, headers: admin)
            }
            await expectCode(.invalidArgument, containing: "password: must be 10 to 72 bytes") {
                _ = try await rpc.call(AdminServiceMethods.resetPassword, .with { $0.username = "town-a-staff"; $0.password = "short" }, headers: admin)
            }
            // Nothing was created by any of them.
            #expect(try await rpc.call(AdminServiceMethods.listUsers, .with { _ in }, headers: admin).users.count == 2)
        }
    }

    @Test func everyChangeIsAuditedAndEachAdministratorReadsItsSubtreesAudit() async throws {
        try await withGateway { rpc, database in
            let admin = bearer(try await login(rpc, "town-a-admin"))
            _ = try await rpc.call(AdminServiceMethods.createUser, .with {
                $0.username = "zhao.liu"; $0.centreCode = Place.villageA; $0.roles = ["grid_worker"]; $0.password = "secret-password-9"
            }, headers: admin)
            _ = try await rpc.call(AdminServiceMethods.resetPassword, .with { $0.username = "zhao.liu"; $0.password = "another-password-9" }, headers: admin)
            _ = try await rpc.call(AdminServiceMethods.disableUser, .with { $0.username = "zhao.liu" }, headers: admin)
            let issued = try await rpc.call(AdminServiceMethods.issueApiKey, .with { $0.name = "xdk-judicial"; $0.centreCode = Place.townA; $0.roles = ["department"] }, headers: admin)
            _ = try await rpc.call(AdminServiceMethods.revokeApiKey, .with { $0.name = "xdk-judicial" }, headers: admin)
            // A refused change leaves no row.
            await expectCode(.notFound) { _ = try await rpc.call(AdminServiceMethods.disableUser, .with { $0.username = "town-b-staff" }, headers: admin) }

            let pool = database.pool()
            defer { Task { await pool.close() } }
            let rows = try await pool.query("SELECT principal, centre_code, method, target, target_centre_code, detail, at > now() - interval '1 minute' FROM gateway.admin_audit ORDER BY id")
            let entries = try rows.map { row in try (0..<6).map { try row.decode(String.self, at: $0) } + [try row.decode(Bool.self, at: 6) ? "now" : "then"] }
            let a = "user:town-a-admin", town = Place.townA, village = Place.villageA
            #expect(entries == [
                [a, town, AdminServiceMethods.createUser.path, "user:zhao.liu", village, "centre=\(village) roles=grid_worker", "now"],
                [a, town, AdminServiceMethods.resetPassword.path, "user:zhao.liu", village, "password reset", "now"],
                [a, town, AdminServiceMethods.disableUser.path, "user:zhao.liu", village, "disabled", "now"],
                [a, town, AdminServiceMethods.issueApiKey.path, "apikey:xdk-judicial", town, "centre=\(town) roles=department", "now"],
                [a, town, AdminServiceMethods.revokeApiKey.path, "apikey:xdk-judicial", town, "revoked", "now"],
            ])
            let everything = try await pool.query("SELECT string_agg(detail || principal || target, ' ') FROM gateway.admin_audit")[0].decode(String.self, at: 0)
            #expect(!everything.contains("password-9") && !everything.contains(issued.key.dropFirst(3)))

            // Read back newest first, a page at a time; another township's administrator sees none of it.
            let first = try await rpc.call(AdminServiceMethods.listAdminAudit, .with { $0.pageSize = 3 }, headers: admin)
            #expect(first.entries.map(\.method) == [AdminServiceMethods.revokeApiKey.path, AdminServiceMethods.issueApiKey.path, AdminServiceMethods.disableUser.path])
            let second = try await rpc.call(AdminServiceMethods.listAdminAudit, .with { $0.pageSize = 3; $0.pageToken = first.nextPageToken }, headers: admin)
            #expect(second.entries.map(\.target) == ["user:zhao.liu", "user:zhao.liu"] && second.nextPageToken.isEmpty)
            let city = bearer(try await login(rpc, "city-admin"))
            _ = try await rpc.call(AdminServiceMethods.createUser, .with {
                $0.username = "town-b-admin"; $0.centreCode = Place.townB; $0.roles = ["admin"]; $0.password = Self.password
            }, headers: city)
            let sibling = bearer(try await login(rpc, "town-b-admin"))
            let theirs = try await rpc.call(AdminServiceMethods.listAdminAudit, .with { _ in }, headers: sibling).entries
            #expect(theirs.map(\.target) == ["user:town-b-admin"] && theirs.first?.principal == "user:city-admin")
        }
    }

    /// The rule on its own: state in, decision out.
    @Test func theRuleKeepsAnAdministratorToTheirSubtreeAndOffTheirOwnStanding() throws {
        let admin = Principal(subject: "user:town-a-admin", centre: try DivisionCode(validating: Place.townA), roles: [.admin], expiresAt: Date().addingTimeInterval(60))
        let rule = AccountAdminRule(admin: admin)
        let village = try DivisionCode(validating: Place.villageA), sibling = try DivisionCode(validating: Place.townB)
        let county = try DivisionCode(validating: Place.lixian)
        #expect(rule.mayUse(village, field: "centre_code") == .allowed)
        #expect(rule.mayUse(sibling, field: "centre_code") == .refused(.centreOutside(field: "centre_code", sibling, subtree: admin.centre)))
        #expect(rule.mayUse(county, field: "centre_code") != .allowed)
        #expect(rule.mayChangeStanding(of: "town-a-admin") == .refused(.ownAccount("town-a-admin")))
        #expect(rule.mayChangeStanding(of: "town-a-staff") == .allowed)
        let key = AccountAdminRule(admin: Principal(subject: "apikey:town-a-admin", centre: admin.centre, roles: [.admin], expiresAt: admin.expiresAt))
        #expect(key.mayChangeStanding(of: "town-a-admin") == .allowed)
        #expect(try AccountAdminRule.roles(["staff", "staff", "admin"]) == [.staff, .admin])
    }
}
