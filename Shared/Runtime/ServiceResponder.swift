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

    public init(connect: ConnectResponder, metrics: ServiceMetrics, readiness: @escaping @Sendable () async -> Readiness) {
        self.connect = connect
        self.metrics = metrics
        self.readiness = readiness
    }

    public func respond(to request: Request, context: Context) async throws -> Response {
        switch (request.method, request.uri.path) {
        case (.get, "/healthz"):
            return .text("ok\n")
        case (.get, "/readyz"):
            switch await readiness() {
            case .ready: return .text("ready\n")
            case .notReady(let reason): return .text("not ready: \(reason)\n", status: .serviceUnavailable)
            }
        case (.get, "/metrics"):
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
