import Foundation
import PinganConnect
import Testing

@Suite("timestamps on the wire")
struct WireFormatTests {
    /// Foundation's parser, which the hand-written one replaced on hot paths.
    static func foundation(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }

    @Test func whatIsWrittenReadsBackToTheMillisecond() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let date = Date(timeIntervalSince1970: Double(Int64.random(in: 0...4_102_444_800_000, using: &generator)) / 1000)
            let text = date.wireTimestamp
            #expect(Date(wireTimestamp: text) == date, "\(text)")
            #expect(Self.foundation(text) == date, "\(text)")
        }
    }

    @Test func offsetsAndFractionsReadAsFoundationReadsThem() throws {
        for text in ["2026-11-28T06:05:09Z", "2026-11-28T14:05:09+08:00", "2026-11-27T22:05:09.5-08:00", "2024-02-29T23:59:59.999Z",
                     "1970-01-01T00:00:00.000Z", "2026-11-28t06:05:09z"] {
            let ours = try #require(Date(wireTimestamp: text), "\(text)")
            let theirs = try #require(Self.foundation(text.uppercased()), "\(text)")
            #expect(abs(ours.timeIntervalSince(theirs)) < 0.000_5, "\(text)")
        }
    }

    @Test func anythingElseIsNil() {
        for text in ["", "x", "2026-11-28", "2026-11-28T06:05:09", "2026-11-28 06:05:09Z", "2026-02-30T00:00:00Z", "2025-02-29T00:00:00Z",
                     "2026-11-28T24:00:00Z", "2026-11-28T06:60:00Z", "2026-13-01T00:00:00Z", "2026-11-28T06:05:09.Z", "2026-11-28T06:05:09+0800",
                     "2026-11-28T06:05:09Z ", "２０２６-11-28T06:05:09Z"] {
            #expect(Date(wireTimestamp: text) == nil, "\(text)")
        }
    }
}
