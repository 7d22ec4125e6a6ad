/// The six executables of the mesh: who owns which contract, and where each listens by
/// default. Every default port is set here and nowhere else.
public enum MeshService: String, CaseIterable, Sendable {
    case gateway, grid, dispute, risk, index, notify

    /// The executable's name, which is also its logger label.
    public var executable: String { self == .gateway ? "gateway" : "\(rawValue)-service" }

    public var defaultPort: Int {
        switch self {
        case .gateway: 8080
        case .grid: 8081
        case .dispute: 8082
        case .risk: 8083
        case .index: 8084
        case .notify: 8085
        }
    }

    public var defaultURL: String { "http://127.0.0.1:\(defaultPort)" }

    /// The services behind the gateway.
    public static var peers: [MeshService] { allCases.filter { $0 != .gateway } }
}
