import Foundation
import PinganAccess
import PinganContracts
import PinganDomain

/// A case with everything its mediation has produced: the unit the rules decide on and the
/// store loads and saves in one transaction.
struct CaseFile: Sendable {
    var record: DisputeCase
    /// Oldest first.
    var attempts: [RungAttempt]
    var agreement: Agreement?
    var returnVisit: ReturnVisit?
    var summons: [Summons]

    /// The case row's revision when the file was read: a change applies only to the file it
    /// was decided on (``CaseStoreError/stale(_:)`` otherwise).
    var revision = 0

    var openAttempt: RungAttempt? { attempts.last { $0.outcome == nil } }
}

/// What a decision changes; the store applies the list in order, in one transaction.
enum CaseChange: Sendable {
    case attemptStarted(RungAttempt, skipped: [LadderRung], reason: String?)
    /// The open attempt ended at `at` (its real time), entered by `by` at the time applied.
    case attemptEnded(id: UUID, outcome: RungOutcome, note: String, at: Date, by: String)
    case agreementSigned(Agreement, attempt: UUID)
    case returnVisitDue(ReturnVisit)
    /// The visit took place at `at` (its real time), entered by `by` at the time applied.
    case returnVisitDone(id: UUID, outcome: ReturnVisitOutcome, note: String, at: Date, by: String)
    /// The case's status from `at`: when the step that changed it really happened.
    case status(DisputeCase.Status, at: Date)
    case summoned([Summons])
    case summonsReported(id: UUID, at: Date)
    case summonsFedBack(id: UUID, feedback: String, at: Date)
    case coordinator(DivisionCode)
    case major(MajorDispute)
    case reclassified(Pingan_Grid_V1_IncidentCategory)
    /// A line on the case's timeline.
    case timeline(kind: String, note: String, actor: String)
    /// A notice pushed through notify-service to `centre` and the levels above it.
    /// `summary` for machines and the timeline; `text`, in Chinese and naming no party, for
    /// the people who read the push.
    case notice(type: String, centre: DivisionCode, summary: String, text: String, due: Date?)
    /// risk-service is told the case's current facts.
    case tellRisk
    /// The city's order this change carries out (a county's mesh applying the city's hand-back),
    /// recorded with it so the order is applied once.
    case federationOrderApplied(UUID)
}

/// Why a step was refused; nothing was written.
enum MediationRefusal: Error, Equatable, Sendable {
    case notActive(DisputeCase.Status)
    case rungStillOpen(LadderRung)
    case outOfOrder(requested: LadderRung, next: LadderRung)
    case ladderExhausted
    /// Starting `requested` skips `next`, which has not failed: it has eased tension `eased`
    /// times without a settlement (fewer than ``LadderRung/easedAttemptsToFail``).
    case skipNeedsReason(requested: LadderRung, next: LadderRung, eased: Int = 0)
    case levelTooLow(LadderRung)
    case notCoordinator(DivisionCode)
    /// A centre below the coordinator tried a step only the coordinator takes.
    case onlyTheCoordinator(CaseAction, DivisionCode)
    /// The coordinating centre asked itself to escalate: it escalates.
    case coordinatorEscalates
    case noOpenAttempt
    case settlementNeedsAgreement
    case agreementOnlyForSettlement
    case noReturnVisitDue
    case notSummoned
    case feedbackBeforeReport
    case noLevelAbove
    case notEscalated
    case alreadySummoned(String)
    case majorTooSmall(field: String, minimum: Int)
    /// A step's real time (补录) is refused.
    case backdated(Backdating.Refusal)
}

