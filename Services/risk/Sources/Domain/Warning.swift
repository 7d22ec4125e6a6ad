import Foundation
import PinganDomain

/// A warning about a case (预警) and where its closed loop stands: what `GetWarning` and
/// `ListWarnings` answer.
struct Warning: Sendable, Equatable {
    let id: UUID
    /// The case it is about; `nil` for a cluster warning, which is about ``members``.
    let caseID: UUID?
    /// The centre that owns the warning now: the village's township, or a level it escalated to.
    let centre: DivisionCode
    /// The village the warning is about: every centre that covers it sees the warning.
    let village: DivisionCode
    let score: Int
    let status: WarningStatus
    let raisedAt: Date
    /// How many times the case warned while this warning was open (grouped, not repeated).
    let count: Int
    let assignee: String?
    let feedback: String?
    let evaluation: String?
    let outcome: String?
    /// When the warning escalates a level unless acknowledged; `nil` once a step was taken.
    let escalatesAt: Date?
    /// Every step of the loop so far, oldest first; empty where a listing leaves them out.
    var steps: [WarningStep]
    /// The gravest level the case reached while the warning was open, as its models gave it.
    let level: RiskLevel
    /// A cluster warning's member cases, oldest first; empty for a case's warning.
    var members: [UUID] = []
    /// The cluster rule that raised it; `nil` for a case's warning.
    var rule: String? = nil
    /// The version of the rules that raised it (cluster rules, or the case's risk models).
    var rulesVersion: String? = nil
    /// The cluster warning holding back this case warning's pushes: one its case is a member
    /// of that warns the same centre this warning warns.
    var heldBy: UUID? = nil
}

/// Where a warning's closed loop stands (预警—处置—反馈—跟踪问效); the raw values are what
/// the database stores.
enum WarningStatus: String, Sendable, CaseIterable {
    case raised, acknowledged, handling, fedBack = "fed_back", evaluated, closed
}

/// One step in a warning's record, whether risk-service or a person took it.
struct WarningStep: Sendable, Equatable {
    let at: Date
    let kind: WarningStepKind
    let note: String
    /// Who took it: a person's subject, or `risk-service`.
    let actor: String
}

/// What a recorded step was; the raw values are what the database stores and the wire carries.
enum WarningStepKind: String, Sendable, CaseIterable {
    /// Raised by a score (``WarningDecision/raise(owner:notify:escalatesAt:)``).
    case raised
    /// Not acknowledged in time, so it moved a level up (``WarningEscalation``).
    case escalated
    /// The case warned again with a higher score while the warning was open.
    case scoreRose = "score_rose"
    /// The case warned again, no higher, while the warning was open.
    case warnedAgain = "warned_again"
    /// A case joined a cluster warning that was already open.
    case memberJoined = "member_joined"
    /// The cluster warning's push went out after its group wait, or went again once it had
    /// twice the cases of its push before.
    case pushed
    /// A person took a step of the loop (``LoopStep``).
    case acknowledge, assign, feedBack = "feed_back", evaluate, close

    init(_ step: LoopStep) {
        switch step {
        case .acknowledge: self = .acknowledge
        case .assign: self = .assign
        case .feedBack: self = .feedBack
        case .evaluate: self = .evaluate
        case .close: self = .close
        }
    }
}

/// How one village's warnings of a month fared: what the governance index reads.
struct VillageWarningFacts: Sendable, Equatable {
    let village: DivisionCode
    let raised: Int
    let acknowledged: Int
    /// Acknowledged before the warning had to escalate.
    let acknowledgedInTime: Int
}
