import Foundation
import Hummingbird
import IndexService
import PinganAccess
import PinganConnect

do {
    let configuration = try ServiceConfiguration.fromEnvironment(defaultPort: MeshConfiguration.Peer.index.defaultPort)
    let interval = try EnvironmentReader().integer("INDEX_INTERVAL_SECONDS", in: 1...86_400 * 31) ?? 3600
    try await IndexApp.build(configuration: configuration, mesh: try .fromEnvironment(), interval: .seconds(interval)).runService()
} catch {
    print("index-service: \(error)")
    exit(1)
}
