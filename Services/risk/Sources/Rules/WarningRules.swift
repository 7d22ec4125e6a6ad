import Foundation
import PinganDomain

/// The warning ladder (超过阈值自动生成推送预警信息), in one place and free of storage: what a
/// new score means for the case's warning, which unacknowledged warnings move a level up and
/// when they next would, and what a step of the loop does to that time.
///
/// A score at or over the threshold, or a decisive factor, warns the village's township; a
/// decisive factor (a threat of self-harm, violence that happened) warns the village itself
/// at once too. An open warning is never doubled: a new warning score regroups into it. A
/// raised warning nobody acknowledges within ``acknowledgeWithin`` moves to the level above
/// (township, county, city), and the city, with no level above, is pushed again each window.
/// Any step of the loop ends the escalation.
///
/// Every function is pure: the store loads what the rules read, and applies what they return.
struct WarningRules: Sendable, Equatable {
    /// The score that warns.
    let threshold: Int
    /// How long a raised warning waits for an acknowledgement before it escalates a level.
    let acknowledgeWithin: Duration

    /// Whether a score warns at all: at or over the threshold, or with a decisive factor.
    func warns(_ score: RiskScore) -> Bool {
        score.score >= threshold || score.decisive
    }

    /// What a new score of a case in `village` means for its warning.
    ///
    /// - Parameters:
    ///   - open: the case's warning that is not closed yet, if any.
    ///   - closed: the case is settled, resolved or closed: it raises nothing more, and a
    ///     warning still open about it is taken through its loop by people.
    func decision(for score: RiskScore, village: DivisionCode, open: OpenWarning?, closed: Bool, now: Date) -> WarningDecision {
        guard !closed, warns(score) else { return .none }
        if let open {
            return .regroup(
                id: open.id, score: max(open.score, score.score), rose: score.score > open.score, owner: open.centre, level: max(open.level, score.level)
            )
        }
        let owner = village.owningCentre
        return .raise(owner: owner, notify: score.decisive ? village : owner, escalatesAt: escalationTime(after: now))
    }

    /// The warnings among `raised` that nobody acknowledged in time by `now` (their time has
    /// come, to the instant), each moved a level up with when it next escalates.
    func escalations(of raised: [RaisedWarning], now: Date) -> [WarningEscalation] {
        raised.filter { $0.escalatesAt <= now }.map { warning in
            WarningEscalation(
                warning: warning.id, caseID: warning.caseID, village: warning.village,
                from: warning.centre, to: warning.centre.parent ?? warning.centre, nextEscalationAt: escalationTime(after: now), level: warning.level
            )
        }
    }

    /// When a warning raised or escalated at `moment` escalates unless acknowledged.
    func escalationTime(after moment: Date) -> Date {
        moment.addingTimeInterval(acknowledgeWithin.seconds)
    }

    /// What taking `step` does to a warning at `now`: the status it must be in and the one it
    /// moves to, and that it no longer escalates (someone has it in hand).
    func transition(_ step: LoopStep, note: String?, now: Date) -> WarningTransition {
        WarningTransition(step: step, from: step.from, to: step.to, note: note, at: now, escalatesAt: nil, closedAt: step == .close ? now : nil)
    }
}

/// A case's warning that is not closed yet, as the rules need to know it.
struct OpenWarning: Sendable, Equatable {
    let id: UUID
    let score: Int
    /// The centre that owns it now: told again when the score rises.
    let centre: DivisionCode
    /// The gravest level the case has reached while it was open.
    let level: RiskLevel
}

/// What a new score means for the case's warning.
enum WarningDecision: Sendable, Equatable {
    /// Below the threshold and nothing decisive, or the case is closed: no warning (an open
    /// one stays open).
    case none
    /// Raise a warning owned by `owner`, pushed to `notify` and the levels above it; it
    /// escalates at `escalatesAt` unless acknowledged.
    case raise(owner: DivisionCode, notify: DivisionCode, escalatesAt: Date)
    /// The case warned again while its warning is open: one warning with a higher count and
    /// the higher of the two scores and of the two levels; a risen score is pushed again to
    /// `owner`.
    case regroup(id: UUID, score: Int, rose: Bool, owner: DivisionCode, level: RiskLevel)
}

extension WarningDecision {
    /// The cluster warning among `holds` that holds back the pushes this decision would make
    /// (Alertmanager's inhibition, with the centre as its `equal` label): one that warns the
    /// very centre the case's own warning would warn, its `owner`. A cluster warning another
    /// centre does not hold the case back: a county's cluster of a township's thirty incidents
    /// tells the county, and the township still hears of each case it must act on. `nil` for
    /// ``none`` and when no cluster warns that centre. A decisive score is never held back;
    /// ``PostgresRiskWrites`` sees to that.
    func heldBy(_ holds: [ClusterHold]) -> UUID? {
        let centre: DivisionCode
        switch self {
        case .none: return nil
        case let .raise(owner, _, _): centre = owner
        case let .regroup(_, _, _, owner, _): centre = owner
        }
        return holds.first { $0.centre == centre }?.warning
    }
}

/// An open cluster warning a case is a member of, and the centre it warns now (its owner; the
/// level above once it escalated unacknowledged).
struct ClusterHold: Sendable, Equatable {
    let warning: UUID
    let centre: DivisionCode
}

/// A raised warning nobody has acknowledged, as the ladder needs to know it.
struct RaisedWarning: Sendable, Equatable {
    let id: UUID
    let caseID: UUID
    /// The centre that owns it now.
    let centre: DivisionCode
    let village: DivisionCode
    let escalatesAt: Date
    /// Told again with each escalation.
    let level: RiskLevel
}

/// A warning moved a level up because nobody acknowledged it in time.
struct WarningEscalation: Sendable, Equatable {
    let warning: UUID
    let caseID: UUID
    let village: DivisionCode
    let from: DivisionCode
    /// The level above `from`; the city itself when `from` is the city.
    let to: DivisionCode
    let nextEscalationAt: Date
    /// The warning's level, said again in the escalation's push.
    let level: RiskLevel
}

/// The steps of a warning's closed loop (预警—处置—反馈—跟踪问效), each allowed only after the
/// one before it.
enum LoopStep: String, Sendable, CaseIterable {
    case acknowledge, assign, feedBack = "feed_back", evaluate, close

    /// The statuses the step may follow.
    var from: [WarningStatus] {
        switch self {
        case .acknowledge: [.raised]
        case .assign: [.acknowledged]
        case .feedBack: [.handling]
        case .evaluate: [.fedBack]
        case .close: [.evaluated]
        }
    }

    /// The status the step leads to.
    var to: WarningStatus {
        switch self {
        case .acknowledge: .acknowledged
        case .assign: .handling
        case .feedBack: .fedBack
        case .evaluate: .evaluated
        case .close: .closed
        }
    }

    /// Evaluating and closing belong to the owning level or above; the others to anyone who
    /// sees the warning, the village included.
    var needsOwningLevel: Bool { self == .evaluate || self == .close }
}

/// One step of the loop as the store applies it: only from `from`, to `to`, with what the
/// step said and the warning's escalation and closing times afterwards.
struct WarningTransition: Sendable, Equatable {
    let step: LoopStep
    let from: [WarningStatus]
    let to: WarningStatus
    /// What the step said (the assignee, feedback, evaluation or outcome); `nil` for an
    /// acknowledgement.
    let note: String?
    /// When the step is taken.
    let at: Date
    let escalatesAt: Date?
    let closedAt: Date?
}

extension Duration {
    /// The duration in seconds, fractions included, for date arithmetic.
    var seconds: TimeInterval { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
