import PinganConnect
import PinganPostgres
import Prometheus
import Synchronization

/// The Prometheus metrics every service exposes on `GET /metrics`.
///
/// One registry per server rather than the process-wide `MetricsSystem`, so several servers
/// (as in tests) can live in one process without sharing counters.
public final class ServiceMetrics: ConnectCallObserver {
    public let registry = PrometheusCollectorRegistry()
    private let pool: PostgresPool?
    private let poolInUse: Gauge
    private let poolIdle: Gauge
    private let poolWaiting: Gauge
    /// Each method's metrics, made on its first call: making one looks it up in the registry
    /// by name and labels, under the registry's lock, on every call otherwise.
    private let methods = Mutex<[String: MethodMetrics]>([:])

    private struct MethodMetrics {
        let latency: DurationHistogram
        let errors: Counter
        var requests: [String: Counter] = [:]
    }

    static let latencyBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
    ]

    private static var requests: MetricNameDescriptor { MetricNameDescriptor(
        namespace: "pingan", subsystem: "rpc", metricName: "requests", unitName: "total",
        helpText: "Connect calls served, by method and outcome"
    ) }
    private static var errors: MetricNameDescriptor { MetricNameDescriptor(
        namespace: "pingan", subsystem: "rpc", metricName: "errors", unitName: "total",
        helpText: "Connect calls that ended in an error, by method"
    ) }
    private static var latency: MetricNameDescriptor { MetricNameDescriptor(
        namespace: "pingan", subsystem: "rpc", metricName: "duration", unitName: "seconds",
        helpText: "Connect call latency, by method"
    ) }

    public init(pool: PostgresPool?) {
        self.pool = pool
        poolInUse = registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "pingan", subsystem: "db_pool", metricName: "in_use", unitName: "", helpText: "PostgreSQL connections checked out"))
        poolIdle = registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "pingan", subsystem: "db_pool", metricName: "idle", unitName: "", helpText: "PostgreSQL connections open and idle"))
        poolWaiting = registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "pingan", subsystem: "db_pool", metricName: "waiting", unitName: "", helpText: "Callers waiting for a PostgreSQL connection"))
    }

    /// Counts one finished call: its method, its outcome code (`ok` or a Connect code) and
    /// how long it took.
    public func finished(path: String, outcome code: String, duration: Duration) {
        let (requests, errors, latency) = methods.withLock { methods in
            var method = methods[path] ?? MethodMetrics(
                latency: registry.makeDurationHistogram(descriptor: Self.latency, labels: [("method", path)], buckets: Self.latencyBuckets),
                errors: registry.makeCounter(descriptor: Self.errors, labels: [("method", path)])
            )
            let requests = method.requests[code] ?? registry.makeCounter(descriptor: Self.requests, labels: [("method", path), ("code", code)])
            method.requests[code] = requests
            methods[path] = method
            return (requests, method.errors, method.latency)
        }
        requests.increment()
        if code != "ok" { errors.increment() }
        latency.record(duration)
    }

    /// A counter of a service's own, named `pingan_<name>_total`; returns its increment.
    public func counter(_ name: String, help: String) -> @Sendable () -> Void {
        let counter = registry.makeCounter(descriptor: MetricNameDescriptor(namespace: "pingan", subsystem: "", metricName: name, unitName: "total", helpText: help))
        return { counter.increment() }
    }

    /// A gauge of a service's own, named `pingan_<name>`; returns its setter.
    public func gauge(_ name: String, help: String) -> @Sendable (Double) -> Void {
        let gauge = registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "pingan", subsystem: "", metricName: name, unitName: "", helpText: help))
        return { gauge.set($0) }
    }

    /// The exposition text, with the pool gauges read at scrape time.
    public func render() -> [UInt8] {
        if let statistics = pool?.statistics {
            poolInUse.set(Double(statistics.inUse))
            poolIdle.set(Double(statistics.idle))
            poolWaiting.set(Double(statistics.waiting))
        }
        return registry.emitToBuffer()
    }
}
