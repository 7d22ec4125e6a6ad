import Foundation

/// A calendar month in China Standard Time (UTC+8), the period of the governance index.
public struct Month: Sendable, Hashable, CustomStringConvertible {
    public let year: Int
    public let month: Int

    /// Parses `YYYY-MM` (years 2000 to 2100); `nil` for anything else.
    public init?(parsing text: String) {
        let parts = text.split(separator: "-")
        guard text.count == 7, parts.count == 2, let year = Int(parts[0]), let month = Int(parts[1]),
              (2000...2100).contains(year), (1...12).contains(month)
        else { return nil }
        self.init(year: year, month: month)
    }

    public init(year: Int, month: Int) {
        self.year = year
        self.month = month
    }

    /// The month containing `date`, in China Standard Time.
    public init(containing date: Date) {
        let components = ChinaTime.calendar.dateComponents([.year, .month], from: date)
        self.init(year: components.year ?? 2000, month: components.month ?? 1)
    }

    /// The first instant of the month and of the next one.
    public var range: (start: Date, end: Date) {
        let start = ChinaTime.calendar.date(from: DateComponents(year: year, month: month, day: 1)) ?? Date(timeIntervalSince1970: 0)
        let end = ChinaTime.calendar.date(byAdding: .month, value: 1, to: start) ?? start
        return (start, end)
    }

    public var description: String { String(format: "%04d-%02d", year, month) }

    /// The month `count` months later (earlier when negative).
    public func adding(months count: Int) -> Month {
        let index = year * 12 + (month - 1) + count
        return Month(year: index / 12, month: index % 12 + 1)
    }
}
