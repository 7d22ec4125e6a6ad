import Foundation
import Hummingbird
import NotifyService
import PinganAccess
import PinganConnect

do {
    let configuration = try ServiceConfiguration.fromEnvironment(defaultPort: MeshConfiguration.Peer.notify.defaultPort)
    try await NotifyApp.build(configuration: configuration, mesh: try .fromEnvironment()).runService()
} catch {
    print("notify-service: \(error)")
    exit(1)
}
