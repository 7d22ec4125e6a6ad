import PinganConnect
import Testing

@Suite("W3C trace context")
struct TraceContextTests {
    @Test func parsesValidHeaders() throws {
        let trace = try #require(TraceContext(header: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
        #expect(trace.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(trace.spanID == "00f067aa0ba902b7")
        #expect(trace.sampled)
        let child = trace.child()
        #expect(child.traceID == trace.traceID && child.spanID != trace.spanID)
        #expect(child.header.hasPrefix("00-4bf92f3577b34da6a3ce929d0e0e4736-"))
    }

    @Test(arguments: [
        "", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7", "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
    ])
    func rejectsMalformedHeaders(header: String) {
        #expect(TraceContext(header: header) == nil)
    }
}
