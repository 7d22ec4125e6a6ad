import Foundation
import PinganRuntime
@testable import GridService
import PinganDomain
import PinganPostgres
import PinganTestSupport
import Testing

/// The generator's `demo` preset (deploy/scripts/generate-year.py): deterministic from its
/// seed, and every record it writes goes through the import path with nothing refused.
@Suite("generated year")
struct GeneratedYearTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Runs the generator into a new directory and returns it.
    static func generate(_ arguments: [String]) async throws -> String {
        let directory = NSTemporaryDirectory() + "pingan-year-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let (status, output) = try await ChildProcess.run(
            "/usr/bin/env", ["python3", root.appendingPathComponent("deploy/scripts/generate-year.py").path] + arguments + ["--out", directory],
            environment: [:], logPath: directory + "/generator.log"
        )
        guard status == 0 else { throw TestSetupError("generate-year.py failed: \(output)") }
        return directory
    }

    static func lines(_ path: String) throws -> [[String: Any]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { line in
            try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
        }
    }

    @Test func theDemoYearIsDeterministicAndImportsWithNothingRefused() async throws {
        let arguments = ["--preset", "demo", "--seed", "7", "--end", "2026-06-30"]
        let first = try await Self.generate(arguments), second = try await Self.generate(arguments)
        defer {
            try? FileManager.default.removeItem(atPath: first)
            try? FileManager.default.removeItem(atPath: second)
        }
        for file in ["divisions.csv", "grids.ndjson", "members.ndjson", "screening.ndjson", "cases.ndjson", "manifest.json"] {
            #expect(FileManager.default.contentsEqual(atPath: "\(first)/\(file)", andPath: "\(second)/\(file)"), "\(file) differs between two runs")
        }
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: first + "/manifest.json"))) as? [String: Any] ?? [:]
        #expect(manifest["first_day"] as? String == "2025-07-01" && manifest["last_day"] as? String == "2026-06-30")

        // Everything generated is labelled so.
        let divisions = try String(contentsOfFile: first + "/divisions.csv", encoding: .utf8).split(separator: "\n").dropFirst()
        #expect(!divisions.isEmpty && divisions.allSatisfy { $0.contains("（生成）") && $0.hasPrefix("430724") })

        let clock = ManualClock(morningOf: "2026-07-10")
        try await GridSchema.with { schema in
            let importer = schema.importer(clock)
            _ = try await importer.importDivisions(csv: try String(contentsOfFile: first + "/divisions.csv", encoding: .utf8))
            for (kind, file, count) in [(ImportKind.grids, "grids", "grids"), (.members, "members", "members"), (.screening, "screening", "screenings")] {
                let summary = try await importer.run(kind, lines: try ImportLines(path: "\(first)/\(file).ndjson"), by: "generator")
                #expect(summary.refusals.isEmpty, "\(kind): \(summary.refusals.prefix(5))")
                #expect(summary.imported == manifest[count] as? Int, "\(kind): \(summary)")
            }
            // The screening's finds are the screening-sourced cases of that grid and day.
            let cases = try Self.lines(first + "/cases.ndjson")
            #expect(cases.count == manifest["cases"] as? Int)
            let found = try await schema.pool.query("SELECT sum(disputes_found)::bigint FROM grid.screenings")[0].decode(Int.self, at: 0)
            #expect(found == cases.filter { $0["source"] as? String == "screening" }.count)
            // Every grid and reporter a case names was imported, so dispute-service's import can
            // refer to them.
            let grids = Set(try await schema.pool.query("SELECT legacy_id FROM grid.grids").map { try $0.decode(String.self, at: 0) })
            let members = Set(try await schema.pool.query("SELECT legacy_id FROM grid.members").map { try $0.decode(String.self, at: 0) })
            let named = cases.compactMap { $0["grid_legacy_id"] as? String }
            #expect(!named.isEmpty && named.allSatisfy(grids.contains))
            #expect(cases.compactMap { $0["reporter_legacy_id"] as? String }.allSatisfy(members.contains))
            #expect(cases.allSatisfy { $0["generated"] as? Bool == true })
            // The index reads the generated months like any other.
            let facts = try await PostgresGridStore(pool: schema.pool, outbox: .init(schema: "grid"))
                .screeningFacts(under: try DivisionCode(validating: "430724000000"), in: Month(year: 2026, month: 3))
            #expect(facts.count > 100 && facts.allSatisfy { $0.gridDaysScreened > 0 })
        }
    }
}
