import Foundation
import PinganDomain
import Synchronization

/// The time of day as a test sets it: services read `now`, the test moves it forward, and
/// deadlines pass without anyone sleeping.
public final class ManualClock: Sendable {
    private let current: Mutex<Date>

    public init(_ start: Date) { current = Mutex(start) }

    /// 09:00 China time on `day` (`YYYY-MM-DD`).
    public convenience init(morningOf day: String) {
        self.init(ManualClock.chinaMorning(day))
    }

    public var now: Date { current.withLock { $0 } }

    public func advance(by interval: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(interval) }
    }

    public func set(morningOf day: String) {
        current.withLock { $0 = ManualClock.chinaMorning(day) }
    }

    static func chinaMorning(_ day: String) -> Date {
        guard let day = Day(parsing: day) else { preconditionFailure("\(day) is not a day as YYYY-MM-DD") }
        return day.start.addingTimeInterval(9 * 3600)
    }
}
