import Foundation
import GatewayService
import PinganAccess
import PinganDomain
import PinganRuntime

/// `gateway` serves. `gateway add-user USERNAME CENTRE ROLES` (password in PINGAN_PASSWORD)
/// makes the first administrator, and `gateway add-api-key NAME CENTRE ROLES` (prints the key)
/// a key for scripts; ROLES is a comma-separated list such as `admin,staff`. Both read the
/// settings `serve` reads, so they run with the gateway's own environment (in its container:
/// `docker compose exec gateway gateway add-user ...`). Every other account is made by that
/// administrator through `AdminService` or the dashboard's 账号管理 page, which audit each change.
ServiceLogHandler.bootstrap()
let arguments = Array(CommandLine.arguments.dropFirst())
do {
    let settings = try GatewaySettings(.environment)
    switch arguments.first {
    case nil, "serve":
        try await GatewayApp.build(settings: settings).runService()
    case "add-user" where arguments.count == 4:
        guard let password = ProcessInfo.processInfo.environment["PINGAN_PASSWORD"] else {
            throw ConfigurationError(variable: "PINGAN_PASSWORD", problem: "must hold the new user's password")
        }
        let centre = try DivisionCode(validating: arguments[2])
        try await GatewayApp.withAccounts(settings: settings) { accounts in
            try await accounts.saveUser(username: arguments[1], password: password, centre: centre, roles: Set(arguments[3].split(separator: ",").map { Role(rawValue: String($0)) }))
        }
        print("saved user \(arguments[1]) for centre \(centre)")
    case "add-api-key" where arguments.count == 4:
        let centre = try DivisionCode(validating: arguments[2])
        let key = try await GatewayApp.withAccounts(settings: settings) { accounts in
            try await accounts.createAPIKey(name: arguments[1], centre: centre, roles: Set(arguments[3].split(separator: ",").map { Role(rawValue: String($0)) }))
        }
        print(key)
    default:
        print("""
        usage: gateway [serve] | gateway add-user USERNAME CENTRE ROLES | gateway add-api-key NAME CENTRE ROLES
        add-user is for the first administrator (password in PINGAN_PASSWORD); the rest through AdminService or /ui/admin.
        """)
        exit(2)
    }
} catch {
    print("gateway: \(error)")
    exit(1)
}
