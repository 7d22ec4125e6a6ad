import Synchronization

/// W3C Trace Context (`traceparent`), carried from the gateway through every hop so one
/// incident's calls can be followed across services in the logs.
public struct TraceContext: Sendable, Equatable {
    /// 32 lower-case hex digits shared by every hop of one trace.
    public let traceID: String
    /// 16 hex digits naming this hop.
    public let spanID: String
    public let sampled: Bool

    /// Parses a `traceparent` header; `nil` when absent or malformed. Every hop of every call
    /// parses one, so it reads the header's bytes at their fixed places instead of splitting
    /// it into strings and testing each character (measured in docs/performance.md).
    public init?(header: String?) {
        guard let header else { return nil }
        let bytes = Array(header.utf8)
        let dash = UInt8(ascii: "-")
        // version-traceid-spanid-flags, 2, 32, 16 and 2 hex digits; a later version may add
        // fields after another dash.
        guard bytes.count >= 55, bytes[2] == dash, bytes[35] == dash, bytes[52] == dash, bytes.count == 55 || bytes[55] == dash,
              let version = Self.lowercasedHex(bytes[0..<2]), version != Array("ff".utf8),
              let trace = Self.lowercasedHex(bytes[3..<35]), trace.contains(where: { $0 != UInt8(ascii: "0") }),
              let span = Self.lowercasedHex(bytes[36..<52]), span.contains(where: { $0 != UInt8(ascii: "0") }),
              let flags = Self.lowercasedHex(bytes[53..<55])
        else { return nil }
        traceID = String(decoding: trace, as: UTF8.self)
        spanID = String(decoding: span, as: UTF8.self)
        // The sampled flag is the lowest bit, so the last digit's: odd digits are 1 3 5 7 9 b d f.
        sampled = Array("13579bdf".utf8).contains(flags[1])
    }

    /// ASCII hex digits in lower case; `nil` if any byte is not one.
    private static func lowercasedHex(_ digits: ArraySlice<UInt8>) -> [UInt8]? {
        var lowered: [UInt8] = []
        lowered.reserveCapacity(digits.count)
        for byte in digits {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"): lowered.append(byte)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): lowered.append(byte + 32)
            default: return nil
            }
        }
        return lowered
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

    /// `bytes` pseudo-random bytes (a multiple of 8) as lower-case hex, never all zeros (which
    /// the W3C format reserves). This runs on every call, so it draws from SplitMix64 instead
    /// of a `getrandom` system call per word and formats a word at a time (docs/performance.md).
    private static func randomHex(bytes: Int) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8](repeating: UInt8(ascii: "0"), count: bytes * 2)
        repeat {
            for word in 0..<(bytes / 8) {
                var value = nextWord()
                for index in stride(from: (word + 1) * 16 - 1, through: word * 16, by: -1) {
                    text[index] = digits[Int(value & 0xf)]
                    value >>= 4
                }
            }
        } while text.allSatisfy { $0 == UInt8(ascii: "0") }
        return String(decoding: text, as: UTF8.self)
    }

    /// SplitMix64 over a process-wide counter that starts at a random point: a bijection of
    /// the counter, so no two words of one process repeat before 2^64 draws, and different
    /// processes start far apart. Trace ids need to be unique, not secret.
    private static let counter: Atomic<UInt64> = {
        var system = SystemRandomNumberGenerator()
        return Atomic(system.next())
    }()

    private static func nextWord() -> UInt64 {
        var z = counter.wrappingAdd(0x9E37_79B9_7F4A_7C15, ordering: .relaxed).newValue
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
