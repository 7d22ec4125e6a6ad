import Foundation

extension UUID {
    /// The id as it travels in Pingan's messages: RFC 9562's canonical lower-case form.
    public var wire: String { uuidString.lowercased() }
}

extension Date {
    /// RFC 3339 in UTC with milliseconds (`2026-11-28T06:05:09.123Z`), as timestamps travel in
    /// Pingan's messages.
    ///
    /// Formatted by hand from `gmtime_r`: a Foundation date formatter per call dominated a
    /// read path's profile (docs/performance.md), and a shared one is not safe across threads.
    public var wireTimestamp: String {
        let interval = timeIntervalSince1970
        var seconds = time_t(interval.rounded(.down))
        var millis = Int(((interval - Double(seconds)) * 1000).rounded())
        if millis == 1000 {
            seconds += 1
            millis = 0
        }
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return Self.digits(Int(parts.tm_year) + 1900, 4) + "-" + Self.digits(Int(parts.tm_mon) + 1, 2) + "-"
            + Self.digits(Int(parts.tm_mday), 2) + "T" + Self.digits(Int(parts.tm_hour), 2) + ":"
            + Self.digits(Int(parts.tm_min), 2) + ":" + Self.digits(Int(parts.tm_sec), 2) + "."
            + Self.digits(millis, 3) + "Z"
    }

    private static func digits(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}

extension Date {
    /// Parses a timestamp as Pingan's messages carry it: RFC 3339 (`2026-11-28T06:05:09Z`,
    /// with any fraction of a second and `Z` or an offset); `nil` for anything else, a day
    /// the month does not have included.
    ///
    /// Parsed by hand for the reason ``wireTimestamp`` is formatted by hand: a Foundation
    /// formatter per call dominated risk-service's profile while it scored cases.
    public init?(wireTimestamp text: String) {
        var reader = TimestampReader(Array(text.utf8))
        guard let year = reader.number(4), reader.skip("-"), let month = reader.number(2), reader.skip("-"),
              let day = reader.number(2), reader.skip("T") || reader.skip("t"),
              let hour = reader.number(2), reader.skip(":"), let minute = reader.number(2), reader.skip(":"),
              let second = reader.number(2), hour < 24, minute < 60, second < 60
        else { return nil }
        var fraction = 0.0
        if reader.skip(".") {
            var scale = 0.1
            var digits = 0
            while let digit = reader.digit() {
                fraction += Double(digit) * scale
                scale /= 10
                digits += 1
            }
            guard digits > 0 else { return nil }
        }
        var offset = 0
        if reader.skip("Z") || reader.skip("z") {
            offset = 0
        } else {
            let sign = reader.skip("+") ? 1 : reader.skip("-") ? -1 : 0
            guard sign != 0, let hours = reader.number(2), reader.skip(":"), let minutes = reader.number(2), hours < 24, minutes < 60 else { return nil }
            offset = sign * (hours * 3600 + minutes * 60)
        }
        guard reader.atEnd else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        let requested = parts
        var seconds = timegm(&parts)
        // timegm moves 31 November to 1 December; such a day does not exist.
        guard parts.tm_mday == requested.tm_mday, parts.tm_mon == requested.tm_mon, parts.tm_year == requested.tm_year else { return nil }
        seconds -= time_t(offset)
        self = Date(timeIntervalSince1970: Double(seconds) + fraction)
    }
}

/// Reads an RFC 3339 timestamp's bytes from the front.
private struct TimestampReader {
    let bytes: [UInt8]
    var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { index == bytes.count }

    mutating func skip(_ character: Unicode.Scalar) -> Bool {
        guard index < bytes.count, bytes[index] == UInt8(ascii: character) else { return false }
        index += 1
        return true
    }

    mutating func digit() -> Int? {
        guard index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) else { return nil }
        defer { index += 1 }
        return Int(bytes[index] - UInt8(ascii: "0"))
    }

    /// Exactly `width` digits.
    mutating func number(_ width: Int) -> Int? {
        var value = 0
        for _ in 0..<width {
            guard let digit = digit() else { return nil }
            value = value * 10 + digit
        }
        return value
    }
}
