import Foundation
import PinganAccess

/// The mesh settings tests run services with, and principals signed for them.
public enum TestMesh {
    public static let secret = "pingan-test-mesh-secret-0123456789abcdef"
    public static let tokenSecret = "pingan-test-token-secret-0123456789abcdef"
    public static let root = "430700000000"

    public static func configuration(peers: [MeshConfiguration.Peer: String] = [:]) throws -> MeshConfiguration {
        MeshConfiguration(meshSecret: secret, root: try DivisionCode(validating: root), peers: peers)
    }

    /// The `Pingan-Principal` header for a caller acting for `centre` with `roles`.
    public static func principal(centre: String, roles: Set<Role>, subject: String = "user:test") throws -> (String, String) {
        let principal = Principal(subject: subject, centre: try DivisionCode(validating: centre), roles: roles, expiresAt: Date().addingTimeInterval(600))
        return try Jurisdiction(meshSecret: secret).header(for: principal)
    }
}
