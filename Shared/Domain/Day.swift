import Foundation

/// A calendar day in China Standard Time: the unit of a grid's daily screening, of the
/// official working-day calendar and of a signed agreement's date.
public struct Day: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Days since 1970-01-01 in China time.
    public let ordinal: Int

    public init(ordinal: Int) {
        self.ordinal = ordinal
    }

    /// The day containing `date`, in China Standard Time.
    public init(containing date: Date) {
        ordinal = Int(((date.timeIntervalSince1970 + Double(ChinaTime.offset)) / 86_400).rounded(.down))
    }

    /// The day `year`-`month`-`day`; `nil` unless it is a real date in the years 2000 to 2100.
    public init?(year: Int, month: Int, day: Int) {
        guard (2000...2100).contains(year), (1...12).contains(month), day >= 1, day <= Month(year: year, month: month).dayCount else { return nil }
        self.init(containing: Month(year: year, month: month).range.start.addingTimeInterval(Double(day - 1) * 86_400))
    }

    /// Parses `YYYY-MM-DD` (years 2000 to 2100, a real date); `nil` for anything else.
    public init?(parsing text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard text.count == 10, parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2])
        else { return nil }
        self.init(year: year, month: month, day: day)
    }

    /// The first instant of the day.
    public var start: Date { Date(timeIntervalSince1970: Double(ordinal) * 86_400 - Double(ChinaTime.offset)) }

    public var month: Month { Month(containing: start) }

    public var year: Int { month.year }

    /// The day after this one.
    public var next: Day { Day(ordinal: ordinal + 1) }

    public func adding(days: Int) -> Day { Day(ordinal: ordinal + days) }

    /// 1 is Sunday, 7 is Saturday, as Foundation counts them (1970-01-01 was a Thursday).
    public var weekday: Int { ((ordinal + 4) % 7 + 7) % 7 + 1 }

    /// Monday to Friday.
    public var isWeekday: Bool { (2...6).contains(weekday) }

    public var description: String {
        var text = ""
        text.reserveCapacity(10)
        appendDate(to: &text)
        return text
    }

    /// The day's year, month and day of month, by arithmetic on the ordinal (the proleptic
    /// Gregorian calendar, as Foundation's): pages format thousands of times a render, and
    /// `Calendar` took a tenth of the gateway's time for a county's page.
    public var civil: (year: Int, month: Int, day: Int) {
        // Days from 0000-03-01, so that a leap day ends its year; eras of 400 years.
        let days = ordinal + 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let dayOfEra = days - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Appends `YYYY-MM-DD`.
    func appendDate(to text: inout String) {
        let (year, month, day) = civil
        Self.append(year, width: 4, to: &text)
        text.append("-")
        Self.append(month, width: 2, to: &text)
        text.append("-")
        Self.append(day, width: 2, to: &text)
    }

    /// Appends `value` padded with zeros to `width` digits, as `%0*d` would.
    static func append(_ value: Int, width: Int, to text: inout String) {
        let digits = String(value)
        if digits.count < width { text.append(String(repeating: "0", count: width - digits.count)) }
        text.append(digits)
    }

    public static func < (lhs: Day, rhs: Day) -> Bool { lhs.ordinal < rhs.ordinal }
}

extension Month {
    /// How many days the month has.
    public var dayCount: Int {
        let (start, end) = range
        return Int((end.timeIntervalSince(start) / 86_400).rounded())
    }

    /// The month before this one.
    public var previous: Month { month == 1 ? Month(year: year - 1, month: 12) : Month(year: year, month: month - 1) }
}
