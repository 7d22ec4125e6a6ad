import Foundation
import GridService
import PinganRuntime

ServiceLogHandler.bootstrap()
do {
    try await GridApp.build(settings: ServiceSettings(.environment, for: .grid)).runService()
} catch {
    print("grid-service: \(error)")
    exit(1)
}
