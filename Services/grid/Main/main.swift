import Foundation
import GridService
import PinganRuntime

/// `grid-service` serves. `grid-service import grids|members|screening FILE --by WHO [--batch N]`
/// imports history from the system a deployment replaces (docs/importing.md): one NDJSON file
/// per record type, checked and applied in batches; it prints each refused line, then a
/// summary, and exits 1 when anything was refused. `grid-service import divisions FILE --by WHO`
/// registers villages from a CSV (all or none), as `DivisionService/ImportDivisions` does. It reads the settings `serve` reads, so it
/// runs with the service's own environment (`DATABASE_URL`, `MESH_SECRET`, ...).
ServiceLogHandler.bootstrap()
let arguments = Array(CommandLine.arguments.dropFirst())
let usage = """
    usage: grid-service [serve]
           grid-service import divisions|grids|members|screening FILE --by WHO [--batch N]
    """

/// The import command's kind, file and options, or `nil` when the arguments are not one.
func importOptions(_ arguments: [String]) -> (kind: ImportKind, file: String, options: ImportOptions)? {
    guard arguments.count >= 5, arguments[0] == "import", let kind = ImportKind(rawValue: arguments[1]),
          let options = ImportOptions(arguments.dropFirst(3), defaultBatch: GridImporter.defaultBatchSize)
    else { return nil }
    return (kind, arguments[2], options)
}

do {
    switch arguments.first {
    case nil, "serve":
        try await GridApp.build(settings: GridSettings(.environment)).runService()
    case "import" where arguments.count > 1 && arguments[1] == "divisions":
        // The villages a deployment registers (or a generated year's divisions.csv): all or none.
        guard arguments.count >= 5, let options = ImportOptions(arguments.dropFirst(3), defaultBatch: GridImporter.defaultBatchSize) else {
            print(usage)
            exit(2)
        }
        let file = arguments[2]
        let text = try String(contentsOfFile: file, encoding: .utf8)
        let result = try await GridApp.withImporter(settings: try GridSettings(.environment), batchSize: options.batch) { importer in
            try await importer.importDivisions(csv: text)
        }
        print("grid-service import divisions \(file) by \(options.by): inserted \(result.inserted), renamed \(result.updated), unchanged \(result.unchanged)")
    case "import":
        guard let (kind, file, options) = importOptions(arguments) else {
            print(usage)
            exit(2)
        }
        let lines = try ImportLines(path: file)
        let summary = try await GridApp.withImporter(settings: try GridSettings(.environment), batchSize: options.batch) { importer in
            try await importer.run(kind, lines: lines, by: options.by) { refusal in print(refusal) }
        }
        print("grid-service import \(kind.rawValue) \(file): \(summary)")
        exit(summary.refused > 0 ? 1 : 0)
    default:
        print(usage)
        exit(2)
    }
} catch {
    print("grid-service: \(error)")
    exit(1)
}
