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
        let (day, secondOfDay) = split(date)
        var text = ""
        text.reserveCapacity(16)
        day.appendDate(to: &text)
        text.append(" ")
        appendClock(secondOfDay, to: &text)
        return text
    }

    /// `11月28日 14:05`: the month, day and minute of a deadline, for a short message (a push,
    /// an SMS) where the year goes without saying.
    public static func monthDayMinute(_ date: Date) -> String {
        let (day, secondOfDay) = split(date)
        let civil = day.civil
        var text = "\(civil.month)月\(civil.day)日 "
        appendClock(secondOfDay, to: &text)
        return text
    }

    /// The day in China time and the second within it.
    private static func split(_ date: Date) -> (Day, Int) {
        let seconds = Int((date.timeIntervalSince1970 + Double(offset)).rounded(.down))
        let secondOfDay = (seconds % 86_400 + 86_400) % 86_400
        return (Day(ordinal: (seconds - secondOfDay) / 86_400), secondOfDay)
    }

    /// `HH:mm` of a second of the day.
    private static func appendClock(_ secondOfDay: Int, to text: inout String) {
        Day.append(secondOfDay / 3_600, width: 2, to: &text)
        text.append(":")
        Day.append(secondOfDay / 60 % 60, width: 2, to: &text)
    }
}
