import Foundation
import PinganConnect
import PinganContracts
import PinganDomain

/// What an assessment decides, before anything is stored: the score with its reasons, and
/// which centre is warned when the score reaches the threshold.
struct RiskDecision: Sendable {
    let scored: RiskRules.Scored
    let threshold: Int
    /// The centre to warn, or `nil` below the threshold.
    let warnedCentre: DivisionCode?
}

/// The warning rule: score the case with ``RiskRules`` and warn the owning centre at or
/// above the threshold (`RISK_THRESHOLD`).
struct RiskPolicy: Sendable {
    let threshold: Int

    func decide(_ facts: Pingan_Risk_V1_AssessCaseRequest, village: DivisionCode) -> RiskDecision {
        let scored = RiskRules.score(facts)
        return RiskDecision(scored: scored, threshold: threshold, warnedCentre: scored.score >= threshold ? Self.owningCentre(of: village) : nil)
    }

    /// The centre that owns a case: the township (or street) of its village, which the seed's
    /// example warns; a case filed directly at a township belongs to it.
    static func owningCentre(of code: DivisionCode) -> DivisionCode {
        code.owningCentre
    }
}

/// The topics risk-service publishes.
enum WarningEvents {
    /// A warning was raised; notify-service pushes it to the centre's subscribers.
    static let raised = "warning.raised"

    /// What notify-service is told about a raised warning.
    static func raised(
        warning: UUID, case caseID: UUID, centre: DivisionCode, village: DivisionCode, incidentID: String, scored: RiskRules.Scored
    ) -> Pingan_Notify_V1_DeliverWarningRequest {
        var event = Pingan_Notify_V1_DeliverWarningRequest()
        event.warningID = warning.wire
        event.caseID = caseID.wire
        event.centreCode = centre.rawValue
        event.villageCode = village.rawValue
        event.incidentID = incidentID
        event.score = Int32(scored.score)
        event.reasons = scored.reasons.map { "\($0.rule) +\($0.points): \($0.explanation)" }
        return event
    }
}
