import Foundation
import PinganRuntime

/// The official calendar as last loaded, refreshed from the store every minute so that a
/// year loaded through another replica is used soon; a load through this one resets it.
///
/// It also says, as metrics, how far the calendar reaches (`pingan_dispute_calendar_last_year`)
/// and how many deadlines were counted past it on Monday to Friday
/// (`pingan_dispute_deadlines_beyond_calendar_total`), so operators load the next year's
/// notice before it matters.
actor CalendarCache {
    let store: any CalendarStore
    let maxAge: Duration
    private var cached: (calendar: WorkdayCalendar, at: ContinuousClock.Instant)?
    private let lastYear: @Sendable (Double) -> Void
    nonisolated let countBeyond: @Sendable () -> Void

    init(store: any CalendarStore, metrics: ServiceMetrics, maxAge: Duration = .seconds(60)) {
        self.store = store
        self.maxAge = maxAge
        lastYear = metrics.gauge("dispute_calendar_last_year", help: "The last year of the official working-day calendar loaded")
        countBeyond = metrics.counter("dispute_deadlines_beyond_calendar", help: "Deadlines counted past the loaded calendar, on Monday to Friday")
    }

    /// Counts the deadlines among `deadlines` that ran past the loaded calendar.
    nonisolated func observe(_ deadlines: [WorkingDeadline]) {
        for deadline in deadlines where deadline.beyondCalendar { countBeyond() }
    }

    func current() async throws -> WorkdayCalendar {
        if let cached, ContinuousClock.now - cached.at < maxAge { return cached.calendar }
        let calendar = try await store.calendar()
        cached = (calendar, .now)
        lastYear(Double(calendar.years.max() ?? 0))
        return calendar
    }

    func reset() {
        cached = nil
    }
}
