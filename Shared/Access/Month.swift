import Foundation
import PinganConnect

/// A calendar month in China Standard Time (UTC+8), the period of the governance index.
public struct Month: Sendable, Hashable, CustomStringConvertible {
    public let year: Int
    public let month: Int

    /// Parses `YYYY-MM`, or `invalid_argument` naming `field`.
    public static func field(_ text: String, _ field: String) throws -> Month {
        let parts = text.split(separator: "-")
        guard text.count == 7, parts.count == 2, let year = Int(parts[0]), let month = Int(parts[1]),
              (2000...2100).contains(year), (1...12).contains(month)
        else { throw ConnectError.invalidArgument(field: field, "must be a month as YYYY-MM, got \"\(text)\"") }
        return Month(year: year, month: month)
    }

    public init(year: Int, month: Int) {
        self.year = year
        self.month = month
    }

    /// The month containing `date`, in China Standard Time.
    public init(containing date: Date) {
        let components = Self.calendar.dateComponents([.year, .month], from: date)
        self.init(year: components.year ?? 2000, month: components.month ?? 1)
    }

    /// The first instant of the month and of the next one.
    public var range: (start: Date, end: Date) {
        let start = Self.calendar.date(from: DateComponents(year: year, month: month, day: 1)) ?? Date(timeIntervalSince1970: 0)
        let end = Self.calendar.date(byAdding: .month, value: 1, to: start) ?? start
        return (start, end)
    }

    public var description: String { String(format: "%04d-%02d", year, month) }

    static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 8 * 3600) ?? .gmt
        return calendar
    }()
}

extension Jurisdiction {
    /// Checks a monthly-facts request (the index's questions to grid, dispute and risk): a
    /// leader, staff or the mesh itself, asking about a subtree it covers, for a valid month.
    public func factsScope(_ context: ConnectContext, rootCode: String, month: String) throws -> (root: DivisionCode, month: Month) {
        let principal = try principal(context, anyOf: [.leader, .staff])
        let root = try DivisionCode.field(rootCode, "root_code")
        let parsed = try Month.field(month, "month")
        try principal.require(root, field: "root_code")
        return (root, parsed)
    }
}

extension Date {
    /// RFC 3339 in UTC with milliseconds, as timestamps travel in Pingan's messages.
    public var wireTimestamp: String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: self)
    }
}
