import Foundation
import PinganContracts
import PinganDomain

/// What dispute-service knows about a case that its risk is scored from.
///
/// Kept with the case's assessment, so that time alone (the months a case has been open) can
/// score it again without another event from dispute-service.
struct CaseFacts: Sendable, Equatable {
    /// Picks the model. The grid's category enum is the vocabulary every service shares for
    /// it, so it is used here as it is.
    var category: Pingan_Grid_V1_IncidentCategory = .unspecified
    var partyCount = 0
    var minorsInvolved = false
    var threatOfViolence = false
    var threatOfSelfHarm = false
    var repeatIncident = false
    var violenceOccurred = false
    var priorPoliceCalls = 0
    /// Incidents between the same parties the case holds, the first included.
    var incidents = 0
    var failedRungs = 0
    /// Levels the case was escalated above its township.
    var escalations = 0
    var overdueSummons = 0
    /// When the case opened: the months since count towards its score.
    var openedAt: Date?
    /// When these facts were true.
    var asOf: Date?
    /// The case is settled, resolved or closed: its score stops growing with time and it
    /// raises no warning.
    var closed = false
    /// The incident the case was opened from, carried on so that a warning names its report.
    var incidentID: UUID?
}

/// One case to score: which case, where it lies, and its facts.
struct AssessedCase: Sendable, Equatable {
    let id: UUID
    let village: DivisionCode
    var facts: CaseFacts
}

/// One factor that added to a score, so that every score can be explained.
struct Reason: Sendable, Equatable {
    let rule: String
    let points: Int
    let explanation: String
    /// The factor warns on its own, whatever the score.
    let decisive: Bool
    /// The factor in Chinese from the model data (``RiskFactor/label``), for pushes people
    /// read; empty for a reason read back from the store, which keeps only the record.
    var label: String = ""
}

/// A case scored at one moment, as its assessment records it.
struct ScoredCase: Sendable, Equatable {
    let assessed: AssessedCase
    let score: RiskScore
    let at: Date
    /// When time alone next changes the score; `nil` for a closed case or one whose opening
    /// is unknown.
    let rescoreAt: Date?
}

/// A case's latest score, with every score it has had: what `GetAssessment` answers.
struct Assessment: Sendable, Equatable {
    /// How many of its latest scores an assessment carries. A feud reported thousands of times
    /// keeps every score in the store, but reading or answering them all would make each new
    /// event about the case cost more than the last (issue 24).
    static let historyShown = 50

    let caseID: UUID
    let village: DivisionCode
    let score: Int
    /// The threshold the score was judged against.
    let threshold: Int
    let reasons: [Reason]
    /// The case's latest warning, if it has ever warned.
    let warningID: UUID?
    let assessedAt: Date
    /// The model (catalogue version and category) that scored it.
    let modelVersion: String
    /// Every score the case has had, oldest first.
    let history: [ScoreChange]
    /// The level its model version's bands gave the score, as recorded then.
    let level: RiskLevel
}

/// One score in a case's history, with the level its own model version gave it.
struct ScoreChange: Sendable, Equatable {
    let score: Int
    let modelVersion: String
    let assessedAt: Date
    let level: RiskLevel
}

/// What the round trip that records an `AssessCase` event finds of its case before the new
/// score is decided on: the case's open warning (locked until the event's batch commits), the
/// warning its assessment points at, and its history.
struct PriorAssessment: Sendable, Equatable {
    let openWarning: OpenWarning?
    let warningID: UUID?
    let history: [ScoreChange]

    /// The case's assessment once `scored` is recorded, built from what was read and written
    /// so that answering needs no read back.
    /// - Parameter warning: the warning the new score raised or regrouped into, if any.
    func assessment(after scored: ScoredCase, threshold: Int, warning: UUID?) -> Assessment {
        Assessment(
            caseID: scored.assessed.id, village: scored.assessed.village, score: scored.score.score, threshold: threshold,
            reasons: scored.score.reasons, warningID: warning ?? warningID, assessedAt: scored.at,
            modelVersion: scored.score.modelVersion,
            history: Array((history + [ScoreChange(score: scored.score.score, modelVersion: scored.score.modelVersion, assessedAt: scored.at, level: scored.score.level)])
                .suffix(Assessment.historyShown)),
            level: scored.score.level
        )
    }
}
