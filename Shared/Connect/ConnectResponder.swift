import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// Serves a service's Connect methods under `POST /<service>/<method>`.
///
/// It implements the unary Connect protocol directly: both codecs, Connect error bodies with
/// the protocol's HTTP statuses, `Connect-Timeout-Ms`, and a request body limit. It knows
/// nothing of health, metrics or databases; the service runtime composes those around it.
public struct ConnectResponder: Sendable {
    let routes: ConnectRoutes
    let maxBodyBytes: Int
    let observer: any ConnectCallObserver
    /// The deadline of a call whose client sent none.
    let defaultTimeout: Duration

    public init(
        routes: ConnectRoutes, maxBodyBytes: Int, observer: any ConnectCallObserver = NoCallObserver(), defaultTimeout: Duration = .seconds(60)
    ) {
        self.routes = routes
        self.maxBodyBytes = maxBodyBytes
        self.observer = observer
        self.defaultTimeout = defaultTimeout
    }

    /// Answers one Connect call; every failure becomes a Connect error body.
    public func respond(to request: Request, path: String, logger: Logger, peer: String? = nil) async -> Response {
        let started = ContinuousClock.now
        let response: Response
        let outcome: String
        do {
            response = try await call(request, path: path, logger: logger, peer: peer)
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
        observer.finished(path: known ? path : "unknown", outcome: outcome, duration: ContinuousClock.now - started)
        return response
    }

    private func call(_ request: Request, path: String, logger: Logger, peer: String?) async throws -> Response {
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
        // A caller that sets no deadline gets the server's: no call holds a task for ever.
        let deadline = try Self.deadline(from: request.headers) ?? ContinuousClock.now + defaultTimeout
        let limit = min(maxBodyBytes, try routes.admission?(path, request.headers, peer) ?? maxBodyBytes)
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw ConnectError.bodyTooLarge(limit: limit)
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw ConnectError.bodyTooLarge(limit: limit)
        }
        let trace = TraceContext(header: request.headers[.traceparent]) ?? .root()
        var callLogger = logger
        callLogger[metadataKey: "trace_id"] = "\(trace.traceID)"
        callLogger[metadataKey: "rpc"] = "\(path)"
        let context = ConnectContext(path: path, headers: request.headers, deadline: deadline, trace: trace, logger: callLogger, peer: peer)
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

/// Told about every Connect call a ``ConnectResponder`` finished, for metrics.
public protocol ConnectCallObserver: Sendable {
    /// - Parameters:
    ///   - path: the method's path, or `unknown` for a path no method serves.
    ///   - outcome: `ok` or the Connect code the call ended with.
    func finished(path: String, outcome: String, duration: Duration)
}

/// Observes nothing.
public struct NoCallObserver: ConnectCallObserver {
    public init() {}
    public func finished(path: String, outcome: String, duration: Duration) {}
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

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
