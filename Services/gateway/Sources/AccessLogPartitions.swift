import Foundation
import Logging
import PinganDomain
import PinganPostgres
import PinganRuntime

/// How long the access log is kept, in days (`ACCESS_LOG_RETENTION_DAYS`).
///
/// The default and the floor, 180 days, are the six months for which the Cybersecurity Law
/// (网络安全法, article 21) has network operators keep their logs; a deployment may keep them
/// longer. A month's partition goes only once its last instant is older than the retention, so
/// a row is kept at least `days` and at most about a month more.
public struct AccessLogRetention: Sendable, Equatable {
    public let days: Int

    public static let defaultDays = 180
    /// The settings accept no less: see the type's summary.
    public static let minimumDays = 180
    public static let `default` = AccessLogRetention(days: defaultDays)

    /// Any number of days, for tests; the settings keep to ``minimumDays``...3650.
    public init(days: Int) { self.days = days }

    /// The first month kept at `now`: the month holding the instant `days` before it. Every
    /// earlier month ended before that instant, so all its rows are past the retention.
    func firstKept(now: Date) -> Month {
        Month(containing: now.addingTimeInterval(-TimeInterval(days) * 86_400))
    }
}

/// The monthly partitions of `gateway.access_log` (migration 6), kept by the shared
/// ``MonthlyPartitions``: the current month and two ahead are made, months past the
/// ``AccessLogRetention`` are detached `CONCURRENTLY` and dropped. This replaces the hourly
/// `DELETE` of old rows, which at a busy gateway's volume left a table that vacuum had to
/// chase and whose deletes competed with the log's own writes.
struct AccessLogPartitions: Sendable {
    let retention: AccessLogRetention
    let table: MonthlyPartitions

    init(pool: PostgresPool, retention: AccessLogRetention) {
        self.retention = retention
        table = MonthlyPartitions(pool: pool, schema: GatewayMigrations.schema, table: "access_log", key: .timestampChina)
    }

    /// One round of upkeep at `now`: makes months ahead and drops months past the retention.
    func upkeep(now: Date) async throws -> PartitionUpkeep {
        try await table.upkeep(now: now, firstKept: retention.firstKept(now: now))
    }

    /// The round run before the gateway serves; a failure is logged and left to the hourly one.
    func keepAtStart(now: Date, logger: Logger) async {
        await table.keepAtStart(now: now, firstKept: retention.firstKept(now: now), logger: logger)
    }

    /// The hourly upkeep, a service of the application.
    func hourly(now: @escaping @Sendable () -> Date, logger: Logger) -> PeriodicTask {
        let retention = retention
        return table.hourly(now: now, firstKept: { retention.firstKept(now: $0) }, logger: logger)
    }
}
