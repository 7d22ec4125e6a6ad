import Foundation
import PinganRuntime
import RiskService

ServiceLogHandler.bootstrap()
do {
    try await RiskApp.build(settings: RiskSettings(.environment)).runService()
} catch {
    print("risk-service: \(error)")
    exit(1)
}
