import Foundation
import Hummingbird
import PinganAccess
import PinganConnect
import RiskService

do {
    let configuration = try ServiceConfiguration.fromEnvironment(defaultPort: MeshConfiguration.Peer.risk.defaultPort)
    let threshold = try EnvironmentReader().integer("RISK_THRESHOLD", in: 0...100) ?? 60
    try await RiskApp.build(configuration: configuration, mesh: try .fromEnvironment(), threshold: threshold).runService()
} catch {
    print("risk-service: \(error)")
    exit(1)
}
