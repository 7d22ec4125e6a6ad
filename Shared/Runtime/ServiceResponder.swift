import Hummingbird
import NIOCore
import PinganConnect

/// The HTTP face of one service: its Connect methods, plus `GET /healthz` (alive),
/// `GET /readyz` (database reachable, migrations applied) and `GET /metrics` (Prometheus).
public struct ServiceResponder: HTTPResponder {
    public typealias Context = PinganRequestContext

    let connect: ConnectResponder
    let metrics: ServiceMetrics
    let readiness: @Sendable () async -> Readiness
    let metricsToken: String?
    /// Pages for people, under `/ui/` (the gateway's dashboard), with the site's root and
    /// `/favicon.ico` a browser asks for; `nil` serves none.
    let pages: Pages?
    /// Whose `X-Forwarded-For` names the client; none by default.
    let trustedProxies: TrustedProxies

    /// Answers the requests for pages under `/ui/`: a Hummingbird router the service builds.
    public typealias Pages = any HTTPResponder<PinganRequestContext>

    public init(
        connect: ConnectResponder, metrics: ServiceMetrics, metricsToken: String? = nil, pages: Pages? = nil,
        trustedProxies: TrustedProxies = TrustedProxies(), readiness: @escaping @Sendable () async -> Readiness
    ) {
        self.connect = connect
        self.trustedProxies = trustedProxies
        self.metrics = metrics
        self.metricsToken = metricsToken
        self.pages = pages
        self.readiness = readiness
    }

    /// Metrics say how busy each method is and how the pool fares: for the operators, not for
    /// whoever can reach the port. Loopback (and an in-process caller) may read them, and a
    /// scraper elsewhere with `METRICS_TOKEN`; anyone else gets "not found".
    public static func mayReadMetrics(authorization: String?, peer: String?, token: String?) -> Bool {
        guard let peer else { return true }
        if peer == "::1" || peer.hasPrefix("127.") || peer.hasPrefix("::ffff:127.") { return true }
        guard let token else { return false }
        return authorization == "Bearer " + token
    }

    /// Whether `request` is for the pages: anything under `/ui/`, the resident pages
    /// (`/resident`) and the Open311 door (`/open311/`), and a browser's `GET` (or
    /// `HEAD`) of `/` or `/favicon.ico`. A `POST /` stays a Connect call, answered as one.
    static func isPage(_ request: Request) -> Bool {
        let path = request.uri.path
        if path == "/ui" || path.hasPrefix("/ui/") || path.hasPrefix("/open311/") || path == "/resident" || path.hasPrefix("/resident/") { return true }
        return (request.method == .get || request.method == .head) && (path == "/" || path == "/favicon.ico")
    }

    public func respond(to request: Request, context: Context) async throws -> Response {
        var context = context
        if !trustedProxies.isEmpty {
            // Resolved once here, so the methods, the pages and the metrics check all see the
            // same client: behind a trusted proxy, the one it forwarded for.
            let forwarded = request.headers.filter { $0.name.canonicalName == "x-forwarded-for" }.map(\.value)
            context.peer = trustedProxies.client(peer: context.peer, forwardedFor: forwarded)
        }
        if let pages, Self.isPage(request) {
            return try await pages.respond(to: request, context: context)
        }
        switch (request.method, request.uri.path) {
        case (.get, "/healthz"):
            return .text("ok\n")
        case (.get, "/readyz"):
            switch await readiness() {
            case .ready: return .text("ready\n")
            case .notReady(let reason): return .text("not ready: \(reason)\n", status: .serviceUnavailable)
            }
        case (.get, "/metrics") where Self.mayReadMetrics(authorization: request.headers[.authorization], peer: context.peer, token: metricsToken):
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.render()))
            )
        case (.post, let path):
            return await connect.respond(to: request, path: path, logger: context.logger, peer: context.peer)
        default:
            return .text("not found\n", status: .notFound)
        }
    }
}
