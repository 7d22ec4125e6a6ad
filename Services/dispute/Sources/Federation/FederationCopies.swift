import Foundation
import PinganConnect
import PinganDomain
import PinganPostgres
import Synchronization

/// Why the city refuses a county's snapshot for good: sending it again would change nothing.
enum FederationRefusal: Error, Sendable, CustomStringConvertible {
    /// The id names a case this mesh owns.
    case ownCase(UUID)
    /// The id names the copy of another county's case.
    case anotherCounty(UUID, owner: String)
    /// A department the snapshot carries, or one its summons name, lies outside the county.
    case departmentOutside(UUID)

    var description: String {
        switch self {
        case .ownCase(let id): "case \(id.wire) is a case of this mesh, not a copy; a county cannot replace it"
        case .anotherCounty(let id, let owner): "case \(id.wire) is a copy of county \(owner)'s case"
        case .departmentOutside(let id): "case \(id.wire) names a department outside the sending county"
        }
    }
}

/// The city's read-only copies of the cases of counties that run their own mesh, in the same
/// tables as the city's own cases, so that its dashboard, rankings and index read them as
/// they read its own. Only a snapshot of a higher version replaces a copy; appended rows
/// (timeline lines, reports) are kept once each by their id in the owning mesh, whatever
/// order snapshots arrive in.
struct FederationCopies: Sendable {
    let pool: PostgresPool
    /// Each copied table's columns, read from the catalogue once: a snapshot is rows of the
    /// same release's schema, so the columns a migration adds travel without code here.
    private let columns = ColumnCache()

    init(pool: PostgresPool) {
        self.pool = pool
    }

    /// What applying a snapshot did.
    enum Applied: Sendable, Equatable {
        /// The copy now is the snapshot.
        case replaced
        /// The copy was as new or newer; only rows it lacked were added.
        case alreadyNewer
    }

    /// Applies one snapshot from `county`, whose subtree the caller checked the village against.
    func apply(_ snapshot: CaseSnapshotInput, from county: DivisionCode) async throws -> Applied {
        let columns = try await columns.load(pool)
        return try await pool.transaction { transaction in
            let read = try await transaction.pipeline([
                // Two snapshots of one case at once (a relay's replicas) take turns, so the
                // older cannot write its rows under the newer's case row.
                ("SELECT pg_advisory_xact_lock(hashtextextended($1::text, 15))", [snapshot.caseID.wire]),
                ("SELECT federated_from, federated_version, personal_data_erased_at FROM dispute.cases WHERE id = $1 FOR UPDATE", [snapshot.caseID]),
                (
                    // Departments outside the county, and summons naming a department the
                    // snapshot does not carry: a county writes only its own.
                    """
                    SELECT (SELECT count(*) FROM jsonb_array_elements($1::jsonb->'departments') d
                            WHERE NOT coalesce(d->>'centre_code' BETWEEN $2 AND $3, false))
                         + (SELECT count(*) FROM jsonb_array_elements($1::jsonb->'summons') m
                            WHERE NOT EXISTS (SELECT 1 FROM jsonb_array_elements($1::jsonb->'departments') d WHERE d->>'id' = m->>'department_id'))
                    """,
                    [snapshot.rows, county.rawValue, county.lastInSubtree]
                ),
            ])
            if let row = read[1].first {
                guard let owner = try row.decode(String?.self, at: 0) else { throw FederationRefusal.ownCase(snapshot.caseID) }
                guard owner == county.rawValue else { throw FederationRefusal.anotherCounty(snapshot.caseID, owner: owner) }
            }
            guard try read[2].first?.decode(Int.self, at: 0) == 0 else { throw FederationRefusal.departmentOutside(snapshot.caseID) }
            let held = try read[1].first?.decode(Int?.self, at: 1).map(Int64.init)
            let replace = held.map { $0 < snapshot.version } ?? true
            var statements: [PostgresStatement] = []
            if replace { statements += Self.replacement(snapshot, from: county, columns: columns) }
            statements += Self.appended(snapshot, columns: columns)
            statements.append(("SELECT personal_data_erased_at FROM dispute.cases WHERE id = $1", [snapshot.caseID]))
            let written = try await transaction.pipeline(statements)
            // An erased copy stays erased: whichever side's term ended first, no snapshot (an
            // older one that arrives late, or the county's own, kept longer) brings its people back.
            let erasedBefore = try read[1].first?.decode(Date?.self, at: 2)
            if let erased = try erasedBefore ?? written.last?.first?.decode(Date?.self, at: 0) {
                _ = try await transaction.pipeline(PartyDataRetention.erasing([snapshot.caseID], at: erased))
            }
            return replace ? .replaced : .alreadyNewer
        }
    }

    // MARK: Statements

    /// The case row upserted and its other rows replaced, children after their parents.
    private static func replacement(_ snapshot: CaseSnapshotInput, from county: DivisionCode, columns: [String: [String]]) -> [PostgresStatement] {
        let id = snapshot.caseID, rows = snapshot.rows
        let caseColumns = columns["cases", default: []]
        let list = caseColumns.joined(separator: ", ")
        let updates = caseColumns.filter { $0 != "id" }
        var statements: [PostgresStatement] = [
            (
                // The snapshot's id and village are the ones the caller's subtree was checked
                // against, whatever its rows say.
                """
                INSERT INTO dispute.cases (\(list))
                SELECT \(list) FROM jsonb_populate_record(NULL::dispute.cases, $1::jsonb->'case'
                    || jsonb_build_object('id', $2::text, 'village_code', $3::text, 'federated_from', $4::text, 'federated_version', $5::bigint))
                ON CONFLICT (id) DO UPDATE SET (\(updates.joined(separator: ", "))) = ROW(\(updates.map { "EXCLUDED.\($0)" }.joined(separator: ", ")))
                """,
                [rows, id.wire, snapshot.village.rawValue, county.rawValue, Int(snapshot.version)]
            ),
        ]
        for table in ["return_visits", "agreements", "rung_skips", "summons", "rung_attempts"] {
            statements.append(("DELETE FROM dispute.\(table) WHERE case_id = $1", [id]))
        }
        // A copied department is nobody's to sign in as at the city: its key name is a placeholder.
        let departmentColumns = columns["departments", default: []].filter { $0 != "legacy_id" }
        statements.append((
            """
            INSERT INTO dispute.departments (\(departmentColumns.joined(separator: ", ")))
            SELECT \(departmentColumns.map { $0 == "api_key_name" ? "'federated:' || r.id" : "r.\($0)" }.joined(separator: ", "))
            FROM jsonb_populate_recordset(NULL::dispute.departments, $1::jsonb->'departments') r
            ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, centre_code = EXCLUDED.centre_code
            """,
            [rows]
        ))
        for (key, table) in [("attempts", "rung_attempts"), ("skips", "rung_skips"), ("agreements", "agreements"), ("visits", "return_visits"), ("summons", "summons")] {
            statements.append(insert(key, into: table, columns: columns[table, default: []].filter { $0 != "seq" }, rows: rows, case: id))
        }
        return statements
    }

    /// Timeline lines and reports: each kept once, by its id in the owning mesh.
    private static func appended(_ snapshot: CaseSnapshotInput, columns: [String: [String]]) -> [PostgresStatement] {
        let timeline = columns["timeline", default: []].filter { $0 != "id" && $0 != "origin_id" }
        return [
            (
                """
                INSERT INTO dispute.timeline (\(timeline.joined(separator: ", ")), origin_id)
                SELECT \(timeline.map { $0 == "case_id" ? "$2::uuid" : "r.\($0)" }.joined(separator: ", ")), r.id
                FROM jsonb_populate_recordset(NULL::dispute.timeline, $1::jsonb->'timeline') r ORDER BY r.id
                ON CONFLICT (case_id, origin_id) WHERE origin_id IS NOT NULL DO NOTHING
                """,
                [snapshot.rows, snapshot.caseID]
            ),
            insert("reports", into: "case_reports", columns: columns["case_reports", default: []], rows: snapshot.rows, case: snapshot.caseID,
                   conflict: "ON CONFLICT (id) DO NOTHING"),
        ]
    }

    /// The rows under `key` inserted into `table`, each row's case forced to the snapshot's.
    private static func insert(
        _ key: String, into table: String, columns: [String], rows: String, case id: UUID, conflict: String = ""
    ) -> PostgresStatement {
        (
            """
            INSERT INTO dispute.\(table) (\(columns.joined(separator: ", ")))
            SELECT \(columns.map { $0 == "case_id" ? "$2::uuid" : "r.\($0)" }.joined(separator: ", "))
            FROM jsonb_populate_recordset(NULL::dispute.\(table), $1::jsonb->'\(key)') r \(conflict)
            """,
            [rows, id]
        )
    }
}

/// A snapshot as the city takes it, its fields checked.
struct CaseSnapshotInput: Sendable {
    let caseID: UUID
    let village: DivisionCode
    let version: Int64
    /// The rows, as JSON text.
    let rows: String
}

/// The copied tables' columns, read from the catalogue at the first snapshot.
private final class ColumnCache: Sendable {
    static let tables = ["cases", "rung_attempts", "rung_skips", "agreements", "return_visits", "summons", "departments", "timeline", "case_reports"]
    private let loaded = Mutex<[String: [String]]?>(nil)

    func load(_ pool: PostgresPool) async throws -> [String: [String]] {
        if let known = loaded.withLock({ $0 }) { return known }
        let rows = try await pool.query(
            """
            SELECT c.relname::text, array_agg(a.attname::text ORDER BY a.attnum)
            FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'dispute' AND c.relname = ANY($1::text[]) AND a.attnum > 0 AND NOT a.attisdropped
            GROUP BY c.relname
            """,
            [Self.tables]
        )
        var columns: [String: [String]] = [:]
        for row in rows { columns[try row.decode(String.self, at: 0)] = try row.decode([String].self, at: 1) }
        loaded.withLock { $0 = columns }
        return columns
    }
}
