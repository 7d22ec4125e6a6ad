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

    /// Answers one call in whichever protocol it came (Connect, gRPC or gRPC-Web); every
    /// failure becomes that protocol's error.
    public func respond(to request: Request, path: String, logger: Logger, peer: String? = nil) async -> Response {
        let started = ContinuousClock.now
        let contentType = request.headers[.contentType] ?? ""
        let recognised = RPCProtocol.of(contentType: contentType)
        let (wire, codec) = recognised ?? (.connect, .json)
        let response: Response
        let outcome: String
        do {
            guard recognised != nil else {
                throw RequestRejection(.unsupportedMediaType, ConnectError(
                    .invalidArgument,
                    "unsupported content type \"\(contentType)\"; send application/json or application/proto (Connect), application/grpc (gRPC) or application/grpc-web (gRPC-Web)"
                ))
            }
            let output = try await call(request, path: path, wire: wire, codec: codec, logger: logger, peer: peer)
            response = Self.success(output, wire: wire, codec: codec, accepting: request.headers[wire.acceptEncodingHeader])
            outcome = "ok"
        } catch {
            let connectError = ConnectError.wrapping(error, logger: logger)
            response = Self.failure(connectError, cause: error, wire: wire, codec: codec)
            outcome = connectError.code.rawValue
        }
        // Unknown paths share one label so a scanner cannot grow the metric set without bound;
        // a forwarded path counts as known once its service did not answer `unimplemented`.
        let known = routes.handlers[path] != nil || (routes.fallback != nil && outcome != ConnectCode.unimplemented.rawValue)
        observer.finished(path: known ? path : "unknown", outcome: outcome, duration: ContinuousClock.now - started)
        return response
    }

    /// Responses this size and up are compressed for a client that accepts gzip; below it
    /// compression costs more than it saves.
    static let compressMinBytes = 1024

    private static func success(_ output: [UInt8], wire: RPCProtocol, codec: ConnectCodec, accepting: String?) -> Response {
        var headers: HTTPFields = [.contentType: wire.contentType(codec)]
        var output = output
        var compressed = false
        if output.count >= compressMinBytes, accepts(gzipIn: accepting), let gzipped = try? Gzip.compress(output) {
            output = gzipped
            compressed = true
            headers[wire.encodingHeader] = "gzip"
        }
        switch wire {
        case .connect:
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: output)))
        case .grpc:
            let framed = ByteBuffer(bytes: GRPCFrame.frame(output, flags: compressed ? GRPCFrame.compressed : 0))
            return Response(status: .ok, headers: headers, body: .init(contentLength: framed.readableBytes) { writer in
                try await writer.write(framed)
                try await writer.finish(GRPCFrame.status(nil))
            })
        case .grpcWeb:
            let framed = GRPCFrame.frame(output, flags: compressed ? GRPCFrame.compressed : 0) + GRPCFrame.trailerFrame(GRPCFrame.status(nil))
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: framed)))
        }
    }

    private static func failure(_ error: ConnectError, cause: any Error, wire: RPCProtocol, codec: ConnectCodec) -> Response {
        switch wire {
        case .connect:
            var status = HTTPResponse.Status(code: error.code.httpStatus)
            var headers: HTTPFields = [.contentType: "application/json"]
            if let rejection = cause as? RequestRejection {
                status = rejection.status
                if rejection.status == .unsupportedMediaType {
                    headers[.acceptPost] = ConnectCodec.allCases.map(\.rawValue).joined(separator: ", ")
                }
            }
            if error.code == .unimplemented, cause is UnsupportedEncoding { headers[.acceptEncoding] = "gzip, identity" }
            return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(data: error.jsonBody)))
        case .grpc:
            // No message, then the status as HTTP/2 trailers. (Putting it in the headers with
            // an empty body would end the stream with a DATA frame and no trailers, which
            // grpcio reads as a broken stream.)
            var headers: HTTPFields = [.contentType: wire.contentType(codec)]
            if cause is UnsupportedEncoding { headers[.grpcAcceptEncoding] = "gzip, identity" }
            let trailers = GRPCFrame.status(error)
            return Response(status: .ok, headers: headers, body: .init(contentLength: 0) { writer in try await writer.finish(trailers) })
        case .grpcWeb:
            // The status as the body's trailer frame, which every gRPC-Web client reads (a
            // browser may not be allowed to read the headers).
            var headers: HTTPFields = [.contentType: wire.contentType(codec)]
            if cause is UnsupportedEncoding { headers[.grpcAcceptEncoding] = "gzip, identity" }
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: GRPCFrame.trailerFrame(GRPCFrame.status(error)))))
        }
    }

    /// Whether an `Accept-Encoding` (or `grpc-accept-encoding`) list names gzip.
    static func accepts(gzipIn list: String?) -> Bool {
        guard let list else { return false }
        return list.split(separator: ",").contains { item in
            let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            return parts.first == "gzip" && !parts.dropFirst().contains("q=0")
        }
    }

    private func call(
        _ request: Request, path: String, wire: RPCProtocol, codec: ConnectCodec, logger: Logger, peer: String?
    ) async throws -> [UInt8] {
        guard let handler = routes.handlers[path] ?? routes.fallback else {
            throw RequestRejection(.notFound, ConnectError(.unimplemented, "no method \(path)"))
        }
        var gzipped = false
        if let encoding = request.headers[wire.encodingHeader]?.lowercased(), encoding != "identity" {
            guard encoding == "gzip" else { throw UnsupportedEncoding(name: encoding) }
            gzipped = true
        }
        // A caller that sets no deadline gets the server's: no call holds a task for ever.
        let deadline = try Self.deadline(from: request.headers, wire: wire) ?? ContinuousClock.now + defaultTimeout
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
        var bytes = Array(buffer: body)
        if wire != .connect {
            let message = try GRPCFrame.message(in: bytes)
            guard !message.compressed || gzipped else {
                throw ConnectError(.invalidArgument, "the gRPC message is flagged compressed but grpc-encoding names no compression")
            }
            gzipped = message.compressed
            bytes = message.bytes
        }
        if gzipped {
            do {
                bytes = try Gzip.decompress(bytes, limit: limit)
            } catch .tooLarge {
                throw ConnectError.bodyTooLarge(limit: limit)
            } catch {
                throw ConnectError(.invalidArgument, "the body is not valid gzip")
            }
        }
        let trace = TraceContext(header: request.headers[.traceparent]) ?? .root()
        let context = ConnectContext(path: path, headers: request.headers, deadline: deadline, trace: trace, logger: logger, peer: peer)
        let input = bytes
        return try await Deadline.run(until: deadline) {
            try await handler(input, codec, context)
        }
    }

    static func deadline(from headers: HTTPFields, wire: RPCProtocol) throws -> ContinuousClock.Instant? {
        if wire == .connect { return try deadline(from: headers) }
        return try headers[.grpcTimeout].map { .now + (try GRPCFrame.timeout($0)) }
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

/// A request body compressed with something other than gzip.
struct UnsupportedEncoding: Error, ConnectErrorConvertible {
    let name: String
    var connectError: ConnectError? {
        ConnectError(.unimplemented, "content encoding \"\(name)\" is not supported; send gzip or identity")
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

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
