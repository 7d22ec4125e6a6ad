import PinganAccess
import PinganDomain
import PinganPostgres

/// A page of divisions in code order, with the code to continue after.
public struct DivisionPage: Sendable, Equatable {
    public let divisions: [Division]
    /// The last code of this page when more follow; `nil` on the last page.
    public let continueAfter: DivisionCode?
}

/// What an import changed.
public struct DivisionImportResult: Sendable, Equatable {
    public var inserted = 0
    public var updated = 0
    public var unchanged = 0
}

/// Where the division tree lives.
public protocol DivisionStore: Sendable {
    /// The division with `code`, or `nil`.
    func division(_ code: DivisionCode) async throws -> Division?
    /// The divisions among `codes` that exist, in code order.
    func divisions(_ codes: Set<DivisionCode>) async throws -> [Division]
    /// Direct children of `parent` in code order, after `after` when continuing.
    func children(of parent: DivisionCode, after: DivisionCode?, limit: Int) async throws -> DivisionPage
    /// Every division strictly below `root`, in code order.
    func subtree(of root: DivisionCode, after: DivisionCode?, limit: Int) async throws -> DivisionPage
    /// Applies every row of `file` or none: inserts new codes, renames changed ones.
    func importDivisions(_ file: DivisionCSV) async throws -> DivisionImportResult
    /// How many divisions are stored.
    func count() async throws -> Int
}

/// The division tree in schema `grid`.
public struct PostgresDivisionStore: DivisionStore {
    let pool: PostgresPool

    public init(pool: PostgresPool) { self.pool = pool }

    public func division(_ code: DivisionCode) async throws -> Division? {
        let rows = try await pool.query("SELECT code, name FROM grid.divisions WHERE code = $1", [code.rawValue])
        return try rows.first.map(Self.division)
    }

    public func divisions(_ codes: Set<DivisionCode>) async throws -> [Division] {
        try await pool.query("SELECT code, name FROM grid.divisions WHERE code = ANY($1::text[]) ORDER BY code", [codes.map(\.rawValue)])
            .map(Self.division)
    }

    public func children(of parent: DivisionCode, after: DivisionCode?, limit: Int) async throws -> DivisionPage {
        let rows = try await pool.query(
            """
            SELECT code, name FROM grid.divisions
            WHERE parent_code = $1 AND code > $2
            ORDER BY code LIMIT $3
            """,
            [parent.rawValue, after?.rawValue ?? "", limit + 1]
        )
        return try Self.page(rows, limit: limit)
    }

    public func subtree(of root: DivisionCode, after: DivisionCode?, limit: Int) async throws -> DivisionPage {
        let rows = try await pool.query(
            """
            SELECT code, name FROM grid.divisions
            WHERE code > $1 AND code <= $2
            ORDER BY code LIMIT $3
            """,
            [max(after?.rawValue ?? root.rawValue, root.rawValue), root.lastInSubtree, limit + 1]
        )
        return try Self.page(rows, limit: limit)
    }

    public func importDivisions(_ file: DivisionCSV) async throws -> DivisionImportResult {
        try await pool.transaction { connection in
            // One import at a time, so two imports of overlapping files cannot race on a code;
            // readers are not blocked.
            try await connection.query("LOCK TABLE grid.divisions IN SHARE ROW EXCLUSIVE MODE")
            let codes = file.rows.map(\.division.code.rawValue)
            let parents = Array(Set(file.rows.compactMap { $0.division.parent?.rawValue }))
            let existing = try await connection.query(
                "SELECT code, name FROM grid.divisions WHERE code = ANY($1) OR code = ANY($2)", [codes, parents]
            )
            var stored: [String: String] = [:]
            for row in existing { stored[try row.decode(String.self, at: 0)] = try row.decode(String.self, at: 1) }
            let inFile = Set(codes)
            var result = DivisionImportResult()
            var inserts: [Division] = []
            var renames: [Division] = []
            for row in file.rows {
                let division = row.division
                if let parent = division.parent, stored[parent.rawValue] == nil, !inFile.contains(parent.rawValue) {
                    throw DivisionImportError.line(row.line, "parent \(parent) of \(division.code) does not exist; import it first or in the same file")
                }
                switch stored[division.code.rawValue] {
                case nil: inserts.append(division)
                case division.name: result.unchanged += 1
                default: renames.append(division)
                }
            }
            if !inserts.isEmpty {
                result.inserted = try await connection.copy(
                    into: "grid.divisions", columns: ["code", "name", "level", "parent_code"],
                    rows: inserts.map { [$0.code.rawValue, $0.name, $0.level.rawValue, $0.parent?.rawValue] }
                )
            }
            if !renames.isEmpty {
                let renamed = try await connection.query(
                    """
                    UPDATE grid.divisions AS d SET name = r.name, updated_at = now()
                    FROM unnest($1::text[], $2::text[]) AS r(code, name)
                    WHERE d.code = r.code
                    """,
                    [renames.map(\.code.rawValue), renames.map(\.name)]
                )
                result.updated = renamed.affectedRows
            }
            return result
        }
    }

    public func count() async throws -> Int {
        try await pool.query("SELECT count(*) FROM grid.divisions")[0].decode(Int.self, at: 0)
    }

    private static func division(_ row: PostgresRow) throws -> Division {
        let text = try row.decode(String.self, at: 0)
        do {
            return Division(code: try DivisionCode(validating: text), name: try row.decode(String.self, at: 1))
        } catch let error as DivisionCodeError {
            throw DivisionStoreError.corrupt("grid.divisions holds \(error)")
        }
    }

    private static func page(_ rows: PostgresRows, limit: Int) throws -> DivisionPage {
        let divisions = try rows.prefix(limit).map(division)
        return DivisionPage(divisions: divisions, continueAfter: rows.count > limit ? divisions.last?.code : nil)
    }
}

/// Stored data that breaks an invariant the schema should have kept.
enum DivisionStoreError: Error, CustomStringConvertible {
    case corrupt(String)
    var description: String {
        switch self {
        case .corrupt(let message): message
        }
    }
}
