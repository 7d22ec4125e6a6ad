import PinganDomain
import PinganPostgres

extension Day: PostgresEncodable {
    /// Sent as a `date`, not as text cast to one: a text-to-date cast depends on the session's
    /// DateStyle, so the planner cannot fold it, and a statement over a table partitioned by
    /// month then plans every partition (and JIT-compiles the plan) instead of the one month
    /// it reads. At the city's 3.7 million screening days a month's facts took 150 ms as text and
    /// 73 ms typed (`EXPLAIN ANALYZE` of `GridStore.screeningFacts`, docs/performance.md).
    public var postgresParameter: PostgresParameter { PostgresParameter(typeOID: 1082, text: description) }
}
