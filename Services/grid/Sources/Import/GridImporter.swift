import Foundation
import Synchronization
import PinganDomain
import PinganPostgres
import PinganRuntime

/// Imports history from the system a deployment replaces: grids, their members and daily
/// screenings, one NDJSON file per record type (docs/importing.md).
///
/// The file is read a line at a time and applied in batches of ``batchSize`` records. Every
/// record of a batch is checked first, on its own and then against the database (its village,
/// grid or reporter exist; no other grid has its name); if any is refused, the batch applies
/// none of its records and every refused line is reported. Otherwise the records not stored
/// already (keyed by the old system's id; a screening by its grid and day) are loaded with
/// `COPY` straight into the table, and committed. So importing the same file again changes
/// nothing, and a file with a few bad lines is imported again, whole, once they are fixed.
///
/// Each batch is read and checked on its own while the one before it is written, so the
/// importer's work and the database's overlap; batches are still applied one at a time, in
/// order, each in a transaction of its own.
///
/// Imported records keep their own times (`created_at`, `recorded_at`) and carry `legacy_id`,
/// `imported_by` and `imported_at`.
public struct GridImporter: Sendable {
    public static let defaultBatchSize = 5000

    let pool: PostgresPool
    let partitions: ScreeningPartitions
    let batchSize: Int
    /// The months whose screening partitions this importer has made sure of already.
    let ensuredMonths = EnsuredMonths()
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
    ///
    /// Each line is parsed and checked on its own while the batch before it is written
    /// (``ImportBatches/run(_:by:batchSize:refused:parse:apply:)``); the checks
    /// against the database are the batch's, in its transaction.
    public func run(
        _ kind: ImportKind, lines: ImportLines, by importer: String, refused: @Sendable (ImportRefusal) -> Void = { _ in }
    ) async throws -> ImportSummary {
        let started = now()
        let who = importer.trimmingCharacters(in: .whitespaces)
        switch kind {
        case .grids:
            return try await run(lines, by: importer, refused: refused, read: { GridRecord.read(&$0, now: started) }) { records, refusals in
                try await applyGrids(records, refusals: refusals, by: who, at: started)
            }
        case .members:
            return try await run(lines, by: importer, refused: refused, read: { MemberRecord.read(&$0, now: started) }) { records, refusals in
                try await applyMembers(records, refusals: refusals, by: who, at: started)
            }
        case .screening:
            let firstKept = partitions.retention.firstKept(current: Month(containing: started)).map { Day(containing: $0.range.start) }
            // A year of screenings names each day thousands of times: each is parsed once.
            var days = ImportFields.Days()
            return try await run(lines, by: importer, refused: refused, read: { ScreeningRecord.read(&$0, now: started, firstKept: firstKept, days: &days) }) {
                records, refusals in try await applyScreenings(records, refusals: refusals, by: who, at: started)
            }
        }
    }

    /// Parses each line into its fields and `read`s a record from them, in batches that
    /// `apply` checks against the database and writes.
    private func run<Record: Sendable>(
        _ lines: ImportLines, by importer: String, refused: @Sendable (ImportRefusal) -> Void, read: (inout ImportFields) -> Record?,
        apply: @escaping @Sendable ([Record], [ImportRefusal]) async throws -> ImportBatches.Outcome
    ) async throws -> ImportSummary {
        try await ImportBatches.run(
            lines, by: importer, batchSize: batchSize, refused: refused,
            parse: { text, number in
                switch ImportFields.parse(text, line: number) {
                case .refused(let refusal): return .refused([refusal])
                case .fields(var fields):
                    guard let record = read(&fields) else { return .refused(fields.refusals) }
                    return .record(record)
                }
            },
            apply: apply
        )
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

    /// Why a record in `village` is refused when its county runs its own platform
    /// (``FederatedCounties``, as grid-service last read them), else `nil`: the city imports
    /// nothing there, as it records nothing new there.
    static func ownPlatform(_ village: DivisionCode, _ counties: CountiesWithOwnPlatform) -> String? {
        counties.county(of: village).map { GridAdmission.ownPlatform(village, county: $0) }
    }

    func applyGrids(_ records: [GridRecord], refusals parsed: [ImportRefusal], by importer: String, at importedAt: Date) async throws -> ImportBatches.Outcome {
        try await inTransaction { transaction in
            var refusals = parsed
            refusals += ImportBatches.repeats(records, key: \.legacyID, line: \.line, field: "legacy_id", what: "the same legacy_id")
            refusals += ImportBatches.repeats(records, key: { VillageName(village: $0.village.rawValue, name: $0.name) }, line: \.line, field: "name",
                                              what: "a grid of the same village and name")
            // CreateGrid waits for this batch (milliseconds), so no grid can take a name between
            // the check and the insert.
            try await transaction.query("LOCK TABLE grid.grids IN SHARE ROW EXCLUSIVE MODE")
            let rows = try await transaction.pipeline([
                CountiesWithOwnPlatform.statement,
                (sql: "SELECT code FROM grid.divisions WHERE code = ANY($1) AND level = 'village'", parameters: [Array(Set(records.map(\.village.rawValue)))]),
                (sql: "SELECT legacy_id FROM grid.grids WHERE legacy_id = ANY($1)", parameters: [records.map(\.legacyID)]),
                (sql: """
                    SELECT g.village_code, g.name, g.legacy_id FROM grid.grids g
                    JOIN unnest($1::text[], $2::text[]) AS r(village_code, name) ON g.village_code = r.village_code AND g.name = r.name
                    """, parameters: [records.map(\.village.rawValue), records.map(\.name)]),
            ])
            let counties = try CountiesWithOwnPlatform(rows[0])
            let villages = Set(try rows[1].map { try $0.decode(String.self, at: 0) })
            let present = Set(try rows[2].map { try $0.decode(String.self, at: 0) })
            var names: [VillageName: String?] = [:]
            for row in rows[3] { names[VillageName(village: try row.decode(String.self, at: 0), name: try row.decode(String.self, at: 1))] = try row.decode(String?.self, at: 2) }
            for record in records where !present.contains(record.legacyID) {
                if !villages.contains(record.village.rawValue) {
                    refusals.append(ImportRefusal(line: record.line, field: "village_code", reason: "\(record.village) is not a registered village; import it with DivisionService/ImportDivisions first"))
                } else if let reason = Self.ownPlatform(record.village, counties) {
                    refusals.append(ImportRefusal(line: record.line, field: "village_code", reason: reason))
                }
                if let holder = names[VillageName(village: record.village.rawValue, name: record.name)] {
                    let who = holder.map { "grid \($0)" } ?? "a grid created in Pingan"
                    refusals.append(ImportRefusal(line: record.line, field: "name", reason: "village \(record.village) already has a grid named \(record.name) (\(who))"))
                }
            }
            guard refusals.isEmpty else { throw Refused(refusals: refusals) }
            let fresh = records.filter { !present.contains($0.legacyID) }
            guard !fresh.isEmpty else { return 0 }
            let stamp = ImportStamp(by: importer, at: importedAt)
            return try await write(
                fresh.map { [UUID.random(), $0.village.rawValue, $0.name, $0.createdAt, $0.legacyID, stamp.by, stamp.at] },
                into: "grid.grids", columns: ["id", "village_code", "name", "created_at", "legacy_id", "imported_by", "imported_at"],
                keyedBy: "legacy_id", transaction
            )
        }
    }

    func applyMembers(_ records: [MemberRecord], refusals parsed: [ImportRefusal], by importer: String, at importedAt: Date) async throws -> ImportBatches.Outcome {
        try await inTransaction { transaction in
            var refusals = parsed
            refusals += ImportBatches.repeats(records, key: \.legacyID, line: \.line, field: "legacy_id", what: "the same legacy_id")
            let rows = try await transaction.pipeline([
                CountiesWithOwnPlatform.statement,
                (sql: "SELECT legacy_id, id, village_code FROM grid.grids WHERE legacy_id = ANY($1)", parameters: [Array(Set(records.map(\.gridLegacyID)))]),
                (sql: "SELECT legacy_id FROM grid.members WHERE legacy_id = ANY($1)", parameters: [records.map(\.legacyID)]),
            ])
            let counties = try CountiesWithOwnPlatform(rows[0])
            var grids: [String: (id: UUID, village: DivisionCode)] = [:]
            for row in rows[1] {
                grids[try row.decode(String.self, at: 0)] = (try row.decode(UUID.self, at: 1), try DivisionCode(validating: try row.decode(String.self, at: 2)))
            }
            let present = Set(try rows[2].map { try $0.decode(String.self, at: 0) })
            for record in records where !present.contains(record.legacyID) {
                guard let grid = grids[record.gridLegacyID] else {
                    refusals.append(ImportRefusal(line: record.line, field: "grid_legacy_id", reason: "no grid has legacy id \(record.gridLegacyID); import the grids file first"))
                    continue
                }
                if let reason = Self.ownPlatform(grid.village, counties) {
                    refusals.append(ImportRefusal(line: record.line, field: "grid_legacy_id", reason: reason))
                }
            }
            guard refusals.isEmpty else { throw Refused(refusals: refusals) }
            let fresh = records.filter { !present.contains($0.legacyID) }
            guard !fresh.isEmpty else { return 0 }
            let stamp = ImportStamp(by: importer, at: importedAt)
            return try await write(
                fresh.map { [UUID.random(), grids[$0.gridLegacyID]?.id, $0.name, $0.role, $0.createdAt, $0.legacyID, stamp.by, stamp.at] },
                into: "grid.members", columns: ["id", "grid_id", "name", "role", "created_at", "legacy_id", "imported_by", "imported_at"],
                keyedBy: "legacy_id", transaction
            )
        }
    }

    func applyScreenings(_ records: [ScreeningRecord], refusals parsed: [ImportRefusal], by importer: String, at importedAt: Date) async throws -> ImportBatches.Outcome {
        // The months' partitions first, outside the batch's transaction: DDL of its own,
        // under the upkeep's lock (ScreeningPartitions). Once per month per import.
        if parsed.isEmpty {
            let months = Set(Set(records.map(\.day)).map(\.month))
            let missing = ensuredMonths.missing(from: months)
            if !missing.isEmpty {
                _ = try await partitions.ensure(missing)
                ensuredMonths.insert(missing)
            }
        }
        return try await inTransaction { transaction in
            var refusals = parsed
            refusals += ImportBatches.repeats(records, key: \.legacyID, line: \.line, field: "legacy_id", what: "the same legacy_id")
            refusals += ImportBatches.repeats(records, key: { GridDay(grid: $0.gridLegacyID, day: $0.day.ordinal) }, line: \.line, field: "day",
                                              what: "a screening of the same grid and day")
            let rows = try await transaction.pipeline([
                CountiesWithOwnPlatform.statement,
                (sql: "SELECT legacy_id, id, village_code FROM grid.grids WHERE legacy_id = ANY($1)", parameters: [Array(Set(records.map(\.gridLegacyID)))]),
                (sql: "SELECT legacy_id, id, grid_id FROM grid.members WHERE legacy_id = ANY($1)", parameters: [Array(Set(records.map(\.reporterLegacyID)))]),
            ])
            let counties = try CountiesWithOwnPlatform(rows[0])
            // With their ids and village as COPY text: `grid_id \t village_code \t`, `reporter_member_id \t`;
            // and why the grid's days are refused when its county runs its own platform.
            var grids: [String: (id: UUID, text: [UInt8], ownPlatform: String?)] = [:]
            for row in rows[1] {
                let id = try row.decode(UUID.self, at: 1)
                let village = try row.decode(String.self, at: 2)
                var text: [UInt8] = []
                PostgresConnection.appendCopyRow([id, village], to: &text)
                text[text.count - 1] = UInt8(ascii: "\t")
                grids[try row.decode(String.self, at: 0)] = (id, text, Self.ownPlatform(try DivisionCode(validating: village), counties))
            }
            var members: [String: (id: UUID, text: [UInt8], grid: UUID)] = [:]
            for row in rows[2] {
                let id = try row.decode(UUID.self, at: 1)
                members[try row.decode(String.self, at: 0)] = (id, Array((id.uuidString + "\t").utf8), try row.decode(UUID.self, at: 2))
            }
            for record in records {
                let grid = grids[record.gridLegacyID]
                if grid == nil {
                    refusals.append(ImportRefusal(line: record.line, field: "grid_legacy_id", reason: "no grid has legacy id \(record.gridLegacyID); import the grids file first"))
                } else if let reason = grid?.ownPlatform {
                    refusals.append(ImportRefusal(line: record.line, field: "grid_legacy_id", reason: reason))
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
            guard let first = records.min(by: { $0.day < $1.day }), let last = records.max(by: { $0.day < $1.day }) else { return 0 }
            // A day already stored (by an earlier import, or recorded by the grid's worker) is
            // left as it is: found with one read of the batch's grids over its days (an index
            // range per grid and month), so that the rest go straight into the table.
            let stored = try await transaction.query(
                """
                SELECT grid_id, day - DATE '1970-01-01' FROM grid.screenings
                WHERE grid_id = ANY($1::uuid[]) AND day BETWEEN $2::date AND $3::date
                """,
                [grids.values.map(\.id.uuidString), first.dayText, last.dayText]
            )
            var present = Set<ScreeningKey>()
            for row in stored { present.insert(ScreeningKey(grid: try row.decode(UUID.self, at: 0), day: try row.decode(Int.self, at: 1))) }
            // Each row: the batch's grid, village and reporter, the record's own columns
            // (written when its line was read), then who imported it and when.
            var tail: [UInt8] = []
            PostgresConnection.appendCopyRow([importer, importedAt], to: &tail)
            var text: [UInt8] = []
            text.reserveCapacity(records.count * 192)
            var written = 0
            for record in records {
                guard let grid = grids[record.gridLegacyID], let member = members[record.reporterLegacyID] else { continue }
                if !present.isEmpty, present.contains(ScreeningKey(grid: grid.id, day: record.day.ordinal)) { continue }
                text += grid.text
                text += member.text
                text += record.copyText
                text += tail
                written += 1
            }
            guard written > 0 else { return 0 }
            return try await write(
                text: text, into: "grid.screenings", columns: ["grid_id", "village_code", "reporter_member_id"] + ScreeningRecord.ownColumns + ["imported_by", "imported_at"],
                keyedBy: "grid_id, day", transaction
            )
        }
    }

    /// Writes a batch's new rows into `table` with `COPY`, straight into the table: the batch
    /// has left out what it found stored already, so each row is written once.
    ///
    /// If a row's key was taken since (a unique violation: a grid worker recorded the day, or
    /// another import ran beside this one), that `COPY` is rolled back to its savepoint and the
    /// rows go through a temporary table instead, inserted with `ON CONFLICT (keyedBy) DO
    /// NOTHING`, so what is there is left as it is.
    /// - Returns: the rows written.
    func write(
        _ rows: [[any PostgresEncodable]], into table: String, columns: [String], keyedBy key: String, _ transaction: PostgresConnection
    ) async throws -> Int {
        var text: [UInt8] = []
        for row in rows { PostgresConnection.appendCopyRow(row, to: &text) }
        return try await write(text: text, into: table, columns: columns, keyedBy: key, transaction)
    }

    /// ``write(_:into:columns:keyedBy:_:)`` of rows already in `COPY`'s text format.
    func write(text: [UInt8], into table: String, columns: [String], keyedBy key: String, _ transaction: PostgresConnection) async throws -> Int {
        do {
            return try await transaction.savepoint(first: []) { step, _ in try await step.copy(into: table, columns: columns, text: text) }
        } catch let error as PostgresError where error.isUniqueViolation {
            let list = columns.joined(separator: ", ")
            try await transaction.query("CREATE TEMP TABLE import_rows ON COMMIT DROP AS SELECT \(list) FROM \(table) WITH NO DATA")
            try await transaction.copy(into: "import_rows", columns: columns, text: text)
            return try await transaction.query("INSERT INTO \(table) (\(list)) SELECT \(list) FROM import_rows ON CONFLICT (\(key)) DO NOTHING").affectedRows
        }
    }
}

/// The months an importer has made the partitions of: asked of the database once each, not
/// once a batch (a year of screenings is some 750 batches over 12 months).
final class EnsuredMonths: Sendable {
    private let months = Mutex<Set<Month>>([])

    func missing(from wanted: Set<Month>) -> Set<Month> { months.withLock { wanted.subtracting($0) } }

    func insert(_ made: Set<Month>) { months.withLock { $0.formUnion(made) } }
}

/// A grid's name in its village, unique among grids.
private struct VillageName: Hashable {
    let village: String
    let name: String
}

/// A screening's grid (by its legacy id) and day, unique in a file.
private struct GridDay: Hashable {
    let grid: String
    let day: Int
}

/// A stored screening's key: its grid and day (``Day/ordinal``).
private struct ScreeningKey: Hashable {
    let grid: UUID
    let day: Int
}

/// Who imported a batch and when, as `COPY` writes them into every row: made into text once
/// per batch rather than once per row.
private struct ImportStamp {
    let by: String
    let at: String?

    init(by importer: String, at importedAt: Date) {
        by = importer
        at = importedAt.postgresParameter.text
    }
}
