import Foundation
import PinganDomain
import Testing

/// The one China-time day: it starts at 00:00 in China wherever the server runs, knows its
/// weekday, and reads only real dates.
@Suite("China-time days")
struct DayTests {
    @Test func aDayStartsAtMidnightInChinaNotInUTC() throws {
        let day = try #require(Day(parsing: "2026-10-01"))
        #expect(day.start == Date(timeIntervalSince1970: 1_790_812_800 - 8 * 3600))
        #expect(Day(containing: day.start) == day)
        #expect(Day(containing: day.start.addingTimeInterval(-1)) == day.adding(days: -1))
        #expect(day.description == "2026-10-01")
        #expect(day.month == Month(year: 2026, month: 10))
        #expect(day.year == 2026)
    }

    /// Checked against Foundation's Gregorian calendar in China time for every day of 2000 to
    /// 2030, and across the 1970 epoch, where the ordinal turns negative.
    @Test func weekdaysAgreeWithTheGregorianCalendar() throws {
        for ordinal in stride(from: -400, through: 22_000, by: 1) {
            let day = Day(ordinal: ordinal)
            let expected = ChinaTime.calendar.component(.weekday, from: day.start)
            if day.weekday != expected {
                Issue.record("\(day): weekday \(day.weekday), Foundation says \(expected)")
                return
            }
        }
        #expect(try #require(Day(parsing: "2026-02-28")).weekday == 7)  // a Saturday
        #expect(try #require(Day(parsing: "2026-03-02")).isWeekday)  // a Monday
    }

    /// `Day.description`, `ChinaTime.minute` and `ChinaTime.monthDayMinute` count by arithmetic; Foundation's Gregorian
    /// calendar in China time must agree for every day from 1900 to 2200 (century and 400-year
    /// leap rules, the ordinal's sign) and for instants spread over 1969 to 2040.
    @Test func datesAndMinutesAreWrittenAsTheGregorianCalendarReadsThem() {
        for ordinal in -25_567...84_000 {
            let day = Day(ordinal: ordinal)
            let parts = ChinaTime.calendar.dateComponents([.year, .month, .day], from: day.start)
            let expected = String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
            if day.description != expected {
                Issue.record("ordinal \(ordinal): \(day.description), Foundation says \(expected)")
                return
            }
        }
        for seconds in stride(from: -40_000_000.0, through: 2_210_000_000, by: 77_777.7) {
            let date = Date(timeIntervalSince1970: seconds)
            let parts = ChinaTime.calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
            let expected = String(format: "%04d-%02d-%02d %02d:%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0, parts.hour ?? 0, parts.minute ?? 0)
            let short = "\(parts.month ?? 0)月\(parts.day ?? 0)日 " + String(format: "%02d:%02d", parts.hour ?? 0, parts.minute ?? 0)
            if ChinaTime.minute(date) != expected || ChinaTime.monthDayMinute(date) != short {
                Issue.record("\(seconds): \(ChinaTime.minute(date)), \(ChinaTime.monthDayMinute(date)); Foundation says \(expected)")
                return
            }
        }
        #expect(ChinaTime.minute(Date(timeIntervalSince1970: 1_790_812_800 - 8 * 3600 - 60)) == "2026-09-30 23:59")
    }

    @Test(arguments: ["2026-02-29", "2026-13-01", "2026-00-10", "2026-1-01", "26-01-01", "2026/01/01", "1999-12-31", "2101-01-01", ""])
    func onlyRealDatesAsYYYYMMDDAreRead(text: String) {
        #expect(Day(parsing: text) == nil)
    }

    @Test func leapDaysAndMonthEndsAreRead() throws {
        #expect(try #require(Day(parsing: "2028-02-29")).next == Day(parsing: "2028-03-01"))
        #expect(try #require(Day(parsing: "2026-12-31")).next == Day(parsing: "2027-01-01"))
        #expect(Month(year: 2028, month: 2).dayCount == 29)
    }

    @Test func timesPeopleReadAreChinaTimeToTheMinute() {
        #expect(ChinaTime.minute(Date(timeIntervalSince1970: 1_790_812_800 - 8 * 3600 + 9 * 3600 + 30 * 60)) == "2026-10-01 09:30")
    }
}
