import Foundation
import GatewayService
import PinganAccess
import PinganDomain
import PinganRuntime

/// `gateway` serves. `gateway add-user USERNAME CENTRE ROLES` (password in PINGAN_PASSWORD)
/// and `gateway add-api-key NAME CENTRE ROLES` (prints the key) manage accounts; ROLES is a
/// comma-separated list such as `staff,mediator`.
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
        print("usage: gateway [serve] | gateway add-user USERNAME CENTRE ROLES | gateway add-api-key NAME CENTRE ROLES")
        exit(2)
    }
} catch {
    print("gateway: \(error)")
    exit(1)
}
