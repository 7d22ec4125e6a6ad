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
        // Seconds since 1970-01-01 00:00 in China time, split into the day and the second in it.
        let seconds = Int((date.timeIntervalSince1970 + Double(offset)).rounded(.down))
        let secondOfDay = (seconds % 86_400 + 86_400) % 86_400
        var text = ""
        text.reserveCapacity(16)
        Day(ordinal: (seconds - secondOfDay) / 86_400).appendDate(to: &text)
        text.append(" ")
        Day.append(secondOfDay / 3_600, width: 2, to: &text)
        text.append(":")
        Day.append(secondOfDay / 60 % 60, width: 2, to: &text)
        return text
    }
}
