import Foundation
import PinganConnect

/// How a service finds its peers and proves calls come from the mesh.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `MESH_SECRET` | (required) | HMAC key for principals forwarded between services, 32+ bytes |
/// | `ROOT_DIVISION` | `430700000000` | the deployment's root division (常德市) |
/// | `GRID_URL` | `http://127.0.0.1:8081` | grid-service |
/// | `DISPUTE_URL` | `http://127.0.0.1:8082` | dispute-service |
/// | `RISK_URL` | `http://127.0.0.1:8083` | risk-service |
/// | `INDEX_URL` | `http://127.0.0.1:8084` | index-service |
/// | `NOTIFY_URL` | `http://127.0.0.1:8085` | notify-service |
public struct MeshConfiguration: Sendable {
    public enum Peer: String, CaseIterable, Sendable {
        case grid, dispute, risk, index, notify

        public var defaultPort: Int {
            switch self {
            case .grid: 8081
            case .dispute: 8082
            case .risk: 8083
            case .index: 8084
            case .notify: 8085
            }
        }

        var variable: String { rawValue.uppercased() + "_URL" }
    }

    public var meshSecret: String
    public var root: DivisionCode
    public var peers: [Peer: String]

    public init(meshSecret: String, root: DivisionCode, peers: [Peer: String] = [:]) {
        self.meshSecret = meshSecret
        self.root = root
        self.peers = peers
    }

    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> MeshConfiguration {
        let reader = EnvironmentReader(environment)
        guard let secret = reader.string("MESH_SECRET"), secret.utf8.count >= 32 else {
            throw ConfigurationError(variable: "MESH_SECRET", problem: "must be set to at least 32 bytes shared by every service")
        }
        let rootText = reader.string("ROOT_DIVISION") ?? "430700000000"
        let root: DivisionCode
        do {
            root = try DivisionCode(validating: rootText)
        } catch {
            throw ConfigurationError(variable: "ROOT_DIVISION", problem: error.description)
        }
        var peers: [Peer: String] = [:]
        for peer in Peer.allCases {
            peers[peer] = reader.string(peer.variable) ?? "http://127.0.0.1:\(peer.defaultPort)"
        }
        return MeshConfiguration(meshSecret: secret, root: root, peers: peers)
    }

    public func url(_ peer: Peer) -> String {
        peers[peer] ?? "http://127.0.0.1:\(peer.defaultPort)"
    }
}
