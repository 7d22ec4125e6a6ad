import Foundation
import PinganContracts

/// What is pushed, in one shape every channel renders (``PushRendering``) and every filter
/// reads (``SubscriptionFilter``): a warning or a notice, made from the event that carried it
/// (``NotifyEvents``).
struct PushContent: Sendable {
    let type: String
    /// The warning's id, or the id of the event that carried a notice.
    let subject: UUID
    let caseID: String
    let centre: String
    let village: String
    let summary: String
    let score: Int?
    let reasons: [String]
    let incidentID: String
    let dueAt: String
    let category: Int?
    /// The warning's level (一般, 较大, 重大) as risk-service's model gave it; `nil` for a
    /// push that has none (a case or index notice, or an event from before levels), which
    /// then renders exactly as it did before levels.
    var level: Pingan_Risk_V1_RiskLevel? = nil
    /// The names of `centre` and `village` (``DivisionNaming``); empty when unknown, and the
    /// push then says the code.
    var centreName = ""
    var villageName = ""
    /// A warning's contributions with their Chinese labels, beside the English `reasons`.
    var factors: [PushFactor] = []
    /// What happened in Chinese, from the producer (`DeliverNoticeRequest.text`).
    var text = ""
    /// RFC 3339: when a raised warning escalates unless acknowledged.
    var acknowledgeBy = ""
    /// The warning a notice is about (`warning.escalated`, `warning.grew`), so its
    /// deliveries are listed with the warning's own.
    var warningID: UUID? = nil

    /// The level's word, as every channel written for people says it.
    var levelWord: String? {
        switch level {
        case .general?: "一般"
        case .serious?: "较大"
        case .major?: "重大"
        case .unspecified?, .UNRECOGNIZED?, nil: nil
        }
    }

    /// The level's name as the contracts spell it (`RISK_LEVEL_MAJOR`), for a webhook.
    var levelName: String? {
        switch level {
        case .general?: "RISK_LEVEL_GENERAL"
        case .serious?: "RISK_LEVEL_SERIOUS"
        case .major?: "RISK_LEVEL_MAJOR"
        case .unspecified?, .UNRECOGNIZED?, nil: nil
        }
    }
}

/// One contribution to a warning's score: the model's code, its points and its Chinese label.
struct PushFactor: Sendable, Equatable {
    let code: String
    let points: Int
    let label: String
}
