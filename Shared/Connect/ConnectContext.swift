import HTTPTypes
import Hummingbird
import Logging

/// What a handler knows about the call it serves, besides the request message.
public struct ConnectContext: Sendable {
    /// `/<service>/<method>`.
    public let path: String
    /// The request headers, for authentication and metadata.
    public let headers: HTTPFields
    /// When the caller stops waiting, from `Connect-Timeout-Ms`; `nil` for no deadline.
    public let deadline: ContinuousClock.Instant?
    /// The trace this call belongs to; pass `trace.child()` on to calls it makes.
    public let trace: TraceContext
    private let serverLogger: Logger
    /// The IP address the connection came from, when the server knows it.
    public let peer: String?

    public init(path: String, headers: HTTPFields, deadline: ContinuousClock.Instant?, trace: TraceContext, logger: Logger, peer: String? = nil) {
        self.path = path
        self.headers = headers
        self.deadline = deadline
        self.trace = trace
        serverLogger = logger
        self.peer = peer
    }

    /// The server's logger with the call's trace id and method, made when a handler logs:
    /// setting logger metadata on every call showed in the gateway's profile, for lines that
    /// are rarely written (docs/performance.md).
    public var logger: Logger {
        var logger = serverLogger
        logger[metadataKey: "trace_id"] = "\(trace.traceID)"
        logger[metadataKey: "rpc"] = "\(path)"
        return logger
    }

    /// A header's value by name, case-insensitively.
    public func header(_ name: String) -> String? {
        HTTPField.Name(name).flatMap { headers[$0] }
    }

    /// Time left before the deadline, for propagating it to calls this handler makes.
    public var remaining: Duration? {
        deadline.map { ContinuousClock.now.duration(to: $0) }
    }
}
