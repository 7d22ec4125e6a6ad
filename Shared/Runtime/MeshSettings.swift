import PinganContracts
import PinganDomain

/// How a service finds its peers and proves calls come from the mesh.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `MESH_SECRET` | (required) | HMAC key for principals forwarded between services, 32+ bytes |
/// | `MESH_SECRET_PREVIOUS` | (none) | the key before a rotation, still accepted (never used to sign) |
/// | `ROOT_DIVISION` | `430700000000` | the deployment's root division (常德市) |
/// | `GRID_URL` | `http://127.0.0.1:8081` | grid-service |
/// | `DISPUTE_URL` | `http://127.0.0.1:8082` | dispute-service |
/// | `RISK_URL` | `http://127.0.0.1:8083` | risk-service |
/// | `INDEX_URL` | `http://127.0.0.1:8084` | index-service |
/// | `NOTIFY_URL` | `http://127.0.0.1:8085` | notify-service |
public struct MeshSettings: Sendable {
    public var meshSecret: String
    /// Keys from before a rotation that still verify.
    public var previousMeshSecrets: [String]
    public var root: DivisionCode
    public var peers: [MeshService: String]

    public init(meshSecret: String, previousMeshSecrets: [String] = [], root: DivisionCode, peers: [MeshService: String] = [:]) {
        self.meshSecret = meshSecret
        self.previousMeshSecrets = previousMeshSecrets
        self.root = root
        self.peers = peers
    }

    public init(_ reader: SettingsReader) throws(ConfigurationError) {
        let secret = try reader.secret("MESH_SECRET", purpose: "shared by every service to sign forwarded principals")
        let rootText = reader.string("ROOT_DIVISION") ?? "430700000000"
        let root: DivisionCode
        do {
            root = try DivisionCode(validating: rootText)
        } catch {
            throw ConfigurationError(variable: "ROOT_DIVISION", problem: error.description)
        }
        var peers: [MeshService: String] = [:]
        for peer in MeshService.peers {
            peers[peer] = reader.string(peer.rawValue.uppercased() + "_URL") ?? peer.defaultURL
        }
        var previous: [String] = []
        if reader.string("MESH_SECRET_PREVIOUS", isSecret: true) != nil {
            previous = [try reader.secret("MESH_SECRET_PREVIOUS", purpose: "the mesh key before a rotation, still accepted")]
        }
        self.init(meshSecret: secret, previousMeshSecrets: previous, root: root, peers: peers)
    }

    /// The base URL of `peer`.
    public func url(_ peer: MeshService) -> String {
        peers[peer] ?? peer.defaultURL
    }
}
