import Foundation
import GridService
import Hummingbird
import PinganConnect

do {
    let configuration = try ServiceConfiguration.fromEnvironment(defaultPort: GridApp.defaultPort)
    try await GridApp.build(configuration: configuration).runService()
} catch {
    print("grid-service: \(error)")
    exit(1)
}
