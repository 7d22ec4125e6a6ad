import Foundation
import PinganDomain

/// An action a frozen month's score called for (经验交流, 提醒谈话, 约谈), owned by the
/// centre that reviews the unit, as stored and listed. ``ThresholdActions`` decides which
/// ones a month calls for; this is what became of one.
struct IndexAction: Sendable, Equatable {
    enum Status: String, Sendable {
        /// Still to be done by its owner.
        case open
        /// Done, with an outcome; a recomputation never takes it back.
        case done
        /// A recomputation of the month no longer called for it.
        case withdrawn
    }

    let id: UUID
    let month: Month
    let division: String
    let divisionName: String
    let centre: DivisionCode
    let kind: ThresholdRule.Kind
    let owner: String
    let dueOn: Day
    let score: Double
    let status: Status
    let outcome: String?
    let doneBy: String?
    let doneAt: Date?
    let createdAt: Date

    /// Only an open action can be completed: a done one keeps the outcome first recorded, and
    /// a withdrawn one is no longer called for.
    func requireOpen() throws(IndexRefusal) {
        guard status == .open else { throw .actionNotOpen(status) }
    }
}
