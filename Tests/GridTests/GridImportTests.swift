import Foundation
import PinganRuntime
@testable import GridService
import PinganDomain
import PinganPostgres
import PinganTestSupport
import Testing

/// Bringing in history (issue 26): grids, members and screening days from the old system,
/// checked in batches that apply whole or not at all, and idempotent.
@Suite("grid-service import")
struct GridImportTests {
    static let today = "2026-10-20"

    @Test func everyKindOfBadGridIsReportedByLineAndNoneOfItsBatchIsApplied() async throws {
        let clock = ManualClock(morningOf: Self.today)
        try await GridSchema.with { schema in
            let good: [String: Any] = ["legacy_id": "G-1", "village_code": GridSchema.village, "name": "第一网格", "created_at": "2025-03-01T08:00:00+08:00"]
            func with(_ changes: [String: Any?]) -> [String: Any] {
                var row = good
                for (key, value) in changes { row[key] = value }
                return row
            }
            let lines = [
                try ndjson([good]),                                                         // 1: good
                "{\"legacy_id\": \"G-2\", \"name\": \n",                                  // 2: not JSON
                try ndjson([with(["legacy_id": nil, "name": "第二网格"])]),                 // 3: no legacy id
                try ndjson([with(["legacy_id": "G-4", "village_code": GridSchema.township, "name": "第四网格"])]), // 4: a township
                try ndjson([with(["legacy_id": "G-5", "village_code": "430724001299", "name": "第五网格"])]),      // 5: not registered
                try ndjson([with(["legacy_id": "G-6", "name": "第六网格", "created_at": "2026-10-21T08:00:00+08:00"])]), // 6: future
                try ndjson([with(["legacy_id": "G-7", "name": "第七网格", "created_at": "2025-02-30"])]),  // 7: not a timestamp
                try ndjson([with(["legacy_id": "G-8", "name": "第八网格", "nmae": "x"])]),  // 8: unknown field
                try ndjson([with(["name": "第九网格"])]),                                  // 9: legacy id of line 1
                try ndjson([with(["legacy_id": "G-10"])]),                                 // 10: name of line 1
                try ndjson([with(["legacy_id": "G-11", "name": String(repeating: "网", count: 101)])]), // 11: too long
                "\n",                                                                       // 12: blank, skipped
                try ndjson([with(["legacy_id": "G-13", "name": 13])]),                     // 13: not a string
                try ndjson([with(["legacy_id": "G-14", "village_code": "43072400120"])]),  // 14: malformed code
                "[1, 2]\n",                                                                 // 15: not an object
            ].joined()
            let summary = try await schema.importer(clock).run(.grids, lines: ImportLines(text: lines), by: "user:zhang")
            let refused = summary.refusals.map { "\($0.line) \($0.field)" }
            #expect(refused == [
                "2 json", "3 legacy_id", "4 village_code", "5 village_code", "6 created_at", "7 created_at", "8 nmae",
                "9 legacy_id", "10 name", "11 name", "13 name", "14 village_code", "15 json",
            ])
            #expect(summary.refusals.map(\.description).contains("line 5: village_code: 430724001299 is not a registered village; import it with DivisionService/ImportDivisions first"))
            #expect(summary.refusals.map(\.description).contains("line 6: created_at: 2026-10-21T08:00:00+08:00 is in the future"))
            #expect(summary.refusals.map(\.description).contains("line 9: legacy_id: the same legacy_id is also on line 1"))
            #expect(summary.refusals.map(\.description).contains("line 4: village_code: 430724001000 is a township code; a grid lies in a village"))
            #expect(summary.read == 14 && summary.refused == 13 && summary.notApplied == 1 && summary.imported == 0)
            #expect(summary.batchesRefused == 1 && summary.batchesApplied == 0)
            // Line 1 was good, but its batch held refused lines: nothing of it was applied.
            #expect(try await schema.count("grid.grids") == 0)
        }
    }

    @Test func badMembersAndScreeningsAreReportedWithTheirReasons() async throws {
        let clock = ManualClock(morningOf: Self.today)
        try await GridSchema.with { schema in
            let importer = schema.importer(clock)
            _ = try await importer.run(.grids, lines: ImportLines(text: try ndjson(SmallHistory.grids)), by: "user:zhang")
            let members = try await importer.run(.members, lines: ImportLines(text: try ndjson(SmallHistory.members + [
                ["legacy_id": "M-3", "grid_legacy_id": "G-9", "name": "赵某", "role": "grid_worker", "created_at": "2025-03-01T09:00:00+08:00"],
                ["legacy_id": "M-4", "grid_legacy_id": "G-1", "name": "钱某", "role": "boss", "created_at": "2025-03-01T09:00:00+08:00"],
            ])), by: "user:zhang")
            #expect(members.refusals.map(\.description) == [
                "line 3: grid_legacy_id: no grid has legacy id G-9; import the grids file first",
                "line 4: role: \"boss\" is not one of grid_worker, mediation_director, political_legal_officer, safety_volunteer",
            ])
            #expect(try await schema.count("grid.members") == 0)
            #expect(try await importer.run(.members, lines: ImportLines(text: try ndjson(SmallHistory.members)), by: "user:zhang").imported == 2)

            let good = SmallHistory.screenings[0]
            func with(_ changes: [String: Any?]) -> [String: Any] {
                var row = good
                for (key, value) in changes { row[key] = value }
                return row
            }
            let screenings = try await importer.run(.screening, lines: ImportLines(text: try ndjson([
                good,                                                                          // 1
                with(["legacy_id": "S-2", "day": "2026-10-21", "recorded_at": "2026-10-20T08:00:00+08:00"]), // 2: a day after today
                with(["legacy_id": "S-3", "day": "2023-01-05", "recorded_at": "2023-01-05T18:00:00+08:00"]), // 3: older than 36 months
                with(["legacy_id": "S-4", "day": "2025-10-04", "households_visited": 10_001]), // 4: out of range, and recorded before its day
                with(["legacy_id": "S-5", "day": "2025-10-05", "disputes_found": 1.5, "recorded_at": "2025-10-05T18:00:00+08:00"]), // 5: not whole
                with(["legacy_id": "S-6", "day": "2025-10-06", "reporter_legacy_id": "M-2", "recorded_at": "2025-10-06T18:00:00+08:00"]), // 6: not this grid's
                with(["legacy_id": "S-7", "recorded_at": "2025-10-01T19:00:00+08:00"]),       // 7: same grid and day as line 1
                with(["legacy_id": "S-8", "day": "2025-10-08", "reporter_legacy_id": "M-9", "recorded_at": "2025-10-08T18:00:00+08:00"]), // 8: no such member
                with(["legacy_id": "S-9", "day": "2025-10-09", "households_visited": "12", "recorded_at": "2025-10-09T18:00:00+08:00"]), // 9: a string
                with(["legacy_id": "S-10", "day": nil, "recorded_at": "2025-10-09T18:00:00+08:00"]), // 10: no day
            ])), by: "user:zhang")
            #expect(screenings.refusals.map(\.description) == [
                "line 2: day: 2026-10-21 is after today (2026-10-20, China time)",
                "line 3: day: 2023-01-05 is older than the retention policy keeps (from 2023-10-01, SCREENING_RETENTION_MONTHS); it would be dropped",
                "line 4: households_visited: must be a whole number between 0 and 10000, not 10001.0",
                "line 4: recorded_at: 2025-10-01T10:30:00.000Z is before the day it records (2025-10-04, China time) began",
                "line 5: disputes_found: must be a whole number between 0 and 1000, not 1.5",
                "line 6: reporter_legacy_id: member M-2 is not a member of grid G-1",
                "line 7: day: a screening of the same grid and day is also on line 1",
                "line 8: reporter_legacy_id: no member has legacy id M-9; import the members file first",
                "line 9: households_visited: must be a number, not a string",
                "line 10: day: is required",
            ])
            #expect(screenings.refused == 9 && screenings.notApplied == 1)
            #expect(try await schema.count("grid.screenings") == 0)
        }
    }

    @Test func aRefusedBatchLeavesTheOthersApplied() async throws {
        let clock = ManualClock(morningOf: Self.today)
        try await GridSchema.with { schema in
            let grids = (1...6).map { index -> [String: Any] in
                ["legacy_id": "G-\(index)", "village_code": GridSchema.village, "name": "第\(index)网格", "created_at": "2025-03-01T08:00:00+08:00"]
            }
            var file = try ndjson(grids).split(separator: "\n").map(String.init)
            file[3] = "not json"
            let summary = try await schema.importer(clock, batchSize: 2).run(.grids, lines: ImportLines(text: file.joined(separator: "\n")), by: "user:zhang")
            #expect(summary.refusals.map(\.description) == ["line 4: json: not a JSON object on one line"])
            #expect(summary.batchesApplied == 2 && summary.batchesRefused == 1 && summary.imported == 4 && summary.notApplied == 1)
            let stored = try await schema.pool.query("SELECT legacy_id FROM grid.grids ORDER BY legacy_id").map { try $0.decode(String.self, at: 0) }
            #expect(stored == ["G-1", "G-2", "G-5", "G-6"])
            // The line fixed, the same file again brings in the rest and nothing twice.
            file[3] = try ndjson([grids[3]]).trimmingCharacters(in: .newlines)
            let again = try await schema.importer(clock, batchSize: 2).run(.grids, lines: ImportLines(text: file.joined(separator: "\n")), by: "user:zhang")
            #expect(again.imported == 2 && again.alreadyPresent == 4 && again.refused == 0)
            #expect(try await schema.count("grid.grids") == 6)
        }
    }

    @Test func importingTheSameFilesAgainChangesNothing() async throws {
        let clock = ManualClock(morningOf: Self.today)
        try await GridSchema.with { schema in
            let files: [(ImportKind, String)] = [
                (.grids, try ndjson(SmallHistory.grids)), (.members, try ndjson(SmallHistory.members)), (.screening, try ndjson(SmallHistory.screenings)),
            ]
            for (kind, text) in files {
                let summary = try await schema.importer(clock).run(kind, lines: ImportLines(text: text), by: "user:zhang")
                #expect(summary.refused == 0 && summary.alreadyPresent == 0 && summary.imported == summary.read)
            }
            let tables = ["grid.grids", "grid.members", "grid.screenings"]
            var before: [[String]] = []
            for table in tables { before.append(try await schema.snapshot(table)) }
            clock.advance(by: 86_400)
            for (kind, text) in files {
                let summary = try await schema.importer(clock).run(kind, lines: ImportLines(text: text), by: "user:li")
                #expect(summary.imported == 0 && summary.alreadyPresent == summary.read && summary.refused == 0)
            }
            var after: [[String]] = []
            for table in tables { after.append(try await schema.snapshot(table)) }
            #expect(after == before)
            #expect(before.map(\.count) == [2, 2, 6])
        }
    }

    /// A line that stops the import (longer than the limit) stops it there: the batches before
    /// it are applied, as they would be one after another, and nothing after it.
    @Test func aLineThatStopsTheImportLeavesTheBatchesBeforeItApplied() async throws {
        let clock = ManualClock(morningOf: Self.today)
        try await GridSchema.with { schema in
            let grids = (1...3).map { index -> [String: Any] in
                ["legacy_id": "G-\(index)", "village_code": GridSchema.village, "name": "第\(index)网格", "created_at": "2025-03-01T08:00:00+08:00"]
            }
            let text = try ndjson(Array(grids.prefix(2))) + String(repeating: "x", count: ImportLines.maxLineBytes + 1) + "\n" + (try ndjson([grids[2]]))
            await #expect(throws: ImportError.lineTooLong(3, limit: ImportLines.maxLineBytes)) {
                _ = try await schema.importer(clock, batchSize: 1).run(.grids, lines: ImportLines(text: text), by: "user:zhang")
            }
            let stored = try await schema.pool.query("SELECT legacy_id FROM grid.grids ORDER BY legacy_id").map { try $0.decode(String.self, at: 0) }
            #expect(stored == ["G-1", "G-2"])
        }
    }

    /// A day the grid's worker recorded before the import is left as it is; the batch's other
    /// days go in beside it.
    @Test func aDayRecordedAlreadyIsLeftAsItIsAndTheRestOfItsBatchGoesIn() async throws {
        let clock = ManualClock(morningOf: Self.today)
        try await GridSchema.with { schema in
            let importer = schema.importer(clock)
            _ = try await importer.run(.grids, lines: ImportLines(text: try ndjson(SmallHistory.grids)), by: "user:zhang")
            _ = try await importer.run(.members, lines: ImportLines(text: try ndjson(SmallHistory.members)), by: "user:zhang")
            _ = try await partitionsFor(schema, clock)
            try await schema.pool.query(
                """
                INSERT INTO grid.screenings (grid_id, day, village_code, reporter_member_id, households_visited, disputes_found, recorded_at)
                SELECT g.id, DATE '2025-10-02', g.village_code, m.id, 99, 0, now() FROM grid.grids g JOIN grid.members m ON m.grid_id = g.id
                WHERE g.legacy_id = 'G-1'
                """
            )
            let summary = try await importer.run(.screening, lines: ImportLines(text: try ndjson(SmallHistory.screenings)), by: "user:zhang")
            #expect(summary.imported == 5 && summary.alreadyPresent == 1 && summary.refused == 0)
            let kept = try await schema.pool.query(
                "SELECT s.households_visited, s.legacy_id FROM grid.screenings s JOIN grid.grids g ON g.id = s.grid_id WHERE g.legacy_id = 'G-1' AND day = '2025-10-02'"
            )
            #expect(kept.count == 1)
            let households = try kept.first?.decode(Int.self, at: 0)
            let legacyID = try kept.first?.decode(String?.self, at: 1)
            #expect(households == 99 && legacyID == .some(nil))
            #expect(try await schema.count("grid.screenings") == 6)
        }
    }

    /// Rows whose key another writer took between the batch's check and its `COPY` (a unique
    /// violation) go through a temporary table instead: the rest are written, the taken ones
    /// left as they are, in the same transaction.
    @Test func rowsWhoseKeyWasTakenSinceTheCheckGoThroughATemporaryTable() async throws {
        let clock = ManualClock(morningOf: Self.today)
        try await GridSchema.with { schema in
            let importer = schema.importer(clock)
            _ = try await importer.run(.grids, lines: ImportLines(text: try ndjson(SmallHistory.grids)), by: "user:zhang")
            let before = try await schema.snapshot("grid.grids")
            let now = clock.now
            let written = try await schema.pool.transaction { transaction in
                try await importer.write(
                    [[UUID.random(), GridSchema.village, "改名", now, "G-1", "user:li", now],
                     [UUID.random(), GridSchema.village, "第九网格", now, "G-9", "user:li", now]],
                    into: "grid.grids", columns: ["id", "village_code", "name", "created_at", "legacy_id", "imported_by", "imported_at"],
                    keyedBy: "legacy_id", transaction
                )
            }
            #expect(written == 1)
            let after = try await schema.snapshot("grid.grids")
            #expect(after.count == 3 && before.allSatisfy(after.contains))
            let names = try await schema.pool.query("SELECT name FROM grid.grids ORDER BY legacy_id").map { try $0.decode(String.self, at: 0) }
            #expect(names == ["安福一村第一网格", "安福一村第二网格", "第九网格"])
        }
    }

    func partitionsFor(_ schema: GridSchema, _ clock: ManualClock) async throws -> [Month] {
        try await ScreeningPartitions(pool: schema.pool, retention: .default).ensure([Month(year: 2025, month: 10)])
    }

    @Test func importedRecordsKeepTheirTimesAndSayWhoImportedThem() async throws {
        let clock = ManualClock(morningOf: Self.today)
        try await GridSchema.with { schema in
            let importer = schema.importer(clock)
            _ = try await importer.run(.grids, lines: ImportLines(text: try ndjson(SmallHistory.grids)), by: "user:zhang")
            _ = try await importer.run(.members, lines: ImportLines(text: try ndjson(SmallHistory.members)), by: "user:zhang")
            _ = try await importer.run(.screening, lines: ImportLines(text: try ndjson(SmallHistory.screenings)), by: "user:zhang")
            let grid = try await schema.pool.query("SELECT created_at, imported_by, imported_at FROM grid.grids WHERE legacy_id = 'G-1'")[0]
            #expect(try grid.decode(Date.self, at: 0) == Date(wireTimestamp: "2025-03-01T08:00:00+08:00"))
            #expect(try grid.decode(String.self, at: 1) == "user:zhang")
            #expect(try grid.decode(Date.self, at: 2) == clock.now.atPostgresPrecision)
            let member = try await schema.pool.query("SELECT m.created_at, m.imported_by, g.legacy_id FROM grid.members m JOIN grid.grids g ON g.id = m.grid_id WHERE m.legacy_id = 'M-2'")[0]
            #expect(try member.decode(Date.self, at: 0) == Date(wireTimestamp: "2025-03-02T09:00:00+08:00"))
            #expect(try member.decode(String.self, at: 1) == "user:zhang" && member.decode(String.self, at: 2) == "G-2")
            let screening = try await schema.pool.query(
                "SELECT recorded_at, imported_by, imported_at, village_code, households_visited FROM grid.screenings WHERE legacy_id = 'S-1-2'"
            )[0]
            #expect(try screening.decode(Date.self, at: 0) == Date(wireTimestamp: "2025-10-02T18:30:00+08:00"))
            #expect(try screening.decode(String.self, at: 1) == "user:zhang" && screening.decode(String.self, at: 3) == GridSchema.village)
            #expect(try screening.decode(Int.self, at: 4) == 12)
            // Records made in Pingan say nothing of an import.
            let store = PostgresGridStore(pool: schema.pool, outbox: .init(schema: "grid"))
            let made = try await store.createGrid(village: try DivisionCode(validating: GridSchema.sibling), name: "新网格", now: clock.now, key: nil)
            let fresh = try await schema.pool.query("SELECT legacy_id, imported_by, imported_at FROM grid.grids WHERE id = $1", [made.id])[0]
            #expect(try fresh.decode(String?.self, at: 0) == nil && fresh.decode(String?.self, at: 1) == nil && fresh.decode(Date?.self, at: 2) == nil)
            // The index reads imported days as it reads recorded ones.
            let facts = try await store.screeningFacts(under: try DivisionCode(validating: "430724000000"), in: Month(year: 2025, month: 10))
            #expect(facts == [ScreeningFacts(village: GridSchema.village, grids: 2, gridDaysScreened: 6, nothingFoundDays: 4, householdsVisited: 72, disputesFound: 2)])
        }
    }

    /// The executable's own command, as an operator runs it: refused lines printed, exit 1;
    /// a clean file, exit 0.
    @Test func theImportCommandPrintsRefusalsAndExitsNonZero() async throws {
        let bin = try TestEnvironment.variable("PINGAN_BIN")
        try await GridSchema.with { schema in
            let directory = NSTemporaryDirectory() + "pingan-import-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let environment = ["DATABASE_URL": schema.database.url, "MESH_SECRET": TestMesh.secret, "LOG_LEVEL": "error"]
            try (try ndjson(SmallHistory.grids) + "{oops\n").write(toFile: directory + "/bad.ndjson", atomically: true, encoding: .utf8)
            let (refused, output) = try await ChildProcess.run(
                bin + "/grid-service", ["import", "grids", directory + "/bad.ndjson", "--by", "user:ops"], environment: environment, logPath: directory + "/bad.log"
            )
            #expect(refused == 1)
            #expect(output.contains("line 3: json: not a JSON object on one line"))
            #expect(output.contains("read 3, imported 0, already present 0, refused 1"))
            try (try ndjson(SmallHistory.grids)).write(toFile: directory + "/good.ndjson", atomically: true, encoding: .utf8)
            let (status, summary) = try await ChildProcess.run(
                bin + "/grid-service", ["import", "grids", directory + "/good.ndjson", "--by", "user:ops"], environment: environment, logPath: directory + "/good.log"
            )
            #expect(status == 0)
            #expect(summary.contains("read 2, imported 2, already present 0, refused 0"))
            #expect(try await schema.pool.query("SELECT imported_by FROM grid.grids").map { try $0.decode(String.self, at: 0) } == ["user:ops", "user:ops"])
        }
    }
}
