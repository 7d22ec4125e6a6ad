import Foundation
import IndexService
import PinganRuntime

ServiceLogHandler.bootstrap()
do {
    try await IndexApp.build(settings: IndexSettings(.environment)).runService()
} catch {
    print("index-service: \(error)")
    exit(1)
}
