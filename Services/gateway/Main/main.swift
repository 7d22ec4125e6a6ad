import Foundation
import GatewayService
import Hummingbird
import PinganAccess
import PinganConnect

/// `gateway` serves. `gateway add-user USERNAME CENTRE ROLES` (password in PINGAN_PASSWORD)
/// and `gateway add-api-key NAME CENTRE ROLES` (prints the key) manage accounts; ROLES is a
/// comma-separated list such as `staff,mediator`.
let arguments = Array(CommandLine.arguments.dropFirst())
do {
    let configuration = try ServiceConfiguration.fromEnvironment(defaultPort: GatewayApp.defaultPort)
    let bcryptCost = UInt8(try EnvironmentReader().integer("BCRYPT_COST", in: 4...16) ?? 11)
    switch arguments.first {
    case nil, "serve":
        let mesh = try MeshConfiguration.fromEnvironment()
        try await GatewayApp.build(configuration: configuration, mesh: mesh, settings: try .fromEnvironment(mesh: mesh)).runService()
    case "add-user" where arguments.count == 4:
        guard let password = ProcessInfo.processInfo.environment["PINGAN_PASSWORD"] else {
            throw ConfigurationError(variable: "PINGAN_PASSWORD", problem: "must hold the new user's password")
        }
        let centre = try DivisionCode(validating: arguments[2])
        try await GatewayApp.withAccounts(configuration: configuration, bcryptCost: bcryptCost) { accounts in
            try await accounts.saveUser(username: arguments[1], password: password, centre: centre, roles: Set(arguments[3].split(separator: ",").map { Role(rawValue: String($0)) }))
        }
        print("saved user \(arguments[1]) for centre \(centre)")
    case "add-api-key" where arguments.count == 4:
        let centre = try DivisionCode(validating: arguments[2])
        let key = try await GatewayApp.withAccounts(configuration: configuration, bcryptCost: bcryptCost) { accounts in
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
