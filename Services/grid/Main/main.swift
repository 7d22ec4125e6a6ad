import Foundation
import GridService
import Hummingbird
import PinganAccess
import PinganConnect

do {
    let configuration = try ServiceConfiguration.fromEnvironment(defaultPort: GridApp.defaultPort)
    try await GridApp.build(configuration: configuration, mesh: try .fromEnvironment()).runService()
} catch {
    print("grid-service: \(error)")
    exit(1)
}
