import Foundation
import PinganDomain

/// A deadline counted in working days.
struct WorkingDeadline: Sendable, Equatable {
    /// 24:00 China time at the end of the last working day.
    let dueAt: Date
    /// The count passed a year the official calendar does not cover, where Monday to Friday
    /// was assumed; the deadline may move when that year's notice is loaded.
    let beyondCalendar: Bool
}

/// The official working-day calendar (国务院办公厅节假日安排): Monday to Friday, except the
/// public-holiday breaks, plus the weekend days made working days (调休上班).
///
/// Only years whose notice is loaded are known; a count that reaches another year assumes
/// Monday to Friday there and says so in ``WorkingDeadline/beyondCalendar``.
struct WorkdayCalendar: Sendable {
    enum Kind: String, Sendable {
        case holiday, workday
    }

    /// One row of the official CSV.
    struct Exception: Sendable, Equatable {
        let day: Day
        let kind: Kind
        let name: String
    }

    let exceptions: [Day: Kind]
    let years: Set<Int>

    init(exceptions: [Exception], years: Set<Int>) {
        self.exceptions = Dictionary(exceptions.map { ($0.day, $0.kind) }, uniquingKeysWith: { $1 })
        self.years = years
    }

    func isWorkingDay(_ day: Day) -> Bool {
        if let kind = exceptions[day] { return kind == .workday }
        return day.isWeekday
    }

    /// The end of the `workingDays`-th working day after the day `start` falls on; the start
    /// day itself does not count, as a step begun on a Friday afternoon is due by the end of
    /// the following working days.
    func deadline(after start: Date, workingDays: Int) -> WorkingDeadline {
        var day = Day(containing: start)
        var counted = 0
        var beyond = false
        while counted < max(workingDays, 0) {
            day = day.next
            if !years.contains(day.year) { beyond = true }
            if isWorkingDay(day) { counted += 1 }
        }
        return WorkingDeadline(dueAt: day.next.start, beyondCalendar: beyond)
    }

    /// Parses the official CSV (`date,kind,holiday,holiday_zh`, a header row first).
    static func parse(csv: String) throws(CalendarError) -> [Exception] {
        var rows: [Exception] = []
        for (index, line) in csv.split(whereSeparator: \.isNewline).enumerated() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            if index == 0, fields.first == "date" { continue }
            guard fields.count >= 2 else { throw .line(index + 1, "expected date,kind,holiday,holiday_zh") }
            guard let day = Day(parsing: fields[0]) else { throw .line(index + 1, "\"\(fields[0])\" is not a date as YYYY-MM-DD") }
            guard let kind = Kind(rawValue: fields[1]) else { throw .line(index + 1, "kind must be holiday or workday, got \"\(fields[1])\"") }
            if kind == .workday, day.isWeekday {
                throw .line(index + 1, "\(day) is a weekday already; a make-up workday falls on a weekend")
            }
            rows.append(Exception(day: day, kind: kind, name: fields.count > 2 ? fields[2] : ""))
        }
        guard !rows.isEmpty else { throw .empty }
        return rows
    }
}

/// Why a calendar file was refused; nothing of it was loaded.
enum CalendarError: Error, Equatable, CustomStringConvertible {
    case line(Int, String)
    case empty

    var description: String {
        switch self {
        case let .line(line, problem): "line \(line): \(problem)"
        case .empty: "the file has no days"
        }
    }
}
