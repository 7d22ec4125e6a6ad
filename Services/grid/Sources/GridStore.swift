import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain
import PinganOutbox
import PinganPostgres
import PinganRuntime

/// Where grids, their members and their incidents live.
protocol GridStore: Sendable {
    /// The village a grid belongs to, or `nil` if there is no such grid.
    func village(ofGrid id: UUID) async throws -> DivisionCode?
    func divisionExists(_ code: DivisionCode) async throws -> Bool
    /// Creates a grid; ``GridStoreError/duplicateGridName`` when the village has one of that name.
    /// Creates a grid; with a key already used, returns the grid it created then.
    func createGrid(village: DivisionCode, name: String, now: Date, key: RequestKey?) async throws -> Grid
    func addMember(grid: UUID, name: String, role: String, key: RequestKey?) async throws -> UUID
    /// A grid's members in the order they were added, after `cursor`, each with its own cursor.
    func members(of grid: UUID, after cursor: PageCursor?, limit: Int) async throws -> [(member: GridMember, cursor: PageCursor)]
    /// Grids in the villages under `root`, oldest first, after `cursor`, each with its own cursor.
    func grids(under root: DivisionCode, after cursor: PageCursor?, limit: Int) async throws -> [(grid: Grid, cursor: PageCursor)]
    /// The village a grid belongs to, whether `member` is one of its members and whether its
    /// county runs its own platform, in one read; `nil` if there is no such grid.
    func village(ofGrid id: UUID, member: UUID) async throws -> GridFiling?
    /// The name of `village`'s county when that county runs its own platform
    /// (``FederatedCounties``), else `nil`.
    func countyWithOwnPlatform(of village: DivisionCode) async throws -> String?
    /// Stores the incident and, in the same transaction, the event that opens its case, once
    /// `admission` admits the grid's village and the reporter's membership; what it refuses,
    /// nothing is kept. With a key already used, returns the incident stored then and stores
    /// nothing.
    func report(_ report: IncidentReport, key: RequestKey?, filedBy: String, admission: GridAdmission) async throws -> Incident
    /// Incidents per village under `root` reported during `month`.
    func countIncidents(under root: DivisionCode, in month: Month) async throws -> [(village: String, incidents: Int)]
    /// Records or corrects a grid's screening for its day; true when it corrected one.
    func record(_ screening: Screening, village: DivisionCode) async throws -> Bool
    /// Screening per village under `root` during `month`, with the grids each village had.
    func screeningFacts(under root: DivisionCode, in month: Month) async throws -> [ScreeningFacts]
}

/// Why the store refused a change.
enum GridStoreError: Error, Equatable {
    case duplicateGridName
    /// A grid seen a moment before was gone when its incident was inserted.
    case gridVanished(UUID)
    /// The idempotency key was used by someone else or for another method.
    case requestReused
}

extension GridStoreError: ConnectErrorConvertible {
    var connectError: ConnectError? {
        switch self {
        case .requestReused: ConnectError.invalidArgument(field: "request_id", "was already used for another request; make a new one for each change")
        case .duplicateGridName, .gridVanished: nil
        }
    }
}

/// A caller's idempotency key: who sent it, so one caller's key never answers another's.
struct RequestKey: Sendable {
    let id: UUID
    let subject: String
}

/// Grids, members and incidents in schema `grid`.
struct PostgresGridStore: GridStore {
    let pool: PostgresPool
    let outbox: Outbox

    func village(ofGrid id: UUID) async throws -> DivisionCode? {
        let rows = try await pool.query("SELECT village_code FROM grid.grids WHERE id = $1", [id])
        return try rows.first.map { try DivisionCode(validating: try $0.decode(String.self, at: 0)) }
    }

    func divisionExists(_ code: DivisionCode) async throws -> Bool {
        try await !pool.query("SELECT 1 FROM grid.divisions WHERE code = $1", [code.rawValue]).isEmpty
    }

    /// Planned for each subtree (one village's grids or the whole city's), so that neither
    /// gets the other's plan.
    func grids(under root: DivisionCode, after cursor: PageCursor?, limit: Int) async throws -> [(grid: Grid, cursor: PageCursor)] {
        try await pool.queryPlannedEachTime(
            """
            SELECT id, village_code, name, created_at FROM grid.grids
            WHERE village_code BETWEEN $1 AND $2 AND ($3::timestamptz IS NULL OR (created_at, id) > ($3, $4))
            ORDER BY created_at, id LIMIT $5
            """,
            [root.rawValue, root.lastInSubtree, cursor?.time, cursor?.id, limit]
        ).map { row in
            let grid = Grid(id: try row.decode(UUID.self, at: 0), village: try DivisionCode(validating: try row.decode(String.self, at: 1)),
                            name: try row.decode(String.self, at: 2))
            return (grid, PageCursor(time: try row.decode(Date.self, at: 3), id: grid.id))
        }
    }

    func createGrid(village: DivisionCode, name: String, now: Date, key: RequestKey?) async throws -> Grid {
        do {
            return try await pool.transaction { transaction in
                let grid = Grid(id: UUID.random(), village: village, name: name)
                if let earlier = try await Self.remember(transaction, key, method: "CreateGrid", result: grid.id) {
                    let row = try await transaction.query("SELECT village_code, name FROM grid.grids WHERE id = $1", [earlier])[0]
                    return Grid(id: earlier, village: try DivisionCode(validating: try row.decode(String.self, at: 0)), name: try row.decode(String.self, at: 1))
                }
                try await transaction.query(
                    "INSERT INTO grid.grids (id, village_code, name, created_at) VALUES ($1, $2, $3, $4)", [grid.id, village.rawValue, name, now]
                )
                return grid
            }
        } catch let error as PostgresError where error.isUniqueViolation {
            throw GridStoreError.duplicateGridName
        }
    }

    func addMember(grid: UUID, name: String, role: String, key: RequestKey?) async throws -> UUID {
        try await pool.transaction { transaction in
            let id = UUID.random()
            if let earlier = try await Self.remember(transaction, key, method: "AddGridMember", result: id) { return earlier }
            try await transaction.query("INSERT INTO grid.members (id, grid_id, name, role) VALUES ($1, $2, $3, $4)", [id, grid, name, role])
            return id
        }
    }

    func members(of grid: UUID, after cursor: PageCursor?, limit: Int) async throws -> [(member: GridMember, cursor: PageCursor)] {
        try await pool.query(
            """
            SELECT id, name, role, created_at FROM grid.members
            WHERE grid_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3))
            ORDER BY created_at, id LIMIT $4
            """,
            [grid, cursor?.time, cursor?.id, limit]
        ).map { row in
            let member = GridMember(
                id: try row.decode(UUID.self, at: 0), grid: grid, name: try row.decode(String.self, at: 1),
                role: Pingan_Grid_V1_GridRole(storedName: try row.decode(String.self, at: 2))
            )
            return (member, PageCursor(time: try row.decode(Date.self, at: 3), id: member.id))
        }
    }

    /// Records `key` as producing `result`, or returns what it produced before. A concurrent
    /// retry waits on the key's row and then finds the first result.
    static func remember(_ transaction: PostgresConnection, _ key: RequestKey?, method: String, result: UUID) async throws -> UUID? {
        guard let key else { return nil }
        let claim = Self.claim(key, method: method, result: result)
        if try await transaction.query(claim.sql, claim.parameters).affectedRows == 1 { return nil }
        let row = try await transaction.query("SELECT subject, method, result_id FROM grid.requests WHERE request_id = $1", [key.id])[0]
        guard try row.decode(String.self, at: 0) == key.subject, try row.decode(String.self, at: 1) == method else {
            throw GridStoreError.requestReused
        }
        return try row.decode(UUID.self, at: 2)
    }

    /// The statement that records `key` as producing `result`: one row when the key is new,
    /// none when it was used before.
    static func claim(_ key: RequestKey, method: String, result: UUID) -> (sql: String, parameters: [any PostgresEncodable]) {
        ("INSERT INTO grid.requests (request_id, subject, method, result_id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
         [key.id, key.subject, method, result])
    }

    func village(ofGrid id: UUID, member: UUID) async throws -> GridFiling? {
        let rows = try await pool.withConnection { try await $0.pipeline([Self.villageAndMembership(grid: id, member: member), CountiesWithOwnPlatform.statement]) }
        return try Self.filing(rows[0], counties: rows[1])
    }

    private static func villageAndMembership(grid: UUID, member: UUID) -> (sql: String, parameters: [any PostgresEncodable]) {
        ("SELECT g.village_code, EXISTS (SELECT 1 FROM grid.members m WHERE m.id = $2 AND m.grid_id = g.id) FROM grid.grids g WHERE g.id = $1",
         [grid, member])
    }

    /// The filing from the rows of ``villageAndMembership(grid:member:)`` and of
    /// ``CountiesWithOwnPlatform/statement``.
    private static func filing(_ rows: PostgresRows, counties: PostgresRows) throws -> GridFiling? {
        guard let row = rows.first else { return nil }
        let village = try DivisionCode(validating: try row.decode(String.self, at: 0))
        return GridFiling(village: village, hasMember: try row.decode(Bool.self, at: 1),
                          countyWithOwnPlatform: try CountiesWithOwnPlatform(counties).county(of: village))
    }

    func countyWithOwnPlatform(of village: DivisionCode) async throws -> String? {
        let read = CountiesWithOwnPlatform.statement
        return try CountiesWithOwnPlatform(try await pool.query(read.sql, read.parameters)).county(of: village)
    }

    /// A report is two round trips: the grid's village and the reporter's membership are read
    /// with the request key's claim and the incident, in the one that opens the transaction;
    /// the event goes with `COMMIT`. The admission rule sees the village and the membership
    /// before anything commits, and what it refuses is rolled back. Only a key used before (a
    /// retry) costs more: it is answered from what the key recorded.
    func report(_ report: IncidentReport, key: RequestKey?, filedBy: String, admission: GridAdmission) async throws -> Incident {
        let id = UUID.random()
        let check = Self.villageAndMembership(grid: report.gridID, member: report.reporterID)
        // The village comes from the grid row in the statement itself; a missing grid or a
        // reporter who is not its member inserts nothing, and the admission rule refuses it.
        let insert = (
            sql: """
                INSERT INTO grid.incidents (id, grid_id, village_code, reporter_member_id, category,
                    party_count, threat_of_violence, threat_of_self_harm, repeat_incident, prior_police_calls, filed_by)
                SELECT $1, g.id, g.village_code, $3, $4, $5, $6, $7, $8, $9, $10 FROM grid.grids g
                WHERE g.id = $2 AND EXISTS (SELECT 1 FROM grid.members m WHERE m.id = $3 AND m.grid_id = g.id)
                RETURNING reported_at
                """,
            parameters: [id, report.gridID, report.reporterID, report.category.rawValue,
                         report.request.parties.count, report.request.threatOfViolence,
                         report.request.threatOfSelfHarm, report.request.repeatIncident, Int(report.request.priorPoliceCalls), filedBy]
                as [any PostgresEncodable]
        )
        func village(_ rows: [PostgresRows]) throws -> DivisionCode {
            try admission.admit(grid: report.gridID, try Self.filing(rows[0], counties: rows[1]))
        }
        func stored(_ id: UUID, _ village: DivisionCode, _ reportedAt: Date) -> Incident {
            var stored = Incident(report: report, village: village, id: id)
            stored.reportedAt = reportedAt
            return stored
        }
        struct KeyUsedBefore: Error {}
        do {
            return try await outbox.transaction(pool) { transaction -> Incident in
                let rows = try await transaction.pipeline(
                    [check, CountiesWithOwnPlatform.statement] + (key.map { [Self.claim($0, method: "ReportIncident", result: id)] } ?? []) + [insert]
                )
                let place = try village(rows)
                // Grids and members are never deleted: what the rule admitted inserted its incident.
                guard let inserted = rows[rows.count - 1].first else { throw GridStoreError.gridVanished(report.gridID) }
                let incident = stored(id, place, try inserted.decode(Date.self, at: 0))
                if key != nil, rows[2].affectedRows == 0 { throw KeyUsedBefore() }
                try await outbox.enqueue(transaction, IncidentEvents.reported, incident.openCaseEvent(filedBy: filedBy))
                return incident
            }
        } catch is KeyUsedBefore {
            return try await outbox.transaction(pool) { transaction -> Incident in
                let place = try village(try await transaction.pipeline([check, CountiesWithOwnPlatform.statement]))
                if let earlier = try await Self.remember(transaction, key, method: "ReportIncident", result: id) {
                    return stored(earlier, place, try await transaction.query("SELECT reported_at FROM grid.incidents WHERE id = $1", [earlier])[0].decode(Date.self, at: 0))
                }
                // The first claim was rolled back in between: this call reports after all.
                let incident = stored(id, place, try await transaction.query(insert.sql, insert.parameters)[0].decode(Date.self, at: 0))
                try await outbox.enqueue(transaction, IncidentEvents.reported, incident.openCaseEvent(filedBy: filedBy))
                return incident
            }
        }
    }

    func countIncidents(under root: DivisionCode, in month: Month) async throws -> [(village: String, incidents: Int)] {
        let (start, end) = month.range
        return try await pool.query(
            """
            SELECT village_code, count(*) FROM grid.incidents
            WHERE village_code BETWEEN $1 AND $2 AND reported_at >= $3 AND reported_at < $4
            GROUP BY village_code ORDER BY village_code
            """,
            [root.rawValue, root.lastInSubtree, start, end]
        ).map { (try $0.decode(String.self, at: 0), try $0.decode(Int.self, at: 1)) }
    }

    func record(_ screening: Screening, village: DivisionCode) async throws -> Bool {
        // An insert that finds the day already there, then a correction: on the table
        // partitioned by month (migration 9) `RETURNING xmax` cannot tell an upsert's insert
        // from its update. A first record is one round trip; a correction, rarer, two. The
        // insert waits for a concurrent first record of the same day, so the update then finds it.
        let inserted = try await pool.query(
            """
            INSERT INTO grid.screenings (grid_id, day, village_code, reporter_member_id, households_visited, disputes_found, recorded_at)
            VALUES ($1, $2::date, $3, $4, $5, $6, $7)
            ON CONFLICT (grid_id, day) DO NOTHING
            """,
            [screening.gridID, screening.day, village.rawValue, screening.reporterID,
             screening.householdsVisited, screening.disputesFound, screening.recordedAt]
        )
        guard inserted.affectedRows == 0 else { return false }
        try await pool.query(
            """
            UPDATE grid.screenings SET reporter_member_id = $3, households_visited = $4, disputes_found = $5, recorded_at = $6
            WHERE grid_id = $1 AND day = $2::date
            """,
            [screening.gridID, screening.day, screening.reporterID, screening.householdsVisited, screening.disputesFound, screening.recordedAt]
        )
        return true
    }

    func screeningFacts(under root: DivisionCode, in month: Month) async throws -> [ScreeningFacts] {
        let (start, end) = month.range
        let first = Day(containing: start)
        let last = Day(containing: end).adding(days: -1)
        return try await pool.query(
            """
            WITH grids AS (
                SELECT village_code, count(*) AS grids FROM grid.grids
                WHERE village_code BETWEEN $1 AND $2 AND created_at < $3
                GROUP BY village_code
            ), screened AS (
                SELECT village_code, count(*) AS days, count(*) FILTER (WHERE disputes_found = 0) AS nothing,
                       sum(households_visited) AS households, sum(disputes_found) AS found
                FROM grid.screenings
                WHERE village_code BETWEEN $1 AND $2 AND day BETWEEN $4::date AND $5::date
                GROUP BY village_code
            )
            SELECT coalesce(g.village_code, s.village_code), coalesce(g.grids, 0), coalesce(s.days, 0), coalesce(s.nothing, 0),
                   coalesce(s.households, 0)::bigint, coalesce(s.found, 0)::bigint
            FROM grids g FULL JOIN screened s ON s.village_code = g.village_code
            ORDER BY 1
            """,
            [root.rawValue, root.lastInSubtree, end, first, last]
        ).map { row in
            ScreeningFacts(
                village: try row.decode(String.self, at: 0), grids: try row.decode(Int.self, at: 1),
                gridDaysScreened: try row.decode(Int.self, at: 2), nothingFoundDays: try row.decode(Int.self, at: 3),
                householdsVisited: try row.decode(Int.self, at: 4), disputesFound: try row.decode(Int.self, at: 5)
            )
        }
    }
}
