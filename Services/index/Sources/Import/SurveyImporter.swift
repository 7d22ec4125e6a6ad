import Foundation
import PinganDomain
import PinganPostgres
import PinganRuntime

/// Imports the public-opinion survey results of past months (`index-service import surveys FILE
/// --by WHO`): a CSV of `month,division_code,respondents,satisfied`, one division and month a
/// line, as the city's survey office keeps them. A month and division loaded already (by an
/// earlier import or by `LoadSurveyResults`) is left as it is, so the same file again changes
/// nothing; a frozen month's scores change only when it is recomputed under the existing rules.
struct SurveyImporter: Sendable {
    static let defaultBatchSize = 5000
    static let header = ["month", "division_code", "respondents", "satisfied"]

    struct Row: Sendable {
        let line: Int
        let month: Month
        let code: DivisionCode
        let respondents: Int
        let satisfied: Int
    }

    let pool: PostgresPool
    let batchSize: Int
    let now: @Sendable () -> Date

    func run(_ lines: ImportLines, by importer: String, refused: @Sendable (ImportRefusal) -> Void = { _ in }) async throws -> ImportSummary {
        var lines = lines
        guard let (_, first) = try lines.next(),
              CSVFields.split(first.trimmingCharacters(in: .whitespaces))?.map({ $0.trimmingCharacters(in: .whitespaces) }) == Self.header
        else { throw ImportError.badArgument("line 1: the header must be \(Self.header.joined(separator: ","))") }
        let importedAt = now()
        let current = Month(containing: importedAt)
        return try await ImportBatches.run(
            lines, by: importer, batchSize: batchSize, refused: refused,
            parse: { text, line in Self.check(text, line: line, current: current) },
            apply: { batch, refused in try await apply(batch, refused: refused, by: "import:\(importer.trimmingCharacters(in: .whitespaces))", at: importedAt) }
        )
    }

    static func check(_ text: String, line: Int, current: Month) -> ImportBatches.Parsed<Row> {
        guard let cells = CSVFields.split(text)?.map({ $0.trimmingCharacters(in: .whitespaces) }), cells.count == header.count else {
            return .refused([ImportRefusal(line: line, field: "line", reason: "is not four fields: \(header.joined(separator: ","))")])
        }
        var refusals: [ImportRefusal] = []
        let month = Month(parsing: cells[0])
        if month == nil { refusals.append(ImportRefusal(line: line, field: "month", reason: "must be YYYY-MM")) }
        if let month, month.description > current.description { refusals.append(ImportRefusal(line: line, field: "month", reason: "is in the future")) }
        let code = try? DivisionCode(validating: cells[1])
        if code == nil { refusals.append(ImportRefusal(line: line, field: "division_code", reason: "must be a 12-digit division code")) }
        let respondents = Int(cells[2])
        if respondents.map({ !(1...1_000_000).contains($0) }) ?? true {
            refusals.append(ImportRefusal(line: line, field: "respondents", reason: "must be a whole number from 1 to 1,000,000"))
        }
        let satisfied = Int(cells[3])
        if satisfied.map({ $0 < 0 || $0 > (respondents ?? 0) }) ?? true {
            refusals.append(ImportRefusal(line: line, field: "satisfied", reason: "must be a whole number from 0 to respondents"))
        }
        guard refusals.isEmpty, let month, let code, let respondents, let satisfied else { return .refused(refusals) }
        return .record(Row(line: line, month: month, code: code, respondents: respondents, satisfied: satisfied))
    }

    func apply(_ batch: [Row], refused: [ImportRefusal], by importer: String, at importedAt: Date) async throws -> ImportBatches.Outcome {
        let found = refused + ImportBatches.repeats(batch, key: { "\($0.month) \($0.code)" }, line: \.line, field: "division_code",
                                                    what: "the same month and division")
        guard found.isEmpty else { return .refused(found) }
        return .applied(try await pool.transaction { transaction in
            try await transaction.query("CREATE TEMP TABLE import_surveys (month text, code text, respondents integer, satisfied integer) ON COMMIT DROP")
            try await transaction.copy(into: "import_surveys", columns: ["month", "code", "respondents", "satisfied"],
                                       rows: batch.map { [$0.month.description, $0.code.rawValue, $0.respondents, $0.satisfied] })
            return try await transaction.query(
                """
                INSERT INTO index.surveys (month, code, respondents, satisfied, loaded_by, loaded_at)
                SELECT month, code, respondents, satisfied, $1, $2 FROM import_surveys ON CONFLICT (month, code) DO NOTHING
                """,
                [importer, importedAt]
            ).affectedRows
        })
    }
}

extension IndexApp {
    /// Imports a surveys file (docs/importing.md, "`surveys`") on a migrated database, for
    /// `index-service import surveys`.
    public static func importSurveys(
        settings: IndexSettings, path: String, by importer: String, batchSize: Int = 5000,
        now: @escaping @Sendable () -> Date = { Date() }, refused: @escaping @Sendable (ImportRefusal) -> Void = { _ in }
    ) async throws -> ImportSummary {
        try await ServiceHost(.index, settings: settings.service, migrator: IndexMigrations.migrator).onMigratedDatabase { pool in
            try await SurveyImporter(pool: pool, batchSize: batchSize, now: now).run(try ImportLines(path: path), by: importer, refused: refused)
        }
    }
}
