/// W3C Trace Context (`traceparent`), carried from the gateway through every hop so one
/// incident's calls can be followed across services in the logs.
public struct TraceContext: Sendable, Equatable {
    /// 32 lower-case hex digits shared by every hop of one trace.
    public let traceID: String
    /// 16 hex digits naming this hop.
    public let spanID: String
    public let sampled: Bool

    /// Parses a `traceparent` header; `nil` when absent or malformed.
    public init?(header: String?) {
        guard let header else { return nil }
        let parts = header.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[0].count == 2, parts[0] != "ff",
              parts[1].count == 32, parts[2].count == 16, parts[3].count == 2,
              parts.prefix(4).allSatisfy({ $0.allSatisfy(\.isHexDigit) }),
              parts[1].contains(where: { $0 != "0" }), parts[2].contains(where: { $0 != "0" })
        else { return nil }
        traceID = parts[1].lowercased()
        spanID = parts[2].lowercased()
        sampled = (UInt8(parts[3], radix: 16) ?? 0) & 1 == 1
    }

    init(traceID: String, spanID: String, sampled: Bool) {
        self.traceID = traceID
        self.spanID = spanID
        self.sampled = sampled
    }

    /// A new trace, for a request that arrived without one.
    public static func root() -> TraceContext {
        TraceContext(traceID: randomHex(bytes: 16), spanID: randomHex(bytes: 8), sampled: true)
    }

    /// The context for a call this hop makes: same trace, new span.
    public func child() -> TraceContext {
        TraceContext(traceID: traceID, spanID: Self.randomHex(bytes: 8), sampled: sampled)
    }

    /// The `traceparent` header value.
    public var header: String { "00-\(traceID)-\(spanID)-\(sampled ? "01" : "00")" }

    /// `bytes` random bytes (a multiple of 8) as lower-case hex, never all zeros (which the
    /// W3C format reserves). One random word per 8 bytes and no string per byte: this ran on
    /// every call, and drawing and formatting byte by byte was 7% of the gateway's CPU.
    private static func randomHex(bytes: Int) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var generator = SystemRandomNumberGenerator()
        var text = [UInt8](repeating: UInt8(ascii: "0"), count: bytes * 2)
        repeat {
            for word in 0..<(bytes / 8) {
                var value = generator.next()
                for index in stride(from: (word + 1) * 16 - 1, through: word * 16, by: -1) {
                    text[index] = digits[Int(value & 0xf)]
                    value >>= 4
                }
            }
        } while text.allSatisfy { $0 == UInt8(ascii: "0") }
        return String(decoding: text, as: UTF8.self)
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
