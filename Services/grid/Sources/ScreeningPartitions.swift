import Foundation
import Logging
import PinganDomain
import PinganPostgres

/// How long daily screenings are kept: whole months, counted back from the current one.
///
/// The default, 36 months, keeps the current month and the three years before it: the index
/// reads a month's screening when it computes that month (and again if a month is re-run), the
/// annual grades come from the monthly scores, and a review compares a year with the two before
/// it. Beyond that the index's published results hold what the screening said. At Changde's
/// size that is about 13 million rows, a few GB with their indexes. `0` keeps every month.
public struct ScreeningRetention: Sendable, Equatable {
    /// Months kept before the current one; `nil` keeps everything.
    public let months: Int?

    public static let defaultMonths = 36
    public static let `default` = ScreeningRetention(months: defaultMonths)
    public static let forever = ScreeningRetention(months: nil)

    public init(months: Int?) { self.months = months }

    /// The first month kept when `now` falls in `current`: earlier months are dropped.
    func firstKept(current: Month) -> Month? { months.map { current.adding(months: -$0) } }
}

/// What one round of partition upkeep changed.
public struct PartitionUpkeep: Sendable, Equatable {
    public var created: [Month] = []
    public var dropped: [Month] = []
}

/// Why partition upkeep could not do its work.
enum ScreeningPartitionError: Error, CustomStringConvertible {
    /// A partition name this code would build is not a plain identifier (cannot happen for a
    /// real month; checked because the name goes into DDL).
    case badName(String)

    var description: String {
        switch self {
        case .badName(let name): "\(name) is not a plain identifier"
        }
    }
}

/// The monthly partitions of `grid.screenings` (migration 9): makes months ahead of time, and
/// detaches and drops the ones older than the retention policy.
///
/// Every change here is chosen so that screening writes keep flowing:
/// - A new month is made as a plain table (`LIKE` the parent) and then attached, which takes
///   only `SHARE UPDATE EXCLUSIVE` on the parent (readers and writers go on); `CREATE TABLE ...
///   PARTITION OF` would take `ACCESS EXCLUSIVE`. `lock_timeout` bounds the wait, so the chore
///   gives up for this round rather than queue writers behind it.
/// - An old month is detached `CONCURRENTLY` (again `SHARE UPDATE EXCLUSIVE`), then dropped as
///   a table of its own. A detach interrupted half-way is finished (`FINALIZE`) on the next round.
///   This is why there is no default partition: `DETACH ... CONCURRENTLY` refuses a table that has one.
/// - A session advisory lock keeps two replicas (or the chore and an import) from doing the
///   same month at once.
struct ScreeningPartitions: Sendable {
    /// Months made ahead of the current one, so a write at midnight on the 1st never finds its
    /// month missing even if the chore has not run for weeks.
    static let monthsAhead = 2
    static let parent = "grid.screenings"
    static let lockKey = "pingan.grid.screening_partitions"

    let pool: PostgresPool
    let retention: ScreeningRetention

    /// The partition that holds `month`'s days.
    static func name(of month: Month) -> String {
        "screenings_" + String(format: "%04d_%02d", month.year, month.month)
    }

    /// The month a partition name stands for; `nil` for a name this code did not make.
    static func month(ofPartition name: String) -> Month? {
        let prefix = "screenings_"
        guard name.hasPrefix(prefix) else { return nil }
        let rest = name.dropFirst(prefix.count)
        guard rest.count == 7 else { return nil }
        return Month(parsing: rest.replacingOccurrences(of: "_", with: "-"))
    }

    /// Every month that has a partition, oldest first, and those left half-detached.
    func months() async throws -> (attached: [Month], detachPending: [Month]) {
        try await pool.withConnection { try await Self.months($0) }
    }

    private static func months(_ connection: PostgresConnection) async throws -> (attached: [Month], detachPending: [Month]) {
        let rows = try await connection.query(
            """
            SELECT c.relname, i.inhdetachpending FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'grid.screenings'::regclass ORDER BY c.relname
            """
        )
        var attached: [Month] = []
        var pending: [Month] = []
        for row in rows {
            guard let month = Self.month(ofPartition: try row.decode(String.self, at: 0)) else { continue }
            if try row.decode(Bool.self, at: 1) { pending.append(month) } else { attached.append(month) }
        }
        return (attached, pending)
    }

    /// Makes the partitions of `months` that do not exist yet; returns the months it made.
    @discardableResult
    func ensure(_ months: Set<Month>) async throws -> [Month] {
        guard !months.isEmpty else { return [] }
        return try await withLock { connection in
            let existing = Set(try await Self.months(connection).attached)
            var created: [Month] = []
            for month in months.sorted(by: { $0.index < $1.index }) where !existing.contains(month) {
                let name = Self.name(of: month)
                guard Self.isPartitionName(name) else { throw ScreeningPartitionError.badName(name) }
                let (start, end) = (Self.firstDay(of: month), Self.firstDay(of: month.adding(months: 1)))
                try await connection.transaction { transaction in
                    try await transaction.query("SET LOCAL lock_timeout = '5s'")
                    try await transaction.query("CREATE TABLE grid.\(name) (LIKE grid.screenings INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
                    try await transaction.query(
                        "ALTER TABLE grid.screenings ATTACH PARTITION grid.\(name) FOR VALUES FROM ('\(start)') TO ('\(end)')"
                    )
                }
                created.append(month)
            }
            return created
        }
    }

    /// One round of upkeep at `now`: makes the current month and ``monthsAhead`` after it, and
    /// detaches and drops every month before the retention policy's first kept month.
    func upkeep(now: Date) async throws -> PartitionUpkeep {
        let current = Month(containing: now)
        var result = PartitionUpkeep()
        result.created = try await ensure(Set((0...Self.monthsAhead).map { current.adding(months: $0) }))
        guard let firstKept = retention.firstKept(current: current) else { return result }
        result.dropped = try await withLock { connection in
            let (attached, pending) = try await Self.months(connection)
            var dropped: [Month] = []
            for month in pending where month.index < firstKept.index {
                let name = Self.name(of: month)
                try await connection.runScript("ALTER TABLE grid.screenings DETACH PARTITION grid.\(name) FINALIZE")
                try await connection.runScript("DROP TABLE grid.\(name)")
                dropped.append(month)
            }
            for month in attached where month.index < firstKept.index {
                let name = Self.name(of: month)
                guard Self.isPartitionName(name) else { throw ScreeningPartitionError.badName(name) }
                // Not in a transaction: CONCURRENTLY commits between its two steps.
                try await connection.runScript("ALTER TABLE grid.screenings DETACH PARTITION grid.\(name) CONCURRENTLY")
                try await connection.runScript("DROP TABLE grid.\(name)")
                dropped.append(month)
            }
            return dropped.sorted { $0.index < $1.index }
        }
        return result
    }

    /// Adds an index on `columns` to every month of the table while screenings keep being
    /// written: the way to index a full-size `grid.screenings`, since a migration runs in a
    /// transaction and PostgreSQL cannot build an index on a partitioned table concurrently.
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
    func addIndexConcurrently(_ name: String, on columns: [String]) async throws {
        guard Self.isPlainIdentifier(name, maxLength: 40), !columns.isEmpty, columns.allSatisfy({ Self.isPlainIdentifier($0, maxLength: 63) }) else {
            throw ScreeningPartitionError.badName(([name] + columns).joined(separator: ", "))
        }
        let list = columns.joined(separator: ", ")
        try await withLock { (connection: PostgresConnection) async throws -> Void in
            let months: [Month] = try await Self.months(connection).attached
            var missing: [Month] = []
            for month in months {
                // A month made after the parent's index exists has one already (ATTACH made it).
                let covered = try await connection.query(
                    """
                    SELECT EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_index x ON x.indexrelid = i.inhrelid
                                   WHERE i.inhparent = to_regclass($1) AND x.indrelid = $2::regclass)
                    """,
                    ["grid." + name, "grid." + Self.name(of: month)]
                )
                if try covered[0].decode(Bool.self, at: 0) == false { missing.append(month) }
            }
            for month in missing {
                let monthIndex: String = Self.indexName(name, month)
                let state = try await connection.query("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass($1)", ["grid." + monthIndex])
                if let valid = state.first, try valid.decode(Bool.self, at: 0) == false {
                    try await connection.runScript("DROP INDEX CONCURRENTLY grid." + monthIndex)
                }
                let partition: String = Self.name(of: month)
                try await connection.runScript("CREATE INDEX CONCURRENTLY IF NOT EXISTS " + monthIndex + " ON grid." + partition + " (" + list + ")")
            }
            try await connection.query("SET lock_timeout = '5s'")
            do {
                try await connection.runScript("CREATE INDEX IF NOT EXISTS \(name) ON ONLY grid.screenings (\(list))")
                for month in missing {
                    let monthIndex: String = Self.indexName(name, month)
                    let attached = try await connection.query(
                        "SELECT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = $1::regclass AND inhparent = $2::regclass)", ["grid." + monthIndex, "grid." + name]
                    )
                    if try attached[0].decode(Bool.self, at: 0) == false {
                        try await connection.runScript("ALTER INDEX grid." + name + " ATTACH PARTITION grid." + monthIndex)
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
    static func indexName(_ name: String, _ month: Month) -> String {
        name + "_" + String(format: "%04d_%02d", month.year, month.month)
    }

    static func isPlainIdentifier(_ name: String, maxLength: Int) -> Bool {
        guard let first = name.utf8.first, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first), name.utf8.count <= maxLength else { return false }
        return name.utf8.allSatisfy { byte in
            byte == UInt8(ascii: "_") || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
    }

    /// Runs `body` holding the upkeep's advisory lock on one connection, so replicas and
    /// imports change the partitions one at a time.
    private func withLock<T>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await pool.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(hashtextextended($1, 0))", [Self.lockKey])
            do {
                let value = try await body(connection)
                try await connection.query("SELECT pg_advisory_unlock(hashtextextended($1, 0))", [Self.lockKey])
                return value
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(hashtextextended($1, 0))", [Self.lockKey])
                throw error
            }
        }
    }

    /// True for `screenings_YYYY_MM`: the only names this code puts into DDL, unquoted.
    static func isPartitionName(_ name: String) -> Bool {
        let utf8: [UInt8] = Array(name.utf8)
        guard name.hasPrefix("screenings_"), utf8.count == 18, utf8[15] == UInt8(ascii: "_") else { return false }
        let digits: [UInt8] = Array(utf8[11..<15]) + Array(utf8[16..<18])
        return digits.allSatisfy { (byte: UInt8) -> Bool in byte >= 48 && byte <= 57 }
    }

    static func firstDay(of month: Month) -> String { String(format: "%04d-%02d-01", month.year, month.month) }
}

extension Month {
    /// Months since year 0, for ordering.
    var index: Int { year * 12 + month - 1 }
}

