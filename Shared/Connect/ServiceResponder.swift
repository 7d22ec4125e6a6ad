import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PinganPostgres
import Synchronization

/// Whether a service can take traffic: its database answers and its migrations are applied.
public enum Readiness: Sendable, Equatable {
    case ready
    case notReady(String)
}

/// The HTTP face of one service: its Connect methods under `POST /<service>/<method>`, plus
/// `GET /healthz`, `GET /readyz` and `GET /metrics`.
///
/// It implements the unary Connect protocol directly: both codecs, Connect error bodies with
/// the protocol's HTTP statuses, `Connect-Timeout-Ms`, and a request body limit.
public struct ServiceResponder: HTTPResponder {
    public typealias Context = BasicRequestContext

    let routes: ConnectRoutes
    let maxBodyBytes: Int
    let metrics: ServiceMetrics
    let readiness: @Sendable () async -> Readiness

    public init(
        routes: ConnectRoutes, maxBodyBytes: Int, metrics: ServiceMetrics,
        readiness: @escaping @Sendable () async -> Readiness
    ) {
        self.routes = routes
        self.maxBodyBytes = maxBodyBytes
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
            return await serveConnect(request, path: path, logger: context.logger)
        default:
            return .text("not found\n", status: .notFound)
        }
    }

    private func serveConnect(_ request: Request, path: String, logger: Logger) async -> Response {
        let started = ContinuousClock.now
        let response: Response
        let outcome: String
        do {
            response = try await call(request, path: path, logger: logger)
            outcome = "ok"
        } catch {
            let connectError = ConnectError.wrapping(error, logger: logger)
            var status = HTTPResponse.Status(code: connectError.code.httpStatus)
            var headers: HTTPFields = [.contentType: "application/json"]
            if let rejection = error as? RequestRejection {
                status = rejection.status
                if rejection.status == .unsupportedMediaType {
                    headers[.acceptPost] = ConnectCodec.allCases.map(\.rawValue).joined(separator: ", ")
                }
            }
            response = Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(data: connectError.jsonBody)))
            outcome = connectError.code.rawValue
        }
        // Unknown paths share one label so a scanner cannot grow the metric set without bound;
        // a forwarded path counts as known once its service did not answer `unimplemented`.
        let known = routes.handlers[path] != nil || (routes.fallback != nil && outcome != ConnectCode.unimplemented.rawValue)
        let label = known ? path : "unknown"
        metrics.record(path: label, code: outcome, duration: ContinuousClock.now - started)
        return response
    }

    private func call(_ request: Request, path: String, logger: Logger) async throws -> Response {
        guard let handler = routes.handlers[path] ?? routes.fallback else {
            throw RequestRejection(.notFound, ConnectError(.unimplemented, "no method \(path)"))
        }
        let contentType = request.headers[.contentType] ?? ""
        guard let codec = ConnectCodec(contentType: contentType) else {
            throw RequestRejection(.unsupportedMediaType, ConnectError(
                .invalidArgument,
                "unsupported content type \"\(contentType)\"; send application/json or application/proto"
            ))
        }
        if let encoding = request.headers[.contentEncoding], encoding.lowercased() != "identity" {
            throw ConnectError(.unimplemented, "content encoding \"\(encoding)\" is not supported; send the body uncompressed")
        }
        let deadline = try Self.deadline(from: request.headers)
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBodyBytes {
            throw ConnectError.bodyTooLarge(limit: maxBodyBytes)
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw ConnectError.bodyTooLarge(limit: maxBodyBytes)
        }
        let trace = TraceContext(header: request.headers[.traceparent]) ?? .root()
        var callLogger = logger
        callLogger[metadataKey: "trace_id"] = "\(trace.traceID)"
        callLogger[metadataKey: "rpc"] = "\(path)"
        let context = ConnectContext(path: path, headers: request.headers, deadline: deadline, trace: trace, logger: callLogger)
        let bytes = Array(buffer: body)
        let output = try await Deadline.run(until: deadline) {
            try await handler(bytes, codec, context)
        }
        return Response(
            status: .ok, headers: [.contentType: codec.rawValue],
            body: .init(byteBuffer: ByteBuffer(bytes: output))
        )
    }

    /// Reads `Connect-Timeout-Ms`: at most 10 digits, per the protocol.
    static func deadline(from headers: HTTPFields) throws -> ContinuousClock.Instant? {
        guard let value = headers[.connectTimeoutMs] else { return nil }
        guard (1...10).contains(value.count), value.allSatisfy(\.isASCIIDigit), let millis = Int64(value) else {
            throw ConnectError(.invalidArgument, "Connect-Timeout-Ms must be 1 to 10 digits, got \"\(value)\"")
        }
        return .now + .milliseconds(millis)
    }
}

/// A Connect error that the protocol sends with an HTTP status other than its code's own.
struct RequestRejection: Error {
    let status: HTTPResponse.Status
    let error: ConnectError
    init(_ status: HTTPResponse.Status, _ error: ConnectError) {
        self.status = status
        self.error = error
    }
}

extension ConnectError {
    static func bodyTooLarge(limit: Int) -> ConnectError {
        ConnectError(.resourceExhausted, "request body is larger than the limit of \(limit) bytes")
    }

    /// The error to send for anything a handler threw. Database trouble becomes `unavailable`
    /// (the caller may retry); anything unexpected becomes `internal`, logged here and never
    /// described to the caller.
    public static func wrapping(_ error: any Error, logger: Logger) -> ConnectError {
        switch error {
        case let error as ConnectError:
            return error
        case let rejection as RequestRejection:
            return rejection.error
        case let error as PostgresError where [.poolTimeout, .connectionFailed, .connectionLost, .poolClosed].contains(error.code):
            logger.warning("database unavailable", metadata: ["error": "\(error)"])
            return ConnectError(.unavailable, "the database is unavailable; try again shortly")
        case is CancellationError:
            return ConnectError(.canceled, "the call was canceled")
        default:
            logger.error("unexpected error in handler", metadata: ["error": "\(error)"])
            return ConnectError(.internal, "internal error")
        }
    }
}

/// Runs work against a deadline and answers at the deadline even if the work is still busy
/// (a blocking database call cannot be interrupted; it is cancelled and finishes on its own).
enum Deadline {
    static func run<T: Sendable>(
        until deadline: ContinuousClock.Instant?, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        guard let deadline else { return try await body() }
        if deadline <= .now { throw ConnectError(.deadlineExceeded, "the deadline had passed before the call started") }
        return try await withCheckedThrowingContinuation { continuation in
            let once = ResumeOnce(continuation)
            let work = Task {
                let result = await Result { try await body() }
                once.resume(with: result)
            }
            let timer = Task {
                try? await Task.sleep(until: deadline, clock: .continuous)
                guard !Task.isCancelled else { return }
                if once.resume(with: .failure(ConnectError(.deadlineExceeded, "the call did not finish before its deadline"))) {
                    work.cancel()
                }
            }
            once.onResume { timer.cancel() }
        }
    }
}

/// Resumes a continuation exactly once, whichever side gets there first.
final class ResumeOnce<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var cleanup: (@Sendable () -> Void)?
        var done = false
    }
    private let state: Mutex<State>

    init(_ continuation: CheckedContinuation<T, any Error>) {
        state = Mutex(State(continuation: continuation))
    }

    /// Returns true if this call resumed the continuation.
    @discardableResult
    func resume(with result: Result<T, any Error>) -> Bool {
        let taken = state.withLock { state -> (CheckedContinuation<T, any Error>, (@Sendable () -> Void)?)? in
            guard let continuation = state.continuation else { return nil }
            state.continuation = nil
            state.done = true
            defer { state.cleanup = nil }
            return (continuation, state.cleanup)
        }
        guard let (continuation, cleanup) = taken else { return false }
        cleanup?()
        continuation.resume(with: result)
        return true
    }

    /// Runs `cleanup` once resumed (at once if already resumed).
    func onResume(_ cleanup: @escaping @Sendable () -> Void) {
        let runNow = state.withLock { state -> Bool in
            if state.done { return true }
            state.cleanup = cleanup
            return false
        }
        if runNow { cleanup() }
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}

extension Response {
    static func text(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: text))
        )
    }
}

extension HTTPField.Name {
    static let connectTimeoutMs = constant("Connect-Timeout-Ms")
    static let traceparent = constant("traceparent")
    static let acceptPost = constant("Accept-Post")

    /// A header name written in the source, so known to be valid.
    static func constant(_ name: String) -> HTTPField.Name {
        guard let field = HTTPField.Name(name) else { preconditionFailure("invalid header name \(name)") }
        return field
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
