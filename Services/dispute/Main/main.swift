import DisputeService
import Foundation
import PinganRuntime

/// `dispute-service` serves. `dispute-service scan-overdue` runs the overdue scan once, now,
/// and prints how many steps it marked and how long it took; `dispute-service erase-parties`
/// erases, now, the parties' data of the cases whose term (`PARTY_RETENTION_DAYS`) is over,
/// which the service otherwise does hourly. `dispute-service import cases
/// FILE --by WHO [--batch N]` imports the cases of the system a deployment replaces
/// (docs/importing.md), and `dispute-service import reports FILE --by WHO [--source S]` a
/// source's reports in bulk (a day of the grid chat groups' screening notes, say): each prints
/// each refused line, then a summary, and exits 1 when anything was refused. All read the
/// settings `serve` reads.
ServiceLogHandler.bootstrap()
let usage = """
    usage: dispute-service [serve]
           dispute-service scan-overdue
           dispute-service erase-parties
           dispute-service import cases FILE --by WHO [--batch N]
           dispute-service import reports FILE --by WHO [--source screening|hotline|police_transfer|walk_in|department_referral|citizen_app] [--batch N]
    """
let arguments = Array(CommandLine.arguments.dropFirst())
do {
    let settings = try DisputeSettings(.environment)
    switch arguments.first {
    case nil, "serve":
        try await DisputeApp.build(settings: settings).runService()
    case "scan-overdue":
        let started = ContinuousClock.now
        let marked = try await DisputeApp.scanOverdueOnce(settings: settings)
        print("marked \(marked) overdue step(s) in \(ContinuousClock.now - started)")
    case "erase-parties":
        let started = ContinuousClock.now
        let erased = try await DisputeApp.erasePartiesOnce(settings: settings)
        print("erased the parties' data of \(erased) case(s) in \(ContinuousClock.now - started)")
    case "import" where arguments.count >= 5 && arguments[1] == "reports":
        // --source is read here; the rest are the common options.
        var rest = Array(arguments.dropFirst(3))
        var source = "screening"
        if let at = rest.firstIndex(of: "--source"), at + 1 < rest.count {
            source = rest[at + 1]
            rest.removeSubrange(at...(at + 1))
        }
        guard let options = ImportOptions(rest, defaultBatch: 500) else {
            print(usage)
            exit(2)
        }
        let summary = try await DisputeApp.importReports(settings: settings, path: arguments[2], source: source, by: options.by,
                                                         batchSize: options.batch, refused: { print($0) })
        print("dispute-service import reports \(arguments[2]): \(summary)")
        exit(summary.refused > 0 ? 1 : 0)
    case "import":
        guard arguments.count >= 5, arguments[1] == "cases", let options = ImportOptions(arguments.dropFirst(3), defaultBatch: 1000) else {
            print(usage)
            exit(2)
        }
        let summary = try await DisputeApp.importCases(settings: settings, path: arguments[2], by: options.by, batchSize: options.batch, refused: { print($0) })
        print("dispute-service import cases \(arguments[2]): \(summary)")
        exit(summary.refused > 0 ? 1 : 0)
    default:
        print(usage)
        exit(2)
    }
} catch {
    print("dispute-service: \(error)")
    exit(1)
}
