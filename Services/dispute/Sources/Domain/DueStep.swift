import Foundation
import PinganDomain

/// A step a case waits for, with its deadline: what a centre's list of what falls due shows.
struct DueStep: Sendable, Equatable {
    enum Kind: String, Sendable {
        /// The open rung's mediation.
        case rung
        /// A summoned department's report (报到).
        case summonsReport = "summons_report"
        /// A summoned department's feedback (反馈), once it reported.
        case summonsFeedback = "summons_feedback"
        /// The return visit (回访) after a settlement.
        case returnVisit = "return_visit"
    }

    /// The step's own row (the rung attempt, summons or return visit): with the deadline, its
    /// place in the list.
    let id: UUID
    let caseID: UUID
    let village: DivisionCode
    let kind: Kind
    /// The rung, for ``Kind/rung``.
    let rung: LadderRung?
    /// The summoned department's name, for a summons' report or feedback; empty otherwise.
    let department: String
    let deadline: WorkingDeadline
}
