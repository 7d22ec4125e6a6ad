import Foundation
import NotifyService
import PinganRuntime

ServiceLogHandler.bootstrap()
do {
    try await NotifyApp.build(settings: NotifySettings(.environment)).runService()
} catch {
    print("notify-service: \(error)")
    exit(1)
}
