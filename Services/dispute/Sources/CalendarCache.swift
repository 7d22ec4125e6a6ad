import Foundation

/// The official calendar as last loaded, refreshed from the store every minute so that a
/// year loaded through another replica is used soon; a load through this one resets it.
actor CalendarCache {
    let store: any CaseStore
    let maxAge: Duration
    private var cached: (calendar: WorkdayCalendar, at: ContinuousClock.Instant)?

    init(store: any CaseStore, maxAge: Duration = .seconds(60)) {
        self.store = store
        self.maxAge = maxAge
    }

    func current() async throws -> WorkdayCalendar {
        if let cached, ContinuousClock.now - cached.at < maxAge { return cached.calendar }
        let calendar = try await store.calendar()
        cached = (calendar, .now)
        return calendar
    }

    func reset() {
        cached = nil
    }
}
