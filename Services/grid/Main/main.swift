import Foundation
import GridService
import PinganRuntime

do {
    try await GridApp.build(settings: ServiceSettings(.environment, for: .grid)).runService()
} catch {
    print("grid-service: \(error)")
    exit(1)
}
