import Foundation
import PinganContracts
import SwiftProtobuf

/// Calls one peer's Connect methods over libcurl.
///
/// Retries only methods the contract marks idempotent, and only when the peer was
/// unavailable, with exponential backoff and full jitter inside the call's deadline. Every
/// failure arrives as a ``ConnectError`` whose code says what happened: `unavailable` for a
/// peer that is down, `deadline_exceeded` when time ran out, or the code the peer sent.
public struct ConnectClient: Sendable {
    public struct Configuration: Sendable {
        /// Used when a call gives no timeout, so no call waits forever.
        public var defaultTimeout: Duration = .seconds(10)
        /// A peer that does not accept a connection within this is unavailable.
        public var connectTimeout: Duration = .seconds(2)
        /// Attempts for idempotent methods, the first included.
        public var maxAttempts = 3
        public var backoffBase: Duration = .milliseconds(50)
        /// Binary protobuf is smaller and faster between services; JSON helps when debugging.
        public var codec: ConnectCodec = .proto

        public init() {}
    }

    /// The peer's base URL, e.g. `http://127.0.0.1:8081`.
    public let baseURL: String
    public let configuration: Configuration
    private let transport: CurlTransport

    public init(baseURL: String, transport: CurlTransport, configuration: Configuration = .init()) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.transport = transport
        self.configuration = configuration
    }

    /// Calls `method` with `request` and decodes its response.
    public func call<Input, Output>(
        _ method: ConnectMethod<Input, Output>, _ request: Input, options: CallOptions = .init()
    ) async throws -> Output {
        let codec = configuration.codec
        let body: [UInt8]
        do {
            body = try codec.encode(request)
        } catch {
            throw ConnectError(.internal, "could not encode \(Input.protoMessageName): \(error)")
        }
        let response = try await send(path: method.path, body: body, codec: codec, retry: method.idempotency.allowsRetry, options: options)
        do {
            return try codec.decode(Output.self, from: response)
        } catch {
            throw ConnectError(.internal, "\(method.path) answered with an undecodable \(Output.protoMessageName): \(error)")
        }
    }

    /// Sends raw bytes to `path` and returns the response body, for tests of the protocol
    /// itself and for forwarding calls unchanged.
    public func send(
        path: String, body: [UInt8], codec: ConnectCodec, retry: Bool, options: CallOptions = .init()
    ) async throws -> [UInt8] {
        let timeout = options.timeout ?? configuration.defaultTimeout
        let deadline = ContinuousClock.now + timeout
        let trace = options.trace?.child() ?? .root()
        var attempt = 1
        while true {
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else {
                throw ConnectError(.deadlineExceeded, "\(path): deadline exceeded after \(attempt - 1) attempt(s)")
            }
            var headers: [(String, String)] = [
                ("Content-Type", codec.rawValue),
                ("Connect-Protocol-Version", "1"),
                ("Connect-Timeout-Ms", String(max(1, remaining.milliseconds))),
                ("traceparent", trace.header),
            ]
            headers.append(contentsOf: options.headers)
            let request = CurlRequest(
                url: baseURL + path, headers: headers, body: body,
                timeout: remaining, connectTimeout: configuration.connectTimeout
            )
            do {
                let response = try await transport.perform(request)
                if response.status == 200 { return response.body }
                throw ConnectError(httpStatus: response.status, body: response.body)
            } catch let failure as CurlFailure {
                let error = Self.connectError(failure, path: path, request: request, deadline: deadline)
                guard retry, error.code == .unavailable, attempt < configuration.maxAttempts else { throw error }
            } catch let error as ConnectError {
                guard retry, error.code == .unavailable, attempt < configuration.maxAttempts else { throw error }
            }
            try await Task.sleep(for: backoff(attempt: attempt, before: deadline))
            attempt += 1
        }
    }

    /// Full jitter: a random wait up to base × 2^(attempt−1), never past the deadline.
    private func backoff(attempt: Int, before deadline: ContinuousClock.Instant) -> Duration {
        let ceiling = configuration.backoffBase * (1 << min(attempt - 1, 10))
        let wait = ceiling * Double.random(in: 0...1)
        return min(wait, max(.zero, ContinuousClock.now.duration(to: deadline)))
    }

    /// `failure` of `request` as the Connect error its caller reads. A timeout is the
    /// deadline's (`deadline_exceeded`) once the deadline has passed, and whenever the connect
    /// limit was no shorter than the time left: libcurl may give up a millisecond before the
    /// deadline by this process's clock. Only a connect limit shorter than the time left makes
    /// an earlier timeout the peer's (`unavailable`).
    static func connectError(_ failure: CurlFailure, path: String, request: CurlRequest, deadline: ContinuousClock.Instant) -> ConnectError {
        switch failure {
        case .unreachable(let reason):
            ConnectError(.unavailable, "\(path): peer unavailable (\(reason))")
        case .timedOut(let reason):
            ContinuousClock.now >= deadline || request.connectTimeout >= request.timeout
                ? ConnectError(.deadlineExceeded, "\(path): deadline exceeded (\(reason))")
                : ConnectError(.unavailable, "\(path): peer did not answer in time (\(reason))")
        case .canceled:
            ConnectError(.canceled, "\(path): canceled")
        case .other(let reason):
            ConnectError(.unknown, "\(path): transport failure (\(reason))")
        }
    }
}
