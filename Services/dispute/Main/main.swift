import DisputeService
import Foundation
import PinganRuntime

do {
    try await DisputeApp.build(settings: ServiceSettings(.environment, for: .dispute)).runService()
} catch {
    print("dispute-service: \(error)")
    exit(1)
}
