import Foundation
import PinganConnect
import PinganContracts
import PinganDomain

/// The open warning of a case, as the policy needs to know it.
struct OpenWarning: Sendable, Equatable {
    let id: UUID
    let score: Int
}

/// What a new score means for the case's warning.
enum WarningAction: Sendable, Equatable {
    /// Below the threshold and nothing decisive: no warning (an open one stays open).
    case none
    /// Raise a warning owned by `owner`, pushed to `notify` and the levels above it; it
    /// escalates at `escalatesAt` unless acknowledged.
    case raise(owner: DivisionCode, notify: DivisionCode, escalatesAt: Date)
    /// The case warned again while its warning is open: one warning with a higher count; a
    /// risen score is pushed again.
    case regroup(id: UUID, score: Int, rose: Bool)
}

/// The warning rule (超过阈值自动生成推送预警信息): a score at or over the threshold, or a
/// decisive factor, warns the village's township; a threat of self-harm or violence that
/// happened warns the village itself at once too. An open warning is never doubled.
struct RiskPolicy: Sendable {
    let catalogue: RiskModelCatalogue
    let threshold: Int
    /// How long a raised warning waits for an acknowledgement before it escalates a level.
    let acknowledgeWithin: Duration

    func score(_ facts: Pingan_Risk_V1_AssessCaseRequest, now: Date) -> RiskScore {
        catalogue.model(for: facts.category).score(facts, now: now, catalogueVersion: catalogue.version)
    }

    /// - Parameter closed: a case settled, resolved or closed raises nothing more; a warning
    ///   still open about it is taken through its loop by people.
    func action(for score: RiskScore, village: DivisionCode, open: OpenWarning?, closed: Bool = false, now: Date) -> WarningAction {
        guard !closed, score.score >= threshold || score.decisive else { return .none }
        if let open {
            return .regroup(id: open.id, score: max(open.score, score.score), rose: score.score > open.score)
        }
        let owner = village.owningCentre
        return .raise(owner: owner, notify: score.decisive ? village : owner, escalatesAt: now.addingTimeInterval(acknowledgeWithin.seconds))
    }
}

extension Duration {
    var seconds: TimeInterval { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// The topics risk-service publishes.
enum WarningEvents {
    /// A warning was raised; notify-service pushes it to the centre's subscribers.
    static let raised = "warning.raised"
    /// A notice about a warning (escalated, score risen) for a centre and the levels above.
    static let notice = "warning.notice"

    /// What notify-service is told about a raised warning.
    static func raised(
        warning: UUID, case caseID: UUID, centre: DivisionCode, village: DivisionCode, incidentID: String,
        category: Pingan_Grid_V1_IncidentCategory, score: RiskScore
    ) -> Pingan_Notify_V1_DeliverWarningRequest {
        var event = Pingan_Notify_V1_DeliverWarningRequest()
        event.warningID = warning.wire
        event.caseID = caseID.wire
        event.centreCode = centre.rawValue
        event.villageCode = village.rawValue
        event.incidentID = incidentID
        event.score = Int32(score.score)
        event.reasons = score.reasons.map { "\($0.rule) +\($0.points): \($0.explanation)" }
        event.category = category
        return event
    }

    /// A `warning.escalated` notice for `centre` and the levels above it.
    static func escalated(case caseID: UUID, centre: DivisionCode, village: DivisionCode, summary: String) -> Pingan_Notify_V1_DeliverNoticeRequest {
        var notice = Pingan_Notify_V1_DeliverNoticeRequest()
        notice.type = "warning.escalated"
        notice.caseID = caseID.wire
        notice.centreCode = centre.rawValue
        notice.villageCode = village.rawValue
        notice.summary = summary
        return notice
    }
}

/// The steps of a warning's closed loop (预警—处置—反馈—跟踪问效), each allowed only after the
/// one before it.
enum WarningStep: String, Sendable {
    case acknowledge, assign, feedBack = "feed_back", evaluate, close

    /// The statuses the step may follow, and the one it leads to.
    var from: [String] {
        switch self {
        case .acknowledge: ["raised"]
        case .assign: ["acknowledged"]
        case .feedBack: ["handling"]
        case .evaluate: ["fed_back"]
        case .close: ["evaluated"]
        }
    }

    var to: String {
        switch self {
        case .acknowledge: "acknowledged"
        case .assign: "handling"
        case .feedBack: "fed_back"
        case .evaluate: "evaluated"
        case .close: "closed"
        }
    }

    /// The column that records what the step said, if any.
    var column: String? {
        switch self {
        case .acknowledge: nil
        case .assign: "assignee"
        case .feedBack: "feedback"
        case .evaluate: "evaluation"
        case .close: "outcome"
        }
    }

    /// Evaluating and closing belong to the owning level or above; the others to anyone who
    /// sees the warning, the village included.
    var needsOwningLevel: Bool { self == .evaluate || self == .close }
}
