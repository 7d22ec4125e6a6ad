import Foundation
import PinganDomain

/// Recording a step after the fact (补录): mediators often write a mediation up days later, so
/// a step may give when it really happened, within a limit and never in the future.
///
/// The real time is what the ladder and the index count from (deadlines, on-time rungs, the
/// month a step falls in); when it was entered and by whom is kept beside it, so the record
/// shows both. Pure: the window is decided at `now`, the order against the step before.
struct Backdating: Sendable, Equatable {
    /// `BACKDATE_LIMIT_DAYS`' default.
    static let defaultLimitDays = 30

    /// How many days (of 24 hours) before now a step may be recorded; 0 allows only now.
    let limitDays: Int

    init(limitDays: Int = Self.defaultLimitDays) {
        self.limitDays = limitDays
    }

    /// When a step happened and when it was entered.
    struct Stamp: Sendable, Equatable {
        /// When the step really happened.
        let at: Date
        /// When it was entered: the request's time.
        let enteredAt: Date

        /// Recorded after the fact (补录): it happened before it was entered.
        var recordedLater: Bool { at < enteredAt }
    }

    /// The earliest a step may have happened: the step before it, named for the refusal
    /// ("the attempt's start", "the settlement").
    struct Bound: Sendable, Equatable {
        let at: Date
        let what: String
    }

    /// Why a real time was refused; the request's field is named.
    enum Refusal: Error, Equatable, Sendable, CustomStringConvertible {
        /// After now: a step is recorded once it has happened.
        case inTheFuture(field: String, now: Date)
        /// Further back than the limit allows; `ago` in seconds.
        case beyondLimit(field: String, ago: TimeInterval, limitDays: Int)
        /// Before the step it follows.
        case beforeEarlierStep(field: String, Bound)

        var field: String {
            switch self {
            case let .inTheFuture(field, _), let .beyondLimit(field, _, _), let .beforeEarlierStep(field, _): field
            }
        }

        /// What is wrong, without the field's name (the error adds it).
        var description: String {
            switch self {
            case let .inTheFuture(_, now):
                return "is in the future (after \(ChinaTime.minute(now)) China time); a step is recorded once it has happened"
            case let .beyondLimit(_, ago, limitDays):
                let days = Int(ago / 86_400)
                let exact = ago == Double(days) * 86_400
                return "is \(exact ? "" : "more than ")\(days) days ago; steps may be recorded at most \(limitDays) days after they happened"
            case let .beforeEarlierStep(_, bound):
                return "is before \(bound.what) (\(ChinaTime.minute(bound.at)) China time)"
            }
        }
    }

    /// The time a step happened: `given` when the request named one, else `now`. A given time
    /// is refused when it is after `now`, more than ``limitDays`` before it, or before
    /// `notBefore`.
    ///
    /// - Note: `now` itself is never refused for coming before `notBefore`: replicas' clocks
    ///   may differ by a few milliseconds, and a step entered as it happens follows the one
    ///   entered before it.
    func stamp(_ given: Date?, field: String, now: Date, notBefore: Bound?) throws(Refusal) -> Stamp {
        guard let at = given else { return Stamp(at: now, enteredAt: now) }
        if at > now { throw .inTheFuture(field: field, now: now) }
        let ago = now.timeIntervalSince(at)
        if ago > Double(limitDays) * 86_400 { throw .beyondLimit(field: field, ago: ago, limitDays: limitDays) }
        // To the millisecond, as times travel: the earlier step's own time, as an answer
        // carried it, is never refused for the microseconds the database kept.
        if let notBefore, Self.milliseconds(at, .toNearestOrAwayFromZero) < Self.milliseconds(notBefore.at, .down) {
            throw .beforeEarlierStep(field: field, notBefore)
        }
        return Stamp(at: at, enteredAt: now)
    }

    private static func milliseconds(_ date: Date, _ rule: FloatingPointRoundingRule) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded(rule))
    }
}

extension Backdating.Stamp {
    /// What a timeline line adds for a step recorded later: when it really happened. The line
    /// itself stands at the time it was entered, by who entered it.
    var timelineNote: String {
        recordedLater ? "; 补录: happened \(ChinaTime.minute(at)) China time" : ""
    }
}
