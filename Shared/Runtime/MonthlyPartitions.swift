import Foundation
import Logging
import PinganDomain
import PinganPostgres

/// What one round of partition upkeep changed.
public struct PartitionUpkeep: Sendable, Equatable {
    public var created: [Month] = []
    public var dropped: [Month] = []

    public init(created: [Month] = [], dropped: [Month] = []) {
        self.created = created
        self.dropped = dropped
    }
}

/// Why partition upkeep could not do its work.
public enum MonthlyPartitionError: Error, CustomStringConvertible, Equatable {
    /// A schema, table, partition, index or column name is not a plain lower-case identifier
    /// short enough for the names built from it. Checked because these names go into DDL
    /// unquoted.
    case badName(String)

    public var description: String {
        switch self {
        case .badName(let name): "\(name) is not a plain identifier"
        }
    }
}

extension Month {
    /// Months since year 0, for ordering and comparing months.
    public var index: Int { year * 12 + month - 1 }
}

/// The monthly partitions of one table `PARTITION BY RANGE` on a date or a timestamp
/// (`grid.screenings`, `gateway.access_log`): makes months ahead of time, detaches and drops
/// the ones a retention policy no longer keeps, and indexes every month without stopping
/// writers. Shared so that each growing table gets the same lock discipline, not a copy of it.
///
/// Partitions are named `<table>_YYYY_MM` and hold one month of China Standard Time. Every
/// change here is chosen so that writes to the table keep flowing:
/// - A new month is made as a plain table (`LIKE` the parent) and then attached, which takes
///   only `SHARE UPDATE EXCLUSIVE` on the parent (readers and writers go on); `CREATE TABLE ...
///   PARTITION OF` would take `ACCESS EXCLUSIVE`. `lock_timeout` bounds the wait, so the chore
///   gives up for this round rather than queue writers behind it.
/// - An old month is detached `CONCURRENTLY` (again `SHARE UPDATE EXCLUSIVE`), then dropped as
///   a table of its own. A detach interrupted half-way is finished (`FINALIZE`) on the next
///   round. This is why such a table has no default partition: `DETACH ... CONCURRENTLY`
///   refuses a table that has one.
/// - A session advisory lock keeps two replicas (or the chore and an import) from doing the
///   same month at once.
public struct MonthlyPartitions: Sendable {
    /// How a month's bounds are written for the partition key's type.
    public enum Key: Sendable {
        /// A `date` column: a month is `['YYYY-MM-01', next month's 1st)`.
        case date
        /// A `timestamptz` column: a month runs from midnight China time on its 1st
        /// (`YYYY-MM-01 00:00:00+08`) to the next month's, whatever the session's time zone.
        case timestampChina
    }

    public let pool: PostgresPool
    public let schema: String
    public let table: String
    public let key: Key
    /// Months made ahead of the current one, so a write at midnight on the 1st never finds its
    /// month missing even if the chore has not run for weeks.
    public let monthsAhead: Int
    let lockKey: String

    /// - Parameters:
    ///   - schema, table: plain lower-case identifiers; the table at most 55 characters, since
    ///     its partitions add `_YYYY_MM`. Checked before any DDL (``MonthlyPartitionError``).
    ///   - lockKey: the advisory lock's name; by default `pingan.<schema>.<table>_partitions`.
    public init(pool: PostgresPool, schema: String, table: String, key: Key, monthsAhead: Int = 2, lockKey: String? = nil) {
        self.pool = pool
        self.schema = schema
        self.table = table
        self.key = key
        self.monthsAhead = monthsAhead
        self.lockKey = lockKey ?? "pingan.\(schema).\(table)_partitions"
    }

    /// `schema.table`.
    public var parent: String { schema + "." + table }

    /// The partition that holds `month`.
    public func name(of month: Month) -> String {
        table + "_" + String(format: "%04d_%02d", month.year, month.month)
    }

    /// The month a partition name stands for; `nil` for a name this code did not make.
    public func month(ofPartition name: String) -> Month? {
        let prefix = table + "_"
        guard name.hasPrefix(prefix) else { return nil }
        let rest = name.dropFirst(prefix.count)
        guard rest.count == 7, rest.utf8.allSatisfy({ $0 == UInt8(ascii: "_") || (48...57).contains($0) }) else { return nil }
        return Month(parsing: rest.replacingOccurrences(of: "_", with: "-"))
    }

    /// Every month that has a partition, oldest first, and those left half-detached.
    public func months() async throws -> (attached: [Month], detachPending: [Month]) {
        try checkNames()
        return try await pool.withConnection { try await months($0) }
    }

    private func months(_ connection: PostgresConnection) async throws -> (attached: [Month], detachPending: [Month]) {
        let rows = try await connection.query(
            """
            SELECT c.relname, i.inhdetachpending FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = $1::regclass ORDER BY c.relname
            """,
            [parent]
        )
        var attached: [Month] = []
        var pending: [Month] = []
        for row in rows {
            guard let month = month(ofPartition: try row.decode(String.self, at: 0)) else { continue }
            if try row.decode(Bool.self, at: 1) { pending.append(month) } else { attached.append(month) }
        }
        return (attached.sorted { $0.index < $1.index }, pending.sorted { $0.index < $1.index })
    }

    /// Makes the partitions of `months` that do not exist yet; returns the months it made.
    @discardableResult
    public func ensure(_ months: Set<Month>) async throws -> [Month] {
        guard !months.isEmpty else { return [] }
        try checkNames()
        return try await withLock { connection in
            let existing = Set(try await self.months(connection).attached)
            var created: [Month] = []
            for month in months.sorted(by: { $0.index < $1.index }) where !existing.contains(month) {
                let name = self.name(of: month)
                try await connection.transaction { transaction in
                    try await transaction.query("SET LOCAL lock_timeout = '5s'")
                    try await transaction.query("CREATE TABLE \(schema).\(name) (LIKE \(parent) INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
                    try await transaction.query(
                        "ALTER TABLE \(parent) ATTACH PARTITION \(schema).\(name) FOR VALUES FROM (\(bound(month))) TO (\(bound(month.adding(months: 1))))"
                    )
                }
                created.append(month)
            }
            return created
        }
    }

    /// One round of upkeep at `now`: makes the current month and ``monthsAhead`` after it, and
    /// detaches and drops every month before `firstKept` (none when `nil`).
    public func upkeep(now: Date, firstKept: Month?) async throws -> PartitionUpkeep {
        let current = Month(containing: now)
        var result = PartitionUpkeep()
        result.created = try await ensure(Set((0...monthsAhead).map { current.adding(months: $0) }))
        guard let firstKept else { return result }
        result.dropped = try await withLock { connection in
            let (attached, pending) = try await months(connection)
            var dropped: [Month] = []
            for month in pending where month.index < firstKept.index {
                let name = self.name(of: month)
                try await connection.runScript("ALTER TABLE \(parent) DETACH PARTITION \(schema).\(name) FINALIZE")
                try await connection.runScript("DROP TABLE \(schema).\(name)")
                dropped.append(month)
            }
            for month in attached where month.index < firstKept.index {
                let name = self.name(of: month)
                // Not in a transaction: CONCURRENTLY commits between its two steps.
                try await connection.runScript("ALTER TABLE \(parent) DETACH PARTITION \(schema).\(name) CONCURRENTLY")
                try await connection.runScript("DROP TABLE \(schema).\(name)")
                dropped.append(month)
            }
            return dropped.sorted { $0.index < $1.index }
        }
        return result
    }

    /// Adds an index on `columns` to every month of the table while rows keep being written:
    /// the way to index the table at full size, since a migration runs in a transaction and
    /// PostgreSQL cannot build an index on a partitioned table concurrently.
    ///
    /// Each month's index is built first, `CONCURRENTLY`: that takes `SHARE UPDATE EXCLUSIVE`
    /// (writes go on; the build waits for transactions that were writing when it began), and
    /// it is where the time goes. Then the parent's index is made `ON ONLY` the parent (no
    /// build, but a `SHARE` lock for an instant, under `lock_timeout` so it gives up rather than
    /// queue writers), and each month's is attached to it; the parent's becomes valid once every
    /// month's is. Months made later get the index from the parent. Idempotent: run again after
    /// an interruption, it drops a month's index left invalid and does what is missing.
    ///
    /// - Parameters:
    ///   - name: the index's name, a plain lower-case identifier of at most 40 characters (a
    ///     month's index is `<name>_<YYYY_MM>`).
    ///   - columns: plain lower-case column names.
    public func addIndexConcurrently(_ name: String, on columns: [String]) async throws {
        try checkNames()
        guard Self.isPlainIdentifier(name, maxLength: 40), !columns.isEmpty, columns.allSatisfy({ Self.isPlainIdentifier($0, maxLength: 63) }) else {
            throw MonthlyPartitionError.badName(([name] + columns).joined(separator: ", "))
        }
        let list = columns.joined(separator: ", ")
        let parentIndex = schema + "." + name
        try await withLock { (connection: PostgresConnection) async throws -> Void in
            var missing: [Month] = []
            for month in try await months(connection).attached {
                // A month made after the parent's index exists has one already (ATTACH made it).
                let covered = try await connection.query(
                    """
                    SELECT EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_index x ON x.indexrelid = i.inhrelid
                                   WHERE i.inhparent = to_regclass($1) AND x.indrelid = $2::regclass)
                    """,
                    [parentIndex, schema + "." + self.name(of: month)]
                )
                if try covered[0].decode(Bool.self, at: 0) == false { missing.append(month) }
            }
            for month in missing {
                let monthIndex = schema + "." + Self.indexName(name, month)
                let state = try await connection.query("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass($1)", [monthIndex])
                if let valid = state.first, try valid.decode(Bool.self, at: 0) == false {
                    try await connection.runScript("DROP INDEX CONCURRENTLY " + monthIndex)
                }
                try await connection.runScript(
                    "CREATE INDEX CONCURRENTLY IF NOT EXISTS " + Self.indexName(name, month) + " ON " + schema + "." + self.name(of: month) + " (" + list + ")"
                )
            }
            try await connection.query("SET lock_timeout = '5s'")
            do {
                try await connection.runScript("CREATE INDEX IF NOT EXISTS \(name) ON ONLY \(parent) (\(list))")
                for month in missing {
                    let monthIndex = schema + "." + Self.indexName(name, month)
                    let attached = try await connection.query(
                        "SELECT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = $1::regclass AND inhparent = $2::regclass)", [monthIndex, parentIndex]
                    )
                    if try attached[0].decode(Bool.self, at: 0) == false {
                        try await connection.runScript("ALTER INDEX " + parentIndex + " ATTACH PARTITION " + monthIndex)
                    }
                }
                try await connection.query("RESET lock_timeout")
            } catch {
                _ = try? await connection.query("RESET lock_timeout")
                throw error
            }
        }
    }

    /// A month's index of the partitioned index `name`.
    public static func indexName(_ name: String, _ month: Month) -> String {
        name + "_" + String(format: "%04d_%02d", month.year, month.month)
    }

    /// True for `[a-z][a-z0-9_]*` of at most `maxLength` bytes: the only names put into DDL unquoted.
    public static func isPlainIdentifier(_ name: String, maxLength: Int) -> Bool {
        guard let first = name.utf8.first, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first), name.utf8.count <= maxLength else { return false }
        return name.utf8.allSatisfy { byte in
            byte == UInt8(ascii: "_") || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
    }

    /// The literal a month starts at, for `FOR VALUES FROM ... TO ...`.
    func bound(_ month: Month) -> String {
        let day = String(format: "%04d-%02d-01", month.year, month.month)
        switch key {
        case .date: return "'\(day)'"
        case .timestampChina: return "'\(day) 00:00:00+08'"
        }
    }

    /// Throws unless the schema and table are names this code may put into DDL unquoted (a
    /// partition's name is then too: the table's, `_`, and digits).
    private func checkNames() throws {
        guard Self.isPlainIdentifier(schema, maxLength: 63) else { throw MonthlyPartitionError.badName(schema) }
        guard Self.isPlainIdentifier(table, maxLength: 55) else { throw MonthlyPartitionError.badName(table) }
    }

    /// Runs `body` holding the upkeep's advisory lock on one connection, so replicas and
    /// imports change the partitions one at a time.
    private func withLock<T>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await pool.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(hashtextextended($1, 0))", [lockKey])
            do {
                let value = try await body(connection)
                try await connection.query("SELECT pg_advisory_unlock(hashtextextended($1, 0))", [lockKey])
                return value
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(hashtextextended($1, 0))", [lockKey])
                throw error
            }
        }
    }
}

extension MonthlyPartitions {
    /// One round of ``upkeep(now:firstKept:)``, logged (notice, `<schema>.<table> partitions`)
    /// when it created or dropped a month, so an operator sees every month that went.
    public func keep(now: Date, firstKept: Month?, logger: Logger) async throws {
        let changed = try await upkeep(now: now, firstKept: firstKept)
        if !changed.created.isEmpty || !changed.dropped.isEmpty {
            logger.notice("\(parent) partitions", metadata: [
                "created": "\(changed.created.map(\.description))", "dropped": "\(changed.dropped.map(\.description))",
            ])
        }
    }

    /// The round a service runs before it serves. A failure is logged, not thrown: months are
    /// made ahead, so a round that cannot run now (a long transaction outlasting its
    /// `lock_timeout`) need not stop the service, and the hourly round tries again.
    public func keepAtStart(now: Date, firstKept: Month?, logger: Logger) async {
        do {
            try await keep(now: now, firstKept: firstKept, logger: logger)
        } catch {
            logger.warning("\(parent) partitions: upkeep failed at start; the hourly round tries again", metadata: ["error": "\(error)"])
        }
    }

    /// The hourly upkeep, a service of the application: `firstKept` turns the time of the round
    /// into the first month the table's retention keeps (`nil` keeps all). Hourly is far more
    /// often than months change; a round that finds nothing to do is one catalogue read.
    public func hourly(now: @escaping @Sendable () -> Date, firstKept: @escaping @Sendable (Date) -> Month?, logger: Logger) -> PeriodicTask {
        PeriodicTask("\(parent) partitions", every: .seconds(3600), logger: logger) {
            let at = now()
            try await keep(now: at, firstKept: firstKept(at), logger: logger)
        }
    }
}
