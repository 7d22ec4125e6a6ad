@testable import IndexService
import Foundation
import PinganDomain
import PinganRuntime
import PinganTestSupport
import Testing

/// Issue 26: the survey results of past months brought in from the survey office's records,
/// checked line by line, a month and division loaded already left as it is.
@Suite("index: importing past surveys")
struct SurveyImportTests {
    static let clock = ManualClock(morningOf: "2026-06-15")

    func load(_ text: String, into database: TestDatabase) async throws -> ImportSummary {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("surveys-\(UUID()).csv").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try await IndexApp.importSurveys(settings: IndexSettings(service: try TestMesh.settings(databaseURL: database.url)), path: path,
                                                by: "user:survey-office", now: { Self.clock.now })
    }

    @Test func pastMonthsAreImportedOnceAndBadLinesAreNamed() async throws {
        try await TestDatabase.with { database in
            let good = """
                month,division_code,respondents,satisfied
                2026-03,430723102201,40,31
                2026-04,430723102201,38,30
                2026-04,430723103201,35,20
                """
            let first = try await load(good, into: database)
            #expect(first.imported == 3 && first.refused == 0)
            let pool = database.pool()
            defer { Task { await pool.close() } }
            let rows = try await pool.query("SELECT month, code, satisfied, loaded_by FROM index.surveys ORDER BY month, code").map {
                "\(try $0.decode(String.self, at: 0)) \(try $0.decode(String.self, at: 1)) \(try $0.decode(Int.self, at: 2)) \(try $0.decode(String.self, at: 3))"
            }
            #expect(rows == ["2026-03 430723102201 31 import:user:survey-office", "2026-04 430723102201 30 import:user:survey-office",
                             "2026-04 430723103201 20 import:user:survey-office"])
            // The survey's facts for April, as the month's computation reads them.
            let april = try await PostgresSurveyStore(pool: pool).survey(try #require(Month(parsing: "2026-04")))
            #expect(april["430723103201"]?["survey_satisfied"] == 20)
            let again = try await load(good, into: database)
            #expect(again.imported == 0 && again.alreadyPresent == 3)

            let bad = """
                month,division_code,respondents,satisfied
                2026-05,430723102201,30,25
                2026-13,430723102201,30,25
                2026-07,430723102201,30,25
                2026-05,4307,30,25
                2026-05,430723103201,0,0
                2026-05,430723103201,30,31
                2026-05,430723102201,30,24
                """
            let refused = try await load(bad, into: database)
            #expect(refused.imported == 0 && refused.batchesRefused == 1)
            let fields = Dictionary(grouping: refused.refusals, by: \.line).mapValues { Set($0.map(\.field)) }
            #expect(fields[2] == nil && fields[3] == ["month"] && fields[4] == ["month"] && fields[5] == ["division_code"])
            #expect(fields[6] == ["respondents"] && fields[7] == ["satisfied"] && fields[8] == ["division_code"])
        }
    }
}
