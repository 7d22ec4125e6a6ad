import Foundation

/// China Standard Time (UTC+8, no daylight saving since 1991): the clock every centre keeps.
/// Days, months and deadlines are counted in it wherever the server runs.
public enum ChinaTime {
    /// Seconds east of UTC.
    public static let offset = 8 * 3600

    /// A Gregorian calendar in China Standard Time.
    public static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: offset) ?? .gmt
        return calendar
    }()

    /// `2026-07-15 09:30`, to the minute, for text people read (timelines, pages, pushes).
    public static func minute(_ date: Date) -> String {
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        return String(format: "%04d-%02d-%02d %02d:%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0, parts.hour ?? 0, parts.minute ?? 0)
    }
}
