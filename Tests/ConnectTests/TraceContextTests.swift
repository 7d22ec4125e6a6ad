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

    @Test func newSpansAndTracesNeverRepeatAndAreWellFormed() throws {
        let root = TraceContext.root()
        let spans = (0..<10_000).map { _ in root.child().spanID }
        #expect(Set(spans).count == spans.count)
        let traces = (0..<10_000).map { _ in TraceContext.root().traceID }
        #expect(Set(traces).count == traces.count)
        for id in spans.prefix(100) + traces.prefix(100) {
            #expect(TraceContext(header: "00-\(String(repeating: "1", count: 32))-\(id.suffix(16))-01") != nil, "\(id) is hex")
        }
        #expect(spans.allSatisfy { $0.utf8.count == 16 } && traces.allSatisfy { $0.utf8.count == 32 })
    }

    @Test func readsUpperCaseFlagsAndLaterVersionsFields() throws {
        let upper = try #require(TraceContext(header: "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-00"))
        #expect(upper.traceID == "4bf92f3577b34da6a3ce929d0e0e4736" && upper.spanID == "00f067aa0ba902b7")
        #expect(!upper.sampled)
        #expect(TraceContext(header: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03")?.sampled == true)
        #expect(TraceContext(header: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0a")?.sampled == false)
        #expect(TraceContext(header: "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-later")?.spanID == "00f067aa0ba902b7")
    }

    @Test(arguments: [
        "", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7", "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-011", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-701",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b７-01", "FF-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    ])
    func rejectsMalformedHeaders(header: String) {
        #expect(TraceContext(header: header) == nil)
    }
}
