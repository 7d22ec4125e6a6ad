import Foundation
import IndexService
import PinganRuntime

/// `index-service` serves. `index-service import surveys FILE --by WHO [--batch N]` imports the
/// survey results of past months (docs/importing.md, "`surveys`"): it prints each refused line,
/// then a summary, and exits 1 when anything was refused. It reads the settings `serve` reads.
ServiceLogHandler.bootstrap()
let arguments = Array(CommandLine.arguments.dropFirst())
let usage = """
    usage: index-service [serve]
           index-service import surveys FILE --by WHO [--batch N]
    """
do {
    switch arguments.first {
    case nil, "serve":
        try await IndexApp.build(settings: IndexSettings(.environment)).runService()
    case "import":
        guard arguments.count >= 5, arguments[1] == "surveys", let options = ImportOptions(arguments.dropFirst(3), defaultBatch: 5000) else {
            print(usage)
            exit(2)
        }
        let summary = try await IndexApp.importSurveys(settings: try IndexSettings(.environment), path: arguments[2], by: options.by,
                                                       batchSize: options.batch, refused: { print($0) })
        print("index-service import surveys \(arguments[2]): \(summary)")
        exit(summary.refused > 0 ? 1 : 0)
    default:
        print(usage)
        exit(2)
    }
} catch {
    print("index-service: \(error)")
    exit(1)
}
