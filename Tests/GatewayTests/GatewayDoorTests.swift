import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import GatewayService
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain
import PinganPostgres
import PinganRuntime
import PinganTestSupport
import Testing

/// The doors of issue 24, tried through the gateway: sign-in behind one shared address, the
/// client a trusted proxy names, and the one spelling of a bearer token.
@Suite("gateway doors")
struct GatewayDoorTests {
    static let password = "correct-horse-battery"

    func settings(_ database: TestDatabase, trusting proxies: String = "") throws -> GatewaySettings {
        var settings = GatewaySettings(
            service: try TestMesh.settings(databaseURL: database.url), centre: try DivisionCode(validating: Place.lixian),
            tokenSecret: TestMesh.tokenSecret, bcryptCost: 4
        )
        settings.trustedProxies = try TrustedProxies(parsing: proxies)
        return settings
    }

    /// The finding: a county office's NAT (an ingress forwarding for it) is one address for
    /// the whole centre. A script there fails 1,000 times, brute-forcing one account and
    /// spraying names; a colleague then signs in from the same address at once, while the
    /// brute-forced account stays locked and the sprayed names are refused there unchecked.
    @Test func oneScriptBehindASharedAddressLocksOutNoColleagueAndABruteForceStaysLocked() async throws {
        let clock = ManualClock(morningOf: "2026-11-02")
        try await TestDatabase.with { database in
            let settings = try settings(database, trusting: "127.0.0.1, ::1")
            try await GatewayApp.withAccounts(settings: settings) { accounts in
                for name in ["xiaodukou", "mengxi", "lixian"] {
                    try await accounts.saveUser(username: name, password: Self.password, centre: try DivisionCode(validating: Place.townA), roles: [.staff])
                }
            }
            // Live: the throttle sees the connection's address, and the ingress's header.
            try await GatewayApp.build(settings: settings, now: { clock.now }).test(.live) { client in
                let rpc = InProcessClient(client)
                let office = ("X-Forwarded-For", "203.0.113.7"), elsewhere = ("X-Forwarded-For", "198.51.100.20")
                var login = Pingan_Gateway_V1_LoginRequest()
                for attempt in 0..<1000 {
                    login.username = attempt.isMultiple(of: 4) ? "xiaodukou" : "intruder\(attempt)"
                    login.password = "guess-\(attempt)-battery"
                    do {
                        _ = try await rpc.call(AuthServiceMethods.login, login, headers: [office])
                        Issue.record("a guess signed in")
                    } catch let error as ConnectError {
                        #expect(error.code == .unauthenticated || error.code == .resourceExhausted, "\(error)")
                    }
                }

                login.username = "mengxi"
                login.password = Self.password
                let colleague = try await rpc.call(AuthServiceMethods.login, login, headers: [office])
                #expect(colleague.centreCode == Place.townA)

                login.username = "xiaodukou"
                for address in [office, elsewhere] {
                    await expectCode(.resourceExhausted, containing: "too many failed sign-ins for this account; try again in 60 s") {
                        _ = try await rpc.call(AuthServiceMethods.login, login, headers: [address])
                    }
                }
                login.username = "intruder1"
                await expectCode(.resourceExhausted, containing: "too many failed sign-ins for this address; try again in 900 s") {
                    _ = try await rpc.call(AuthServiceMethods.login, login, headers: [office])
                }
                await expectCode(.unauthenticated, containing: "wrong username or password") {
                    _ = try await rpc.call(AuthServiceMethods.login, login, headers: [elsewhere])
                }

                // A colleague who mistypes at the locked address waits for its lock to end.
                login.username = "lixian"
                login.password = "wrong-horse-battery"
                await expectCode(.unauthenticated, containing: "wrong username or password") {
                    _ = try await rpc.call(AuthServiceMethods.login, login, headers: [office])
                }
                login.password = Self.password
                await expectCode(.resourceExhausted, containing: "too many failed sign-ins for this address; try again in 900 s") {
                    _ = try await rpc.call(AuthServiceMethods.login, login, headers: [office])
                }
                clock.advance(by: 900)
                let later = try await rpc.call(AuthServiceMethods.login, login, headers: [office])
                #expect(later.centreCode == Place.townA)
            }
        }
    }

    /// Only a trusted proxy's `X-Forwarded-For` names the client, and only its nearest entry
    /// that is not a proxy: the access log shows whom the throttle counted.
    @Test func theClientIsWhomATrustedProxyForwardedForAndNobodyElseSays() async throws {
        try await TestDatabase.with { database in
            let list = Pingan_Dispute_V1_ListCasesRequest.with { $0.divisionCode = Place.townA }
            // The client wrote 192.0.2.66 itself; the proxy appended the address it saw.
            let forwarded = [("X-Forwarded-For", "192.0.2.66, 203.0.113.7")]
            for proxies in ["127.0.0.1, ::1", ""] {
                try await GatewayApp.build(settings: try settings(database, trusting: proxies)).test(.live) { client in
                    await expectCode(.unauthenticated) { _ = try await InProcessClient(client).call(DisputeServiceMethods.listCases, list, headers: forwarded) }
                }
            }
            let pool = database.pool()
            defer { Task { await pool.close() } }
            let written = await eventually(timeout: .seconds(20)) {
                try await pool.query("SELECT count(*) FROM gateway.access_log")[0].decode(Int.self, at: 0) == 2
            }
            #expect(written)
            let peers = try await pool.query("SELECT peer FROM gateway.access_log ORDER BY id").map { try $0.decode(String.self, at: 0) }
            #expect(peers.first == "203.0.113.7")
            #expect(peers.last == "127.0.0.1" || peers.last == "::1", "\(peers)")
        }
    }

    /// The finding: a bearer token respelled (padded, in the standard base64 alphabet, or with
    /// the spare bits of a last character set) still passed the door. Only its one text does.
    @Test func aRespelledBearerTokenIsRefusedAtTheDoor() async throws {
        let tokens = try TokenSigner(secret: TestMesh.tokenSecret, audience: .gateway)
        let token = try Self.respellableToken(tokens)
        let parts = token.split(separator: ".").map(String.init)
        let padding = String(repeating: "=", count: (4 - parts[0].count % 4) % 4)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        let last = try #require(parts[1].last.flatMap { alphabet.firstIndex(of: $0) })
        let respellings = [
            parts[0] + padding + "." + parts[1],
            parts[0] + "." + parts[1] + "=",
            String(token.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 }),
            parts[0] + "." + parts[1].dropLast() + String(alphabet[last + 1]),
        ]
        #expect(!padding.isEmpty && !respellings.contains(token))
        try await TestDatabase.with { database in
            try await GatewayApp.build(settings: try settings(database)).test(.router) { client in
                let rpc = InProcessClient(client)
                var list = Pingan_Dispute_V1_ListCasesRequest()
                list.divisionCode = Place.townA
                // The token itself passes the door, to dispute-service, which is down here.
                await expectCode(.unavailable) {
                    _ = try await rpc.call(DisputeServiceMethods.listCases, list, headers: [("Authorization", "Bearer " + token)])
                }
                for respelled in respellings {
                    await expectCode(.unauthenticated, containing: "the token is not valid") {
                        _ = try await rpc.call(DisputeServiceMethods.listCases, list, headers: [("Authorization", "Bearer " + respelled)])
                    }
                }
            }
        }
    }

    /// A token whose payload needs padding and whose text has a `-` or `_`.
    static func respellableToken(_ tokens: TokenSigner) throws -> String {
        for index in 0..<500 {
            let principal = Principal(
                subject: "user:wang\(index)", centre: try DivisionCode(validating: Place.townA), roles: [.staff],
                expiresAt: Date().addingTimeInterval(600)
            )
            let token = tokens.sign(principal)
            if token.prefix(while: { $0 != "." }).count % 4 != 0, token.contains(where: { $0 == "-" || $0 == "_" }) { return token }
        }
        throw ConnectError(.internal, "no token of 500 could be respelled every way")
    }
}
