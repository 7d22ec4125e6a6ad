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
        let seconds = Int((date.timeIntervalSince1970 + Double(offset)).rounded(.down))
        let minuteOfDay = (seconds - Int((Double(seconds) / 86_400).rounded(.down)) * 86_400) / 60
        var text = ""
        text.reserveCapacity(16)
        Day(containing: date).appendDate(to: &text)
        text.append(" ")
        Day.append(minuteOfDay / 60, width: 2, to: &text)
        text.append(":")
        Day.append(minuteOfDay % 60, width: 2, to: &text)
        return text
    }
}
