import Foundation
import PinganAccess
import PinganDomain
import PinganPostgres
import PinganRuntime

/// Imports the warnings of the system a deployment replaces (`risk-service import warnings FILE
/// --by WHO`, docs/importing.md "`warnings`"), each with the steps of its closed loop, keeping
/// their times and saying who imported them. A warning names its case by the case's legacy id
/// (dispute-service's import names the case ``UUID/named(_:)`` of it), so the two imports agree
/// without either reading the other's schema. History raises no push and no escalation.
struct WarningImporter: Sendable {
    static let defaultBatchSize = 2000
    /// The levels as written (the words of the seed's centres), and as stored.
    static let levels: [String: String] = ["一般": "general", "较大": "serious", "重大": "major"]
    /// The loop's steps in the order they are taken, and the status each leaves.
    static let steps: [(kind: WarningStepKind, status: WarningStatus)] = [
        (.acknowledge, .acknowledged), (.assign, .handling), (.feedBack, .fedBack), (.evaluate, .evaluated), (.close, .closed),
    ]

    struct Record: Decodable {
        struct Step: Decodable {
            let kind: String?
            let at: String?
            let by: String?
            let note: String?
        }

        let legacy_id: String?
        let case_legacy_id: String?
        let village_code: String?
        let score: Int?
        let level: String?
        let raised_at: String?
        let steps: [Step]?
    }

    struct Checked: Sendable {
        let line: Int
        let legacyID: String
        let caseID: UUID
        let village: DivisionCode
        let score: Int
        let level: String
        let raisedAt: Date
        let steps: [(kind: WarningStepKind, at: Date, by: String, note: String)]

        var id: UUID { UUID.named("pingan-warning|\(legacyID)") }
        var status: WarningStatus {
            let last = steps.last { $0.kind != .escalated }
            return WarningImporter.steps.first { $0.kind == last?.kind }?.status ?? .raised
        }
        func step(_ kind: WarningStepKind) -> (kind: WarningStepKind, at: Date, by: String, note: String)? { steps.first { $0.kind == kind } }
    }

    let pool: PostgresPool
    let batchSize: Int
    let now: @Sendable () -> Date

    func run(_ lines: ImportLines, by importer: String, refused: @Sendable (ImportRefusal) -> Void = { _ in }) async throws -> ImportSummary {
        let importedAt = now()
        let who = "import:\(importer.trimmingCharacters(in: .whitespaces))"
        return try await ImportBatches.run(
            lines, by: importer, batchSize: batchSize, refused: refused,
            parse: { text, line in Self.check(text, line: line, now: importedAt) },
            apply: { batch, refused in try await apply(batch, refused: refused, by: who, at: importedAt) }
        )
    }

    static func check(_ text: String, line: Int, now: Date) -> ImportBatches.Parsed<Checked> {
        let record: Record
        do {
            record = try JSONDecoder().decode(Record.self, from: Data(text.utf8))
        } catch {
            return .refused([ImportRefusal(line: line, field: "json", reason: "not a warning record (a JSON object of the documented fields)")])
        }
        var refusals: [ImportRefusal] = []
        func refuse(_ field: String, _ reason: String) { refusals.append(ImportRefusal(line: line, field: field, reason: reason)) }
        func time(_ text: String?, _ field: String, notBefore earliest: Date?) -> Date? {
            guard let text, let date = Date(wireTimestamp: text) else { refuse(field, "must be an RFC 3339 time"); return nil }
            if date > now { refuse(field, "is in the future"); return nil }
            if let earliest, date < earliest { refuse(field, "is before the step before it"); return nil }
            return date
        }
        func words(_ value: String?, _ field: String, required: Bool) -> String {
            do {
                return try String.checkedText(value ?? "", length: (required ? 1 : 0)...2000)
            } catch {
                refuse(field, error.description)
                return ""
            }
        }
        let legacyID = words(record.legacy_id, "legacy_id", required: true)
        let caseLegacyID = words(record.case_legacy_id, "case_legacy_id", required: true)
        let village = record.village_code.flatMap { try? DivisionCode(validating: $0) }.flatMap { $0.level == .village ? $0 : nil }
        if village == nil { refuse("village_code", "must be a village's 12-digit code") }
        let score = record.score ?? -1
        if !(0...100).contains(score) { refuse("score", "must be a whole number from 0 to 100") }
        let level = levels[record.level ?? ""] ?? ""
        if level.isEmpty { refuse("level", "must be 一般, 较大 or 重大") }
        let raisedAt = time(record.raised_at, "raised_at", notBefore: nil)
        var steps: [(kind: WarningStepKind, at: Date, by: String, note: String)] = []
        var previous = raisedAt
        var next = 0
        for (index, step) in (record.steps ?? []).enumerated() {
            let field = "steps[\(index)]"
            // Not acknowledged in time, the warning went up a level (the note says where) before
            // anyone acknowledged it: what the index counts as not in time.
            if step.kind == WarningStepKind.escalated.rawValue {
                if next > 0 { refuse("\(field).kind", "a warning escalates only before it is acknowledged") }
                let at = time(step.at, "\(field).at", notBefore: previous)
                let by = words(step.by, "\(field).by", required: true)
                let note = words(step.note, "\(field).note", required: true)
                if let at { steps.append((.escalated, at, by, note)); previous = at }
                continue
            }
            guard let kind = step.kind.flatMap(WarningStepKind.init(rawValue:)), let position = Self.steps.firstIndex(where: { $0.kind == kind }) else {
                refuse("\(field).kind", "must be one of escalated, acknowledge, assign, feed_back, evaluate, close")
                continue
            }
            if position < next { refuse("\(field).kind", "the loop is taken in order: acknowledge, assign, feed_back, evaluate, close") }
            next = position + 1
            let at = time(step.at, "\(field).at", notBefore: previous)
            let by = words(step.by, "\(field).by", required: true)
            let note = words(step.note, "\(field).note", required: kind != .acknowledge)
            if let at { steps.append((kind, at, by, note)); previous = at }
        }
        guard refusals.isEmpty, let village, let raisedAt else { return .refused(refusals) }
        return .record(Checked(line: line, legacyID: legacyID, caseID: UUID.named("pingan-case|\(caseLegacyID)"), village: village, score: score,
                               level: level, raisedAt: raisedAt, steps: steps))
    }

    /// Thrown inside a batch's transaction when the database refuses a record.
    private struct Refused: Error {
        let refusals: [ImportRefusal]
    }

    func apply(_ batch: [Checked], refused: [ImportRefusal], by importer: String, at importedAt: Date) async throws -> ImportBatches.Outcome {
        var found = refused + ImportBatches.repeats(batch, key: \.legacyID, line: \.line, field: "legacy_id", what: "the same legacy_id")
        found += ImportBatches.repeats(batch.filter { $0.status != .closed }, key: \.caseID.wire, line: \.line, field: "case_legacy_id",
                                       what: "another open warning of the same case")
        guard found.isEmpty else { return .refused(found) }
        do {
            return .applied(try await pool.transaction { transaction in try await write(batch, transaction, by: importer, at: importedAt) })
        } catch let refused as Refused {
            return .refused(refused.refusals)
        }
    }

    private func write(_ batch: [Checked], _ transaction: PostgresConnection, by importer: String, at importedAt: Date) async throws -> Int {
        let read = try await transaction.pipeline([
            ("SELECT id FROM risk.warnings WHERE id = ANY($1::uuid[])", [batch.map(\.id.wire)]),
            ("SELECT case_id FROM risk.warnings WHERE case_id = ANY($1::uuid[]) AND status <> 'closed'", [batch.filter { $0.status != .closed }.map(\.caseID.wire)]),
        ])
        let present = Set(try read[0].map { try $0.decode(UUID.self, at: 0) })
        let open = Set(try read[1].map { try $0.decode(UUID.self, at: 0) })
        let fresh = batch.filter { !present.contains($0.id) }
        let clashes = fresh.filter { $0.status != .closed && open.contains($0.caseID) }
        guard clashes.isEmpty else {
            throw Refused(refusals: clashes.map { ImportRefusal(line: $0.line, field: "case_legacy_id", reason: "the case has an open warning already") })
        }
        guard !fresh.isEmpty else { return 0 }
        try await transaction.query(
            """
            CREATE TEMP TABLE import_warnings (id uuid, case_id uuid, village_code text, centre_code text, score integer, level text,
                raised_at timestamptz, status text, acknowledged_at timestamptz, acknowledged_by text, assignee text, feedback text,
                evaluation text, outcome text, closed_at timestamptz) ON COMMIT DROP
            """
        )
        try await transaction.copy(
            into: "import_warnings",
            columns: ["id", "case_id", "village_code", "centre_code", "score", "level", "raised_at", "status", "acknowledged_at", "acknowledged_by",
                      "assignee", "feedback", "evaluation", "outcome", "closed_at"],
            rows: fresh.map { warning in
                let acknowledged = warning.step(.acknowledge)
                return [warning.id, warning.caseID, warning.village.rawValue, warning.village.owningCentre.rawValue, warning.score, warning.level,
                        warning.raisedAt, warning.status.rawValue, acknowledged?.at, acknowledged?.by, warning.step(.assign)?.note,
                        warning.step(.feedBack)?.note, warning.step(.evaluate)?.note, warning.step(.close)?.note, warning.step(.close)?.at]
            }
        )
        // The case's assessment as history left it, for a case risk-service never assessed: a
        // warning hangs from its case's assessment.
        try await transaction.query(
            """
            INSERT INTO risk.assessments (case_id, village_code, score, threshold, reasons, model_version, assessed_at, warning_id, closed, level)
            SELECT DISTINCT ON (case_id) case_id, village_code, score, 60, '[]'::jsonb, 'imported', raised_at, id, status = 'closed', level
            FROM import_warnings ORDER BY case_id, raised_at DESC
            ON CONFLICT (case_id) DO NOTHING
            """
        )
        let inserted = try await transaction.query(
            """
            INSERT INTO risk.warnings (id, case_id, centre_code, village_code, score, raised_at, level, rules_version, status, acknowledged_at,
                acknowledged_by, assignee, feedback, evaluation, outcome, closed_at, imported_by, imported_at)
            SELECT id, case_id, centre_code, village_code, score, raised_at, level, 'imported', status, acknowledged_at, acknowledged_by,
                assignee, feedback, evaluation, outcome, closed_at, $1, $2
            FROM import_warnings ORDER BY raised_at
            ON CONFLICT (id) DO NOTHING
            """,
            [importer, importedAt]
        ).affectedRows
        var steps: [[any PostgresEncodable]] = []
        for warning in fresh {
            steps.append([warning.id, warning.raisedAt, WarningStepKind.raised.rawValue, "imported from the old system as \(warning.legacyID)", importer])
            for step in warning.steps { steps.append([warning.id, step.at, step.kind.rawValue, step.note, step.by]) }
        }
        try await transaction.copy(into: "risk.warning_steps", columns: ["warning_id", "at", "kind", "note", "actor"], rows: steps)
        return inserted
    }
}

extension RiskApp {
    /// Imports a warnings file (docs/importing.md, "`warnings`") on a migrated database, for
    /// `risk-service import warnings`.
    public static func importWarnings(
        settings: RiskSettings, path: String, by importer: String, batchSize: Int = 2000,
        now: @escaping @Sendable () -> Date = { Date() }, refused: @escaping @Sendable (ImportRefusal) -> Void = { _ in }
    ) async throws -> ImportSummary {
        try await ServiceHost(.risk, settings: settings.service, migrator: RiskMigrations.migrator).onMigratedDatabase { pool in
            try await WarningImporter(pool: pool, batchSize: batchSize, now: now).run(try ImportLines(path: path), by: importer, refused: refused)
        }
    }
}
