import Foundation
import PinganRuntime
import RiskService

/// `risk-service` serves. `risk-service import warnings FILE --by WHO [--batch N]` imports the
/// warnings of the system a deployment replaces, with their closed loops (docs/importing.md):
/// it prints each refused line, then a summary, and exits 1 when anything was refused.
ServiceLogHandler.bootstrap()
let arguments = Array(CommandLine.arguments.dropFirst())
let usage = """
    usage: risk-service [serve]
           risk-service import warnings FILE --by WHO [--batch N]
    """
do {
    switch arguments.first {
    case nil, "serve":
        try await RiskApp.build(settings: RiskSettings(.environment)).runService()
    case "import":
        guard arguments.count >= 5, arguments[1] == "warnings", let options = ImportOptions(arguments.dropFirst(3), defaultBatch: 2000) else {
            print(usage)
            exit(2)
        }
        let summary = try await RiskApp.importWarnings(settings: try RiskSettings(.environment), path: arguments[2], by: options.by,
                                                       batchSize: options.batch, refused: { print($0) })
        print("risk-service import warnings \(arguments[2]): \(summary)")
        exit(summary.refused > 0 ? 1 : 0)
    default:
        print(usage)
        exit(2)
    }
} catch {
    print("risk-service: \(error)")
    exit(1)
}
