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

/// The import command's options, or `nil` when the arguments are not one.
func importOptions(_ arguments: [String]) -> (kind: ImportKind, file: String, by: String, batch: Int)? {
    guard arguments.count >= 5, arguments[0] == "import", let kind = ImportKind(rawValue: arguments[1]) else { return nil }
    return parseOptions(kind, arguments)
}

/// `FILE --by WHO [--batch N]` after `import KIND`.
func parseOptions<Kind>(_ kind: Kind, _ arguments: [String]) -> (kind: Kind, file: String, by: String, batch: Int)? {
    var by: String?
    var batch = GridImporter.defaultBatchSize
    var rest = arguments.dropFirst(3)
    while let option = rest.popFirst() {
        guard let value = rest.popFirst() else { return nil }
        switch option {
        case "--by": by = value
        case "--batch":
            guard let size = Int(value), (1...100_000).contains(size) else { return nil }
            batch = size
        default: return nil
        }
    }
    guard let by else { return nil }
    return (kind, arguments[2], by, batch)
}

do {
    switch arguments.first {
    case nil, "serve":
        try await GridApp.build(settings: GridSettings(.environment)).runService()
    case "import" where arguments.count > 1 && arguments[1] == "divisions":
        // The villages a deployment registers (or a generated year's divisions.csv): all or none.
        guard arguments.count >= 5, let options = parseOptions("divisions", arguments) else {
            print(usage)
            exit(2)
        }
        let text = try String(contentsOfFile: options.file, encoding: .utf8)
        let result = try await GridApp.withImporter(settings: try GridSettings(.environment), batchSize: options.batch) { importer in
            try await importer.importDivisions(csv: text)
        }
        print("grid-service import divisions \(options.file) by \(options.by): inserted \(result.inserted), renamed \(result.updated), unchanged \(result.unchanged)")
    case "import":
        guard let options = importOptions(arguments) else {
            print(usage)
            exit(2)
        }
        let lines = try ImportLines(path: options.file)
        let summary = try await GridApp.withImporter(settings: try GridSettings(.environment), batchSize: options.batch) { importer in
            try await importer.run(options.kind, lines: lines, by: options.by) { refusal in print(refusal) }
        }
        print("grid-service import \(options.kind.rawValue) \(options.file): \(summary)")
        exit(summary.refused > 0 ? 1 : 0)
    default:
        print(usage)
        exit(2)
    }
} catch {
    print("grid-service: \(error)")
    exit(1)
}
