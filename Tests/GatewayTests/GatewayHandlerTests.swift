import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
@testable import GatewayService
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain
import PinganPostgres
import PinganRuntime
import PinganTestSupport
import Testing

@Suite("gateway in process")
struct GatewayHandlerTests {
    func settings(_ database: TestDatabase, centre: String = Place.lixian) throws -> GatewaySettings {
        GatewaySettings(
            service: try TestMesh.settings(databaseURL: database.url), centre: try DivisionCode(validating: centre),
            tokenSecret: TestMesh.tokenSecret, bcryptCost: 4
        )
    }

    @Test func signInIssuesATokenForTheAccountsCentreAndRefusesWrongPasswordsAlike() async throws {
        try await TestDatabase.with { database in
            let settings = try settings(database)
            try await GatewayApp.withAccounts(settings: settings) { accounts in
                try await accounts.saveUser(username: "xiaodukou", password: "correct-horse-battery", centre: try DivisionCode(validating: Place.townA), roles: [.staff, .mediator])
            }
            try await GatewayApp.build(settings: settings).test(.router) { client in
                let rpc = InProcessClient(client)
                var login = Pingan_Gateway_V1_LoginRequest()
                login.username = "xiaodukou"
                login.password = "correct-horse-battery"
                let signedIn = try await rpc.call(AuthServiceMethods.login, login)
                #expect(signedIn.centreCode == Place.townA)
                #expect(signedIn.roles == ["mediator", "staff"])
                let principal = try TokenSigner(secret: TestMesh.tokenSecret, audience: .gateway).verify(signedIn.token)
                #expect(principal.subject == "user:xiaodukou")

                login.password = "wrong-horse-battery"
                await expectCode(.unauthenticated, containing: "wrong username or password") { _ = try await rpc.call(AuthServiceMethods.login, login) }
                login.username = "nobody"
                await expectCode(.unauthenticated, containing: "wrong username or password") { _ = try await rpc.call(AuthServiceMethods.login, login) }
                login.username = ""
                await expectCode(.invalidArgument, containing: "username:") { _ = try await rpc.call(AuthServiceMethods.login, login) }
            }
        }
    }

    /// Guessing passwords is slowed per account (and per address), at no bcrypt cost once
    /// locked; a NUL or a name longer than the database allows is the caller's error.
    @Test func signInIsThrottledPerAccountAndOddNamesAreRefusedByField() async throws {
        let clock = ManualClock(morningOf: "2026-11-02")
        try await TestDatabase.with { database in
            let settings = try settings(database)
            try await GatewayApp.withAccounts(settings: settings) { accounts in
                for name in ["xiaodukou", "mengxi"] {
                    try await accounts.saveUser(username: name, password: "correct-horse-battery", centre: try DivisionCode(validating: Place.townA), roles: [.staff])
                }
            }
            try await GatewayApp.build(settings: settings, now: { clock.now }).test(.router) { client in
                let rpc = InProcessClient(client)
                var login = Pingan_Gateway_V1_LoginRequest()
                login.username = "xiaodukou"
                login.password = "wrong-horse-battery"
                for _ in 0..<5 {
                    await expectCode(.unauthenticated, containing: "wrong username or password") { _ = try await rpc.call(AuthServiceMethods.login, login) }
                }
                login.password = "correct-horse-battery"
                await expectCode(.resourceExhausted, containing: "too many failed sign-ins for this account; try again in 60 s") {
                    _ = try await rpc.call(AuthServiceMethods.login, login)
                }
                // Another account is not held up; the locked one opens when its time is up.
                login.username = "mengxi"
                let other = try await rpc.call(AuthServiceMethods.login, login)
                #expect(other.centreCode == Place.townA)
                clock.advance(by: 61)
                login.username = "XiaoDuKou"
                await expectCode(.unauthenticated) { _ = try await rpc.call(AuthServiceMethods.login, login) }
                login.username = "xiaodukou"
                await expectCode(.resourceExhausted, containing: "try again in 120 s") { _ = try await rpc.call(AuthServiceMethods.login, login) }
                clock.advance(by: 121)
                let reopened = try await rpc.call(AuthServiceMethods.login, login)
                #expect(reopened.centreCode == Place.townA)

                login.username = "xiao\u{0}dukou"
                await expectCode(.invalidArgument, containing: "username: contains a NUL character") { _ = try await rpc.call(AuthServiceMethods.login, login) }
                login.username = "a" + String(repeating: "\u{301}", count: 64)
                await expectCode(.invalidArgument, containing: "username: is longer than 64 characters") { _ = try await rpc.call(AuthServiceMethods.login, login) }
            }
        }
    }

    @Test func forwardingAuthenticatesScopesAndRoutesByTheMethodTable() async throws {
        try await TestDatabase.with { database in
            let settings = try settings(database)
            let tokens = try TokenSigner(secret: TestMesh.tokenSecret, audience: .gateway)
            @Sendable func bearer(_ centre: String) throws -> (String, String) {
                let principal = Principal(subject: "user:t", centre: try DivisionCode(validating: centre), roles: [.staff], expiresAt: Date().addingTimeInterval(600))
                return ("Authorization", "Bearer " + tokens.sign(principal))
            }
            try await GatewayApp.build(settings: settings).test(.router) { client in
                let rpc = InProcessClient(client)
                var list = Pingan_Dispute_V1_ListCasesRequest()
                list.divisionCode = Place.townA
                await expectCode(.unauthenticated) { _ = try await rpc.call(DisputeServiceMethods.listCases, list) }
                await expectCode(.unauthenticated) {
                    _ = try await rpc.call(DisputeServiceMethods.listCases, list, headers: [("Authorization", "Bearer forged.token")])
                }
                // 津市市 lies outside this (澧县) gateway's subtree.
                await expectCode(.permissionDenied, containing: "this gateway serves centre \(Place.lixian)") {
                    _ = try await rpc.call(DisputeServiceMethods.listCases, list, headers: [try bearer("430781000000")])
                }
                // A known method goes to its owner, which is down here: unavailable, not unimplemented.
                await expectCode(.unavailable) {
                    _ = try await rpc.call(DisputeServiceMethods.listCases, list, headers: [try bearer(Place.townA)])
                }
                let unknown = ConnectMethod<Pingan_Dispute_V1_ListCasesRequest, Pingan_Dispute_V1_ListCasesResponse>(
                    service: "pingan.dispute.v1.DisputeService", name: "DropCases", idempotency: .unknown
                )
                await expectCode(.unimplemented) { _ = try await rpc.call(unknown, list, headers: [try bearer(Place.townA)]) }
                #expect(MethodTable.byPath[DisputeServiceMethods.listCases.path]?.owner == .dispute)
            }
        }
    }

    /// Every call through the gateway is in `gateway.access_log`: who, for which centre,
    /// which method and records, the outcome and the rule.
    @Test func everyCallIsInTheAccessLogWithItsRecordsOutcomeAndRule() async throws {
        try await TestDatabase.with { database in
            let settings = try settings(database)
            let tokens = try TokenSigner(secret: TestMesh.tokenSecret, audience: .gateway)
            @Sendable func bearer(_ centre: String, _ subject: String) throws -> (String, String) {
                let principal = Principal(subject: subject, centre: try DivisionCode(validating: centre), roles: [.staff], expiresAt: Date().addingTimeInterval(600))
                return ("Authorization", "Bearer " + tokens.sign(principal))
            }
            try await GatewayApp.build(settings: settings).test(.router) { client in
                let rpc = InProcessClient(client)
                var get = Pingan_Dispute_V1_GetCaseRequest()
                get.caseID = UUID().uuidString.lowercased()
                await expectCode(.unavailable) { _ = try await rpc.call(DisputeServiceMethods.getCase, get, headers: [try bearer(Place.townA, "user:wang")]) }
                await expectCode(.permissionDenied) { _ = try await rpc.call(DisputeServiceMethods.getCase, get, headers: [try bearer("430781000000", "user:li")]) }
                await expectCode(.unavailable) { _ = try await rpc.call(DisputeServiceMethods.getCase, get, headers: [try bearer(TestMesh.root, "user:city")]) }
                let pool = database.pool()
                defer { Task { await pool.close() } }
                let written = await eventually(timeout: .seconds(20)) {
                    try await pool.query("SELECT count(*) FROM gateway.access_log")[0].decode(Int.self, at: 0) == 3
                }
                #expect(written)
                let rows = try await pool.query("SELECT subject, centre_code, method, record_ids, outcome, rule FROM gateway.access_log ORDER BY id")
                let entries = try rows.map { row in try (0..<6).map { try row.decode(String.self, at: $0) } }
                #expect(entries.first == ["user:wang", Place.townA, DisputeServiceMethods.getCase.path, get.caseID, "unavailable",
                                          "centre \(Place.townA) within gateway centre \(Place.lixian)"])
                #expect(entries.dropFirst().first == ["user:li", "", DisputeServiceMethods.getCase.path, get.caseID, "permission_denied",
                                                      "outside gateway centre \(Place.lixian)"])
                #expect(entries.last?[1] == Place.lixian && entries.last?[5] == "narrowed from centre \(TestMesh.root) to gateway centre \(Place.lixian)")
            }
        }
        // Binary bodies too: the ids are found in protobuf's wire format without the message type.
        var summons = Pingan_Dispute_V1_SummonDepartmentsRequest()
        summons.caseID = UUID().uuidString.lowercased()
        summons.departmentIds = [UUID().uuidString.lowercased(), "not-an-id"]
        #expect(AccessLog.recordIDs(in: try summons.serializedBytes(), codec: .proto) == [summons.caseID, summons.departmentIds[0]])
        #expect(AccessLog.recordIDs(in: [0xff, 0xff, 0xff], codec: .proto).isEmpty)
    }

    /// A token names its audience: a person's bearer token is never a mesh principal, even
    /// signed with the same key. A rotated key keeps verifying, and only the new one signs.
    @Test func tokensNameTheirAudienceAndARotationAcceptsThePreviousKey() async throws {
        let old = "old-token-key-0123456789abcdef-0123456789", new = "new-token-key-0123456789abcdef-0123456789"
        let principal = Principal(subject: "user:wang", centre: try DivisionCode(validating: Place.townA), roles: [.staff], expiresAt: Date().addingTimeInterval(600))
        let bearer = try TokenSigner(secret: new, audience: .gateway).sign(principal)
        #expect(throws: AccessError.wrongAudience) { try TokenSigner(secret: new, audience: .mesh).verify(bearer) }
        // Presented to a service as if forwarded: unauthenticated.
        let forged = ConnectContext(
            path: "/x", headers: [HTTPField.Name(PrincipalHeader.name)!: bearer], deadline: nil, trace: .root(), logger: Logger(label: "test")
        )
        await expectCode(.unauthenticated, containing: "credentials were issued for another audience") {
            _ = try PrincipalVerifier(meshSecret: new).principal(forged)
        }
        let signedBefore = try TokenSigner(secret: old, audience: .gateway).sign(principal)
        #expect(try TokenSigner(secret: new, previous: [old], audience: .gateway).verify(signedBefore).subject == principal.subject)
        #expect(throws: AccessError.badSignature) { try TokenSigner(secret: new, audience: .gateway).verify(signedBefore) }
        let signedNow = try TokenSigner(secret: new, previous: [old], audience: .gateway).sign(principal)
        #expect(try TokenSigner(secret: new, audience: .gateway).verify(signedNow).subject == principal.subject)
    }

    /// A caller without credentials is refused before its body is read, and signing in takes
    /// a small body only: nobody makes the gateway read megabytes for free.
    @Test func bodiesAreBoundedBeforeAuthentication() async throws {
        try await TestDatabase.with { database in
            try await GatewayApp.build(settings: try settings(database)).test(.router) { client in
                let big = ByteBuffer(repeating: UInt8(ascii: " "), count: 2 << 20)
                let anonymous = try await client.executeRequest(
                    uri: DisputeServiceMethods.listCases.path, method: .post, headers: [.contentType: "application/json"], body: big
                )
                #expect(anonymous.status == .unauthorized && String(buffer: anonymous.body).contains("unauthenticated"))
                let forged = try await client.executeRequest(
                    uri: DisputeServiceMethods.listCases.path, method: .post,
                    headers: [.contentType: "application/json", .authorization: "Bearer forged.token"], body: big
                )
                #expect(forged.status == .unauthorized)
                let login = try await client.executeRequest(
                    uri: AuthServiceMethods.login.path, method: .post, headers: [.contentType: "application/json"],
                    body: ByteBuffer(string: "{\"username\":\"" + String(repeating: "a", count: 10_000) + "\"}")
                )
                #expect(String(buffer: login.body).contains("resource_exhausted"))
            }
            // Refused at the door, and still in the access log.
            let pool = database.pool()
            defer { Task { await pool.close() } }
            let logged = await eventually(timeout: .seconds(20)) {
                try await pool.query(
                    "SELECT count(*) FROM gateway.access_log WHERE method = $1 AND outcome = 'unauthenticated' AND rule = 'admission' AND subject = ''",
                    [DisputeServiceMethods.listCases.path]
                )[0].decode(Int.self, at: 0) == 2
            }
            #expect(logged)
        }
    }

    /// What a call presents, read in one place for admission and authentication alike: the
    /// `Authorization` header first, whatever its scheme, then `X-Api-Key`.
    @Test func credentialsAreTheAuthorizationHeaderFirstThenTheAPIKey() throws {
        let apiKey = try #require(Credentials.apiKeyHeader)
        #expect(Credentials([.authorization: "Bearer abc.def"]) == .bearer(token: "abc.def"))
        #expect(Credentials([.authorization: "bearer abc.def"]) == .otherScheme)
        #expect(Credentials([.authorization: "Basic abc", apiKey: "pk_x"]) == .otherScheme)
        #expect(Credentials([apiKey: "pk_x"]) == .apiKey("pk_x"))
        #expect(Credentials([.contentType: "application/json"]) == .missing)
        #expect(Credentials.isWellFormed(apiKey: "pk_" + String(repeating: "0", count: 64)))
        #expect(!Credentials.isWellFormed(apiKey: "pk_short"))
        #expect(!Credentials.isWellFormed(apiKey: "xx_" + String(repeating: "0", count: 64)))
    }

    @Test func metricsAreForLoopbackAndAScraperWithTheToken() {
        #expect(ServiceResponder.mayReadMetrics(authorization: nil, peer: "127.0.0.1", token: nil))
        #expect(ServiceResponder.mayReadMetrics(authorization: nil, peer: "::1", token: nil))
        #expect(!ServiceResponder.mayReadMetrics(authorization: nil, peer: "203.0.113.7", token: nil))
        #expect(!ServiceResponder.mayReadMetrics(authorization: "Bearer guess", peer: "10.1.2.3", token: "scraper-token-0123456789"))
        #expect(ServiceResponder.mayReadMetrics(authorization: "Bearer scraper-token-0123456789", peer: "10.1.2.3", token: "scraper-token-0123456789"))
    }

    @Test func accountsCannotHoldTheSystemRoleAndTheTwoKeysMustDiffer() async throws {
        try await TestDatabase.with { database in
            try await GatewayApp.withAccounts(settings: try settings(database)) { accounts in
                let centre = try DivisionCode(validating: Place.townA)
                await expectCode(.invalidArgument, containing: "roles:") {
                    try await accounts.saveUser(username: "intruder", password: "correct-horse-battery", centre: centre, roles: [.staff, .system])
                }
                await expectCode(.invalidArgument, containing: "roles:") {
                    _ = try await accounts.createAPIKey(name: "intruder", centre: centre, roles: [.system])
                }
            }
        }
        let variables = ["MESH_SECRET": TestMesh.secret, "TOKEN_SECRET": TestMesh.secret]
        #expect(throws: ConfigurationError.self) { try GatewaySettings(SettingsReader(variables)) }
        let distinct = try GatewaySettings(SettingsReader(["MESH_SECRET": TestMesh.secret, "TOKEN_SECRET": TestMesh.tokenSecret]))
        #expect(distinct.centre.rawValue == TestMesh.root)
    }
}
