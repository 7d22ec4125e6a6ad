import DisputeService
import Foundation
import PinganRuntime

/// `dispute-service` serves. `dispute-service scan-overdue` runs the overdue scan once, now,
/// and prints how many steps it marked and how long it took.
ServiceLogHandler.bootstrap()
do {
    let settings = try DisputeSettings(.environment)
    switch CommandLine.arguments.dropFirst().first {
    case nil, "serve":
        try await DisputeApp.build(settings: settings).runService()
    case "scan-overdue":
        let started = ContinuousClock.now
        let marked = try await DisputeApp.scanOverdueOnce(settings: settings)
        print("marked \(marked) overdue step(s) in \(ContinuousClock.now - started)")
    default:
        print("usage: dispute-service [serve] | dispute-service scan-overdue")
        exit(2)
    }
} catch {
    print("dispute-service: \(error)")
    exit(1)
}
