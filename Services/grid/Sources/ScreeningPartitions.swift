import Foundation
import Logging
import PinganDomain
import PinganPostgres
import PinganRuntime

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

/// The monthly partitions of `grid.screenings` (migration 9), kept by the shared
/// ``MonthlyPartitions``: months made ahead, months older than the ``ScreeningRetention``
/// detached and dropped, indexes built month by month, all without stopping screenings (see
/// ``MonthlyPartitions`` for the locks each step takes).
struct ScreeningPartitions: Sendable {
    /// The advisory lock of releases before the shared code, kept so that a replica of the
    /// previous release and one of this one never change the partitions at the same time.
    static let lockKey = "pingan.grid.screening_partitions"

    let retention: ScreeningRetention
    let table: MonthlyPartitions

    init(pool: PostgresPool, retention: ScreeningRetention) {
        self.retention = retention
        table = MonthlyPartitions(pool: pool, schema: "grid", table: "screenings", key: .date, lockKey: Self.lockKey)
    }

    /// Every month that has a partition, oldest first, and those left half-detached.
    func months() async throws -> (attached: [Month], detachPending: [Month]) { try await table.months() }

    /// Makes the partitions of `months` that do not exist yet; returns the months it made.
    @discardableResult
    func ensure(_ months: Set<Month>) async throws -> [Month] { try await table.ensure(months) }

    /// One round of upkeep at `now`: makes the current month and two after it, and detaches
    /// and drops every month before the retention policy's first kept month.
    func upkeep(now: Date) async throws -> PartitionUpkeep {
        try await table.upkeep(now: now, firstKept: firstKept(at: now))
    }

    /// The first month the retention policy keeps at `now`; `nil` keeps every month.
    func firstKept(at now: Date) -> Month? { retention.firstKept(current: Month(containing: now)) }

    /// Adds an index on `columns` to every month while screenings keep being written
    /// (``MonthlyPartitions/addIndexConcurrently(_:on:)``): an operator's step, since a
    /// migration runs in a transaction.
    func addIndexConcurrently(_ name: String, on columns: [String]) async throws {
        try await table.addIndexConcurrently(name, on: columns)
    }
}
