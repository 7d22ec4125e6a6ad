import Foundation
import PinganAccess
import PinganContracts
import PinganDomain
import PinganRuntime

/// The mesh settings tests run services with, and principals signed for them.
public enum TestMesh {
    public static let secret = "pingan-test-mesh-secret-0123456789abcdef"
    public static let tokenSecret = "pingan-test-token-secret-0123456789abcdef"
    public static let root = "430700000000"

    public static func mesh(peers: [MeshService: String] = [:]) throws -> MeshSettings {
        MeshSettings(meshSecret: secret, root: try DivisionCode(validating: root), peers: peers)
    }

    /// Settings for a service on `databaseURL`, listening on a free port, with peers at
    /// `peers` (unreachable by default: an in-process test drives one service alone).
    public static func settings(databaseURL: String, peers: [MeshService: String] = [:]) throws -> ServiceSettings {
        var unreachable: [MeshService: String] = [:]
        for peer in MeshService.peers { unreachable[peer] = "http://127.0.0.1:9" }
        return ServiceSettings(port: 0, databaseURL: databaseURL, poolSize: 4, logLevel: .critical, mesh: try mesh(peers: unreachable.merging(peers) { $1 }))
    }

    /// The `Pingan-Principal` header for a caller acting for `centre` with `roles`.
    public static func principal(centre: String, roles: Set<Role>, subject: String = "user:test") throws -> (String, String) {
        let principal = Principal(subject: subject, centre: try DivisionCode(validating: centre), roles: roles, expiresAt: Date().addingTimeInterval(600))
        return try PrincipalVerifier(meshSecret: secret).header(for: principal)
    }

    /// The headers of an event delivery from the mesh itself.
    public static func eventDelivery(_ id: UUID = UUID()) throws -> [(String, String)] {
        [try PrincipalVerifier(meshSecret: secret).header(for: .system("test", root: try DivisionCode(validating: root))), ("Pingan-Event-Id", id.uuidString.lowercased())]
    }
}
