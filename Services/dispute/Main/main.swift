import DisputeService
import Foundation
import Hummingbird
import PinganAccess
import PinganConnect

do {
    let configuration = try ServiceConfiguration.fromEnvironment(defaultPort: MeshConfiguration.Peer.dispute.defaultPort)
    try await DisputeApp.build(configuration: configuration, mesh: try .fromEnvironment()).runService()
} catch {
    print("dispute-service: \(error)")
    exit(1)
}
