import Foundation
import PinganConnect

/// Deadlines as people in China read them: China Standard Time (UTC+8, no daylight saving),
/// month, day and minute (`11月28日 14:05`), whatever zone the server runs in.
enum ChinaTime {
    static let zone = TimeZone(secondsFromGMT: 8 * 3600) ?? .gmt

    /// `M月d日 HH:mm` of an RFC 3339 timestamp; `nil` for an empty or unreadable one.
    static func format(_ wire: String) -> String? {
        guard !wire.isEmpty, let date = Date(wireTimestamp: wire) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.month, .day, .hour, .minute], from: date)
        guard let month = parts.month, let day = parts.day, let hour = parts.hour, let minute = parts.minute else { return nil }
        return "\(month)月\(day)日 " + String(format: "%02d:%02d", hour, minute)
    }
}
