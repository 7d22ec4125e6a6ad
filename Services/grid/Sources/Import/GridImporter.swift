import Foundation
import PinganDomain
import PinganPostgres
import PinganRuntime

/// Imports history from the system a deployment replaces: grids, their members and daily
/// screenings, one NDJSON file per record type (docs/importing.md).
///
/// The file is read a line at a time and applied in batches of ``batchSize`` records. Every
/// record of a batch is checked first, on its own and then against the database (its village,
/// grid or reporter exist; no other grid has its name); if any is refused, the batch applies
/// none of its records and every refused line is reported. Otherwise the batch is loaded with
/// `COPY` into a temporary table and inserted from there, skipping the records already stored
/// (keyed by the old system's id), and committed. So importing the same file again changes
/// nothing, and a file with a few bad lines is imported again, whole, once they are fixed.
///
/// Imported records keep their own times (`created_at`, `recorded_at`) and carry `legacy_id`,
/// `imported_by` and `imported_at`.
public struct GridImporter: Sendable {
    public static let defaultBatchSize = 5000

    let pool: PostgresPool
    let partitions: ScreeningPartitions
    let batchSize: Int
    /// The time of day; tests pass a clock they control.
    let now: @Sendable () -> Date

    public init(pool: PostgresPool, retention: ScreeningRetention, batchSize: Int = defaultBatchSize, now: @escaping @Sendable () -> Date = { Date() }) {
        self.pool = pool
        partitions = ScreeningPartitions(pool: pool, retention: retention)
        self.batchSize = max(1, batchSize)
        self.now = now
    }

    /// Imports a divisions file (the format of `changde-divisions.csv`) through the same store
    /// method as `DivisionService/ImportDivisions`: every row or none, new codes inserted,
    /// changed names renamed. Divisions carry no import marks: the tree is reference data
    /// whose codes are the keys.
    public func importDivisions(csv text: String) async throws -> DivisionImportResult {
        try await PostgresDivisionStore(pool: pool).importDivisions(try DivisionCSV(parsing: text))
    }

    /// Imports `lines` as records of `kind` on behalf of `operator`, calling `refused` for each
    /// refused line as its batch is checked.
    public func run(
        _ kind: ImportKind, lines: ImportLines, by importer: String, refused: @Sendable (ImportRefusal) -> Void = { _ in }
    ) async throws -> ImportSummary {
        let started = now()
        return try await ImportBatches.run(
            lines, by: importer, batchSize: batchSize, refused: refused,
            parse: { text, number in
                switch ImportFields.parse(text, line: number) {
                case .fields(let fields): .record(fields)
                case .refused(let refusal): .refused([refusal])
                }
            },
            apply: { batch, refusals in try await apply(kind, batch, parseRefusals: refusals, by: importer.trimmingCharacters(in: .whitespaces), at: started) }
        )
    }

    /// Checks and applies one batch; `parseRefusals` are the lines that were not JSON objects.
    func apply(_ kind: ImportKind, _ batch: [ImportFields], parseRefusals: [ImportRefusal], by importer: String, at importedAt: Date) async throws -> ImportBatches.Outcome {
        let now = importedAt
        switch kind {
        case .grids:
            var refusals = parseRefusals
            let records = batch.compactMap { fields in
                var fields = fields
                defer { refusals += fields.refusals }
                return GridRecord.read(&fields, now: now)
            }
            return try await applyGrids(records, refusals: refusals, by: importer, at: importedAt)
        case .members:
            var refusals = parseRefusals
            let records = batch.compactMap { fields in
                var fields = fields
                defer { refusals += fields.refusals }
                return MemberRecord.read(&fields, now: now)
            }
            return try await applyMembers(records, refusals: refusals, by: importer, at: importedAt)
        case .screening:
            var refusals = parseRefusals
            let firstKept = partitions.retention.firstKept(current: Month(containing: now)).map { Day(containing: $0.range.start) }
            let records = batch.compactMap { fields in
                var fields = fields
                defer { refusals += fields.refusals }
                return ScreeningRecord.read(&fields, now: now, firstKept: firstKept)
            }
            return try await applyScreenings(records, refusals: refusals, by: importer, at: importedAt)
        }
    }

    /// Thrown inside a batch's transaction to roll back its reads once a record is refused.
    private struct Refused: Error {
        let refusals: [ImportRefusal]
    }

    /// Runs `body` in one transaction; a ``Refused`` it throws becomes the batch's refusals.
    private func inTransaction(_ body: (PostgresConnection) async throws -> Int) async throws -> ImportBatches.Outcome {
        do {
            return .applied(try await pool.transaction(body))
        } catch let refused as Refused {
            return .refused(refused.refusals.sorted { ($0.line, $0.field) < ($1.line, $1.field) })
        }
    }

    func applyGrids(_ records: [GridRecord], refusals parsed: [ImportRefusal], by importer: String, at importedAt: Date) async throws -> ImportBatches.Outcome {
        try await inTransaction { transaction in
            var refusals = parsed
            refusals += ImportBatches.repeats(records, key: \.legacyID, line: \.line, field: "legacy_id", what: "the same legacy_id")
            refusals += ImportBatches.repeats(records, key: { "\($0.village.rawValue)/\($0.name)" }, line: \.line, field: "name", what: "a grid of the same village and name")
            // CreateGrid waits for this batch (milliseconds), so no grid can take a name between
            // the check and the insert.
            try await transaction.query("LOCK TABLE grid.grids IN SHARE ROW EXCLUSIVE MODE")
            let rows = try await transaction.pipeline([
                (sql: "SELECT code FROM grid.divisions WHERE code = ANY($1) AND level = 'village'", parameters: [Array(Set(records.map(\.village.rawValue)))]),
                (sql: "SELECT legacy_id FROM grid.grids WHERE legacy_id = ANY($1)", parameters: [records.map(\.legacyID)]),
                (sql: """
                    SELECT g.village_code, g.name, g.legacy_id FROM grid.grids g
                    JOIN unnest($1::text[], $2::text[]) AS r(village_code, name) ON g.village_code = r.village_code AND g.name = r.name
                    """, parameters: [records.map(\.village.rawValue), records.map(\.name)]),
            ])
            let villages = Set(try rows[0].map { try $0.decode(String.self, at: 0) })
            let present = Set(try rows[1].map { try $0.decode(String.self, at: 0) })
            var names: [String: String?] = [:]
            for row in rows[2] { names["\(try row.decode(String.self, at: 0))/\(try row.decode(String.self, at: 1))"] = try row.decode(String?.self, at: 2) }
            for record in records where !present.contains(record.legacyID) {
                if !villages.contains(record.village.rawValue) {
                    refusals.append(ImportRefusal(line: record.line, field: "village_code", reason: "\(record.village) is not a registered village; import it with DivisionService/ImportDivisions first"))
                }
                if let holder = names["\(record.village.rawValue)/\(record.name)"] {
                    let who = holder.map { "grid \($0)" } ?? "a grid created in Pingan"
                    refusals.append(ImportRefusal(line: record.line, field: "name", reason: "village \(record.village) already has a grid named \(record.name) (\(who))"))
                }
            }
            guard refusals.isEmpty else { throw Refused(refusals: refusals) }
            let fresh = records.filter { !present.contains($0.legacyID) }
            guard !fresh.isEmpty else { return 0 }
            try await transaction.query(
                "CREATE TEMP TABLE import_grids (id uuid, legacy_id text, village_code text, name text, created_at timestamptz) ON COMMIT DROP"
            )
            try await transaction.copy(
                into: "import_grids", columns: ["id", "legacy_id", "village_code", "name", "created_at"],
                rows: fresh.map { [UUID.random(), $0.legacyID, $0.village.rawValue, $0.name, $0.createdAt] }
            )
            return try await transaction.query(
                """
                INSERT INTO grid.grids (id, village_code, name, created_at, legacy_id, imported_by, imported_at)
                SELECT id, village_code, name, created_at, legacy_id, $1, $2 FROM import_grids
                ON CONFLICT (legacy_id) DO NOTHING
                """,
                [importer, importedAt]
            ).affectedRows
        }
    }

    func applyMembers(_ records: [MemberRecord], refusals parsed: [ImportRefusal], by importer: String, at importedAt: Date) async throws -> ImportBatches.Outcome {
        try await inTransaction { transaction in
            var refusals = parsed
            refusals += ImportBatches.repeats(records, key: \.legacyID, line: \.line, field: "legacy_id", what: "the same legacy_id")
            let rows = try await transaction.pipeline([
                (sql: "SELECT legacy_id, id FROM grid.grids WHERE legacy_id = ANY($1)", parameters: [Array(Set(records.map(\.gridLegacyID)))]),
                (sql: "SELECT legacy_id FROM grid.members WHERE legacy_id = ANY($1)", parameters: [records.map(\.legacyID)]),
            ])
            var grids: [String: UUID] = [:]
            for row in rows[0] { grids[try row.decode(String.self, at: 0)] = try row.decode(UUID.self, at: 1) }
            let present = Set(try rows[1].map { try $0.decode(String.self, at: 0) })
            for record in records where !present.contains(record.legacyID) && grids[record.gridLegacyID] == nil {
                refusals.append(ImportRefusal(line: record.line, field: "grid_legacy_id", reason: "no grid has legacy id \(record.gridLegacyID); import the grids file first"))
            }
            guard refusals.isEmpty else { throw Refused(refusals: refusals) }
            let fresh = records.filter { !present.contains($0.legacyID) }
            guard !fresh.isEmpty else { return 0 }
            try await transaction.query(
                "CREATE TEMP TABLE import_members (id uuid, legacy_id text, grid_id uuid, name text, role text, created_at timestamptz) ON COMMIT DROP"
            )
            try await transaction.copy(
                into: "import_members", columns: ["id", "legacy_id", "grid_id", "name", "role", "created_at"],
                rows: fresh.map { [UUID.random(), $0.legacyID, grids[$0.gridLegacyID], $0.name, $0.role, $0.createdAt] }
            )
            return try await transaction.query(
                """
                INSERT INTO grid.members (id, grid_id, name, role, created_at, legacy_id, imported_by, imported_at)
                SELECT id, grid_id, name, role, created_at, legacy_id, $1, $2 FROM import_members
                ON CONFLICT (legacy_id) DO NOTHING
                """,
                [importer, importedAt]
            ).affectedRows
        }
    }

    func applyScreenings(_ records: [ScreeningRecord], refusals parsed: [ImportRefusal], by importer: String, at importedAt: Date) async throws -> ImportBatches.Outcome {
        // The months' partitions first, outside the batch's transaction: DDL of its own,
        // under the upkeep's lock (ScreeningPartitions).
        if parsed.isEmpty { try await partitions.ensure(Set(records.map(\.day.month))) }
        return try await inTransaction { transaction in
            var refusals = parsed
            refusals += ImportBatches.repeats(records, key: \.legacyID, line: \.line, field: "legacy_id", what: "the same legacy_id")
            refusals += ImportBatches.repeats(records, key: { "\($0.gridLegacyID)/\($0.day)" }, line: \.line, field: "day", what: "a screening of the same grid and day")
            let rows = try await transaction.pipeline([
                (sql: "SELECT legacy_id, id, village_code FROM grid.grids WHERE legacy_id = ANY($1)", parameters: [Array(Set(records.map(\.gridLegacyID)))]),
                (sql: "SELECT legacy_id, id, grid_id FROM grid.members WHERE legacy_id = ANY($1)", parameters: [Array(Set(records.map(\.reporterLegacyID)))]),
            ])
            var grids: [String: (id: UUID, village: String)] = [:]
            for row in rows[0] { grids[try row.decode(String.self, at: 0)] = (try row.decode(UUID.self, at: 1), try row.decode(String.self, at: 2)) }
            var members: [String: (id: UUID, grid: UUID)] = [:]
            for row in rows[1] { members[try row.decode(String.self, at: 0)] = (try row.decode(UUID.self, at: 1), try row.decode(UUID.self, at: 2)) }
            for record in records {
                let grid = grids[record.gridLegacyID]
                if grid == nil {
                    refusals.append(ImportRefusal(line: record.line, field: "grid_legacy_id", reason: "no grid has legacy id \(record.gridLegacyID); import the grids file first"))
                }
                guard let member = members[record.reporterLegacyID] else {
                    refusals.append(ImportRefusal(line: record.line, field: "reporter_legacy_id", reason: "no member has legacy id \(record.reporterLegacyID); import the members file first"))
                    continue
                }
                if let grid, member.grid != grid.id {
                    refusals.append(ImportRefusal(line: record.line, field: "reporter_legacy_id", reason: "member \(record.reporterLegacyID) is not a member of grid \(record.gridLegacyID)"))
                }
            }
            guard refusals.isEmpty else { throw Refused(refusals: refusals) }
            guard !records.isEmpty else { return 0 }
            try await transaction.query(
                """
                CREATE TEMP TABLE import_screenings (grid_id uuid, day date, village_code text, reporter_member_id uuid,
                    households_visited integer, disputes_found integer, recorded_at timestamptz, legacy_id text) ON COMMIT DROP
                """
            )
            try await transaction.copy(
                into: "import_screenings",
                columns: ["grid_id", "day", "village_code", "reporter_member_id", "households_visited", "disputes_found", "recorded_at", "legacy_id"],
                rows: records.map { record in
                    let grid = grids[record.gridLegacyID]
                    return [grid?.id, record.day.description, grid?.village, members[record.reporterLegacyID]?.id,
                            record.householdsVisited, record.disputesFound, record.recordedAt, record.legacyID]
                }
            )
            // A day already stored (by an earlier import, or recorded by the grid's worker)
            // is left as it is.
            return try await transaction.query(
                """
                INSERT INTO grid.screenings (grid_id, day, village_code, reporter_member_id, households_visited, disputes_found,
                    recorded_at, legacy_id, imported_by, imported_at)
                SELECT grid_id, day, village_code, reporter_member_id, households_visited, disputes_found, recorded_at, legacy_id, $1, $2
                FROM import_screenings ORDER BY day, grid_id
                ON CONFLICT (grid_id, day) DO NOTHING
                """,
                [importer, importedAt]
            ).affectedRows
        }
    }
}
