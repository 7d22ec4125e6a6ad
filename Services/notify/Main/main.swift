import Foundation
import NotifyService
import PinganRuntime

do {
    try await NotifyApp.build(settings: ServiceSettings(.environment, for: .notify)).runService()
} catch {
    print("notify-service: \(error)")
    exit(1)
}
