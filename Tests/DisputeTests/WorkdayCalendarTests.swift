@testable import DisputeService
import Foundation
import PinganDomain
import Testing

@Suite("working-day calendar")
struct WorkdayCalendarTests {
    static let official = try! WorkdayCalendar.parse(csv: try! DisputeApp.bundledCalendarCSV())
    let calendar = WorkdayCalendar(exceptions: official, years: Set(official.map(\.day.year)))

    /// 09:00 China time on `day`.
    func morning(_ day: String) -> Date { Day(parsing: day)!.start.addingTimeInterval(9 * 3600) }

    @Test func theShippedCalendarCoversTwentyTwentyToTwentyTwentySix() {
        #expect(calendar.years == Set(2020...2026))
        #expect(Self.official.count == 256)
        #expect(Self.official.filter { $0.kind == .workday }.count == 46)
    }

    @Test func aDeadlineAcrossTheSpringFestivalSkipsTheBreakAndCountsTheMakeUpSaturday() {
        // Thu 12 Feb 2026 + 3 working days: Fri 13, Sat 14 (调休上班), then 15–23 Feb is the
        // break, so the third is Tue 24 Feb; due at 24:00 China time.
        let deadline = calendar.deadline(after: morning("2026-02-12"), workingDays: 3)
        #expect(deadline.dueAt == Day(parsing: "2026-02-25")!.start)
        #expect(deadline.dueAt.wireTimestamp == "2026-02-24T16:00:00.000Z")
        #expect(!deadline.beyondCalendar)
    }

    @Test func aMakeUpSaturdayIsAWorkingDayAndAnOrdinarySaturdayIsNot() {
        // Fri 27 Feb 2026 + 1: Sat 28 Feb is a make-up working day.
        #expect(calendar.deadline(after: morning("2026-02-27"), workingDays: 1).dueAt == Day(parsing: "2026-03-01")!.start)
        // Fri 6 Mar 2026 + 1: the next working day is Mon 9 Mar.
        #expect(calendar.deadline(after: morning("2026-03-06"), workingDays: 1).dueAt == Day(parsing: "2026-03-10")!.start)
    }

    @Test func aDeadlineBeyondTheLoadedYearsAssumesMondayToFridayAndSaysSo() {
        // Wed 30 Dec 2026 + 3: Thu 31, then 2027 is not loaded: Fri 1 Jan counts, Mon 4 Jan is the third.
        let beyond = calendar.deadline(after: morning("2026-12-30"), workingDays: 3)
        #expect(beyond.beyondCalendar)
        #expect(beyond.dueAt == Day(parsing: "2027-01-05")!.start)
        // Once 2027's notice is loaded (New Year's Day a holiday), the same count moves.
        let loaded = WorkdayCalendar(
            exceptions: Self.official + [WorkdayCalendar.Exception(day: Day(parsing: "2027-01-01")!, kind: .holiday, name: "New Year's Day")],
            years: calendar.years.union([2027])
        )
        let known = loaded.deadline(after: morning("2026-12-30"), workingDays: 3)
        #expect(!known.beyondCalendar)
        #expect(known.dueAt == Day(parsing: "2027-01-06")!.start)
    }

    @Test func aMalformedCalendarIsRefusedNamingTheLine() {
        #expect(throws: CalendarError.line(2, "kind must be holiday or workday, got \"day-off\"")) {
            try WorkdayCalendar.parse(csv: "date,kind,holiday,holiday_zh\n2027-01-01,day-off,New Year's Day,元旦\n")
        }
        #expect(throws: CalendarError.line(2, "2027-01-04 is a weekday already; a make-up workday falls on a weekend")) {
            try WorkdayCalendar.parse(csv: "date,kind,holiday,holiday_zh\n2027-01-04,workday,x,x\n")
        }
        #expect(throws: CalendarError.line(1, "\"2027-02-30\" is not a date as YYYY-MM-DD")) {
            try WorkdayCalendar.parse(csv: "2027-02-30,holiday,x,x\n")
        }
    }
}
