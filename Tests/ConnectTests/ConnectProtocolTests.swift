import Foundation
@testable import PinganConnect
import PinganContracts
import PinganTestSupport
import Testing

@Suite("Connect over libcurl")
struct ConnectProtocolTests {
    let transport = CurlTransport()

    @Test(arguments: [ConnectCodec.json, .proto])
    func roundTripWithBothCodecs(codec: ConnectCodec) async throws {
        try await withTestServer { url, _ in
            var configuration = ConnectClient.Configuration()
            configuration.codec = codec
            let client = ConnectClient(baseURL: url, transport: transport, configuration: configuration)
            let reply = try await client.call(TestMethods.echo, StringValue("常德 \(codec.rawValue) \u{1F3EE}"))
            #expect(reply.value == "常德 \(codec.rawValue) \u{1F3EE}")
        }
    }

    @Test func everyErrorCodeReachesTheClientUnchanged() async throws {
        try await withTestServer { url, _ in
            let client = ConnectClient(baseURL: url, transport: transport)
            for code in ConnectCode.allCases {
                do {
                    _ = try await client.call(TestMethods.fail, StringValue(code.rawValue))
                    Issue.record("\(code) did not fail")
                } catch let error as ConnectError {
                    #expect(error.code == code)
                    #expect(error.message == "failed with \(code.rawValue) as asked")
                }
            }
        }
    }

    @Test func errorBodiesCarryTheProtocolsHTTPStatus() async throws {
        try await withTestServer { url, _ in
            for (code, status) in [(ConnectCode.notFound, 404), (.invalidArgument, 400), (.unauthenticated, 401), (.permissionDenied, 403), (.unavailable, 503), (.deadlineExceeded, 504), (.internal, 500)] {
                let response = try await rawPost(transport, url + TestMethods.fail.path, contentType: "application/json", body: Array("\"\(code.rawValue)\"".utf8))
                #expect(response.status == status)
                #expect(response.contentType == "application/json")
                let error = ConnectError(httpStatus: response.status, body: response.body)
                #expect(error.code == code)
            }
        }
    }

    @Test func malformedJSONIsInvalidArgument() async throws {
        try await withTestServer { url, _ in
            let response = try await rawPost(transport, url + TestMethods.echo.path, contentType: "application/json", body: Array("{not json".utf8))
            #expect(response.status == 400)
            #expect(ConnectError(httpStatus: response.status, body: response.body).code == .invalidArgument)
        }
    }

    @Test func wrongContentTypeIsRefused() async throws {
        try await withTestServer { url, _ in
            let response = try await rawPost(transport, url + TestMethods.echo.path, contentType: "text/plain", body: Array("hi".utf8))
            #expect(response.status == 415)
            let error = ConnectError(httpStatus: response.status, body: response.body)
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains("text/plain"))
        }
    }

    @Test func unknownMethodIsUnimplemented() async throws {
        try await withTestServer { url, _ in
            let response = try await rawPost(transport, url + "/pingan.test.v1.TestService/NoSuchMethod", contentType: "application/json", body: Array("{}".utf8))
            #expect(response.status == 404)
            #expect(ConnectError(httpStatus: response.status, body: response.body).code == .unimplemented)
        }
    }

    @Test func oversizedBodyIsResourceExhausted() async throws {
        try await withTestServer(maxBodyBytes: 1024) { url, _ in
            let client = ConnectClient(baseURL: url, transport: transport)
            await #expect { _ = try await client.call(TestMethods.echo, StringValue(String(repeating: "x", count: 4096))) } throws: { error in
                (error as? ConnectError)?.code == .resourceExhausted
            }
            // A body just under the limit still goes through.
            let reply = try await client.call(TestMethods.echo, StringValue(String(repeating: "y", count: 900)))
            #expect(reply.value.count == 900)
        }
    }

    @Test func clientDeadlineGivesDeadlineExceeded() async throws {
        try await withTestServer { url, _ in
            let client = ConnectClient(baseURL: url, transport: transport)
            // The handler answers after 5 s; had the client waited for it, the call would
            // have succeeded. It gave up at its own deadline instead.
            await #expect { _ = try await client.call(TestMethods.sleep, Int64Value(5_000), options: .init(timeout: .milliseconds(200))) } throws: { error in
                (error as? ConnectError)?.code == .deadlineExceeded
            }
        }
    }

    @Test func serverHonoursConnectTimeoutMs() async throws {
        try await withTestServer { url, _ in
            let response = try await rawPost(
                transport, url + TestMethods.sleep.path, contentType: "application/json", body: Array("\"5000\"".utf8),
                headers: [("Connect-Timeout-Ms", "150")]
            )
            #expect(response.status == 504)
            #expect(ConnectError(httpStatus: response.status, body: response.body).code == .deadlineExceeded)
            let malformed = try await rawPost(
                transport, url + TestMethods.sleep.path, contentType: "application/json", body: Array("\"1\"".utf8),
                headers: [("Connect-Timeout-Ms", "soon")]
            )
            #expect(ConnectError(httpStatus: malformed.status, body: malformed.body).code == .invalidArgument)
        }
    }

    /// libcurl may give up a millisecond before the deadline by this process's clock (one call
    /// in about 3,000 with a 3 ms deadline did): that is still the deadline, not a slow peer.
    /// Only a connect limit shorter than the time left makes a timeout the peer's.
    @Test func aTimeoutIsTheDeadlinesUnlessAShorterConnectLimitEndedIt() {
        let timedOut = CurlFailure.timedOut("Timeout was reached")
        let ahead = ContinuousClock.now + .seconds(60)
        let tiny = CurlRequest(url: "http://peer/p", headers: [], body: [], timeout: .milliseconds(3), connectTimeout: .seconds(2))
        #expect(ConnectClient.connectError(timedOut, path: "/p", request: tiny, deadline: ahead).code == .deadlineExceeded)
        let long = CurlRequest(url: "http://peer/p", headers: [], body: [], timeout: .seconds(10), connectTimeout: .seconds(2))
        #expect(ConnectClient.connectError(timedOut, path: "/p", request: long, deadline: ahead).code == .unavailable)
        #expect(ConnectClient.connectError(timedOut, path: "/p", request: long, deadline: .now - .milliseconds(1)).code == .deadlineExceeded)
        #expect(ConnectClient.connectError(.unreachable("Connection refused"), path: "/p", request: tiny, deadline: ahead).code == .unavailable)
    }

    @Test func peerThatIsDownIsUnavailableQuickly() async throws {
        let client = ConnectClient(baseURL: "http://127.0.0.1:\(try freePort())", transport: transport)
        // Idempotent, so it is retried with backoff, and still gives up inside the deadline:
        // `unavailable` is the last attempt's answer, where running out the 30 s would have
        // been `deadline_exceeded`. (No clock is read here: how long it took is the
        // machine's, not the client's.)
        await #expect { _ = try await client.call(TestMethods.echo, StringValue("x"), options: .init(timeout: .seconds(30))) } throws: { error in
            (error as? ConnectError)?.code == .unavailable
        }
    }

    @Test func connectionsAreKeptAlive() async throws {
        try await withTestServer { url, _ in
            let transport = CurlTransport()
            let client = ConnectClient(baseURL: url, transport: transport)
            for index in 0..<25 {
                let reply = try await client.call(TestMethods.echo, StringValue("\(index)"))
                #expect(reply.value == "\(index)")
            }
            #expect(transport.connectionsOpened == 1)
        }
    }

    @Test func traceparentIsPropagated() async throws {
        try await withTestServer { url, _ in
            let client = ConnectClient(baseURL: url, transport: transport)
            let trace = TraceContext.root()
            let seen = try await client.call(TestMethods.trace, StringValue(), options: .init(trace: trace))
            #expect(seen.value == trace.traceID)
            // Without one, the server starts a fresh trace rather than failing.
            let fresh = try await client.call(TestMethods.trace, StringValue())
            #expect(fresh.value.count == 32 && fresh.value != trace.traceID)
        }
    }

    @Test func onlyIdempotentMethodsAreRetried() async throws {
        try await withTestServer { url, _ in
            let client = ConnectClient(baseURL: url, transport: transport)
            // Fails twice, then answers on the third call: within the three attempts allowed.
            let served = try await client.call(TestMethods.flaky, StringValue("retry-me:2"))
            #expect(served.value == 3)
            await #expect { _ = try await client.call(TestMethods.flakyUnsafe, StringValue("once-only:1")) } throws: { error in
                (error as? ConnectError)?.code == .unavailable
            }
            // The unsafe method was not retried: its second call is the first to succeed.
            let second = try await client.call(TestMethods.flakyUnsafe, StringValue("once-only:1"))
            #expect(second.value == 2)
        }
    }

    @Test func metricsCountCallsByMethodAndCode() async throws {
        try await withTestServer { url, metrics in
            let client = ConnectClient(baseURL: url, transport: transport)
            _ = try await client.call(TestMethods.echo, StringValue("a"))
            _ = try await client.call(TestMethods.echo, StringValue("b"))
            _ = try? await client.call(TestMethods.fail, StringValue("not_found"))
            let text = String(decoding: metrics.render(), as: UTF8.self)
            #expect(text.contains(#"pingan_rpc_requests_total{method="/pingan.test.v1.TestService/Echo",code="ok"} 2"#))
            #expect(text.contains(#"pingan_rpc_requests_total{method="/pingan.test.v1.TestService/Fail",code="not_found"} 1"#))
            #expect(text.contains("pingan_rpc_duration_seconds_bucket"))
            // The same text is served over HTTP.
            let served = String(decoding: try await transport.get(url: url + "/metrics").body, as: UTF8.self)
            #expect(served.contains(#"pingan_rpc_errors_total{method="/pingan.test.v1.TestService/Fail"} 1"#))
            #expect(try await transport.get(url: url + "/healthz").body == Array("ok\n".utf8))
        }
    }
}
