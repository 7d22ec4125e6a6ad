import Foundation

extension UUID {
    /// The id as it travels in Pingan's messages: RFC 9562's canonical lower-case form.
    public var wire: String { uuidString.lowercased() }
}

extension Date {
    /// RFC 3339 in UTC with milliseconds (`2026-11-28T06:05:09.123Z`), as timestamps travel in
    /// Pingan's messages.
    ///
    /// Formatted by hand from `gmtime_r`: a Foundation date formatter per call cost a third
    /// of a read path's CPU, and a shared one is not safe across threads.
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
    /// Parses a timestamp as Pingan's messages carry it (RFC 3339, with or without
    /// fractional seconds); `nil` for anything else. For reading facts, not for hot paths.
    public init?(wireTimestamp text: String) {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) {
            self = date
            return
        }
        formatter.formatOptions = [.withInternetDateTime]
        guard let date = formatter.date(from: text) else { return nil }
        self = date
    }
}
