import Foundation
import Hummingbird
@testable import PinganConnect
import PinganContracts
import PinganRuntime
import PinganTestSupport
import Synchronization
import SwiftProtobuf

typealias StringValue = Google_Protobuf_StringValue
typealias Int64Value = Google_Protobuf_Int64Value

/// A small service, built from well-known message types, that exercises the protocol layer.
enum TestMethods {
    static let service = "pingan.test.v1.TestService"
    static let echo = ConnectMethod<StringValue, StringValue>(service: service, name: "Echo", idempotency: .noSideEffects)
    /// Fails with the Connect code named in the request.
    static let fail = ConnectMethod<StringValue, StringValue>(service: service, name: "Fail", idempotency: .unknown)
    /// Sleeps for the requested milliseconds.
    static let sleep = ConnectMethod<Int64Value, Int64Value>(service: service, name: "Sleep", idempotency: .noSideEffects)
    /// Returns the trace id the server saw.
    static let trace = ConnectMethod<StringValue, StringValue>(service: service, name: "Trace", idempotency: .noSideEffects)
    /// Unavailable for the first N calls of a key, then succeeds; N is the number after the key's colon.
    static let flaky = ConnectMethod<StringValue, Int64Value>(service: service, name: "Flaky", idempotency: .idempotent)
    static let flakyUnsafe = ConnectMethod<StringValue, Int64Value>(service: service, name: "FlakyUnsafe", idempotency: .unknown)
}

final class CallCounter: Sendable {
    private let counts = Mutex<[String: Int]>([:])
    func next(_ key: String) -> Int { counts.withLock { $0[key, default: 0] += 1; return $0[key, default: 0] } }
}

func testRoutes(counter: CallCounter) -> ConnectRoutes {
    var routes = ConnectRoutes()
    routes.register(TestMethods.echo) { request, _ in request }
    routes.register(TestMethods.fail) { request, _ in
        guard let code = ConnectCode(rawValue: request.value) else { throw ConnectError(.invalidArgument, "value: unknown code") }
        throw ConnectError(code, "failed with \(code.rawValue) as asked")
    }
    routes.register(TestMethods.sleep) { request, _ in
        try await Task.sleep(for: .milliseconds(request.value))
        return request
    }
    routes.register(TestMethods.trace) { _, context in
        StringValue(context.trace.traceID)
    }
    let flaky: @Sendable (StringValue, ConnectContext) async throws -> Int64Value = { request, _ in
        let parts = request.value.split(separator: ":")
        let failures = Int(parts.last ?? "0") ?? 0
        let call = counter.next(request.value)
        if call <= failures { throw ConnectError(.unavailable, "not yet (call \(call))") }
        return Int64Value(Int64(call))
    }
    routes.register(TestMethods.flaky, handler: flaky)
    routes.register(TestMethods.flakyUnsafe, handler: flaky)
    return routes
}

/// Runs the test service on a loopback port.
func withTestServer<R: Sendable>(maxBodyBytes: Int = 64 * 1024, _ body: (_ baseURL: String, _ metrics: ServiceMetrics) async throws -> R) async throws -> R {
    let metrics = ServiceMetrics(pool: nil)
    let counter = CallCounter()
    return try await withLiveServer({ onRunning in
        Application(
            responder: ServiceResponder(
                connect: ConnectResponder(routes: testRoutes(counter: counter), maxBodyBytes: maxBodyBytes, observer: metrics),
                metrics: metrics, readiness: { .ready }
            ),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: TestEnvironment.logger
        )
    }) { port in
        try await body("http://127.0.0.1:\(port)", metrics)
    }
}

/// Sends a raw HTTP POST through the libcurl transport, for protocol edge cases a typed
/// client would never produce.
func rawPost(_ transport: CurlTransport, _ url: String, contentType: String?, body: [UInt8], headers: [(String, String)] = []) async throws -> CurlResponse {
    var all = headers
    if let contentType { all.append(("Content-Type", contentType)) }
    return try await transport.perform(CurlRequest(url: url, headers: all, body: body, timeout: .seconds(10), connectTimeout: .seconds(2)))
}

extension StringValue {
    init(_ value: String) {
        self.init()
        self.value = value
    }
}

extension Int64Value {
    init(_ value: Int64) {
        self.init()
        self.value = value
    }
}
