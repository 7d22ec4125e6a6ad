/// Per-call settings for ``ConnectClient``.
public struct CallOptions: Sendable {
    /// How long the caller waits in all, retries included; sent as `Connect-Timeout-Ms`.
    public var timeout: Duration?
    /// Extra request headers, such as a signed principal.
    public var headers: [(String, String)]
    /// The trace this call continues; a handler passes `context.trace`.
    public var trace: TraceContext?

    public init(timeout: Duration? = nil, headers: [(String, String)] = [], trace: TraceContext? = nil) {
        self.timeout = timeout
        self.headers = headers
        self.trace = trace
    }
}
