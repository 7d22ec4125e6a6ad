import Foundation
import PinganDomain

/// Where a caller's centre stands to a case: its coordinating centre (统筹), a centre below
/// that (the village, or the township once the case went up), or neither.
enum CaseStanding: String, Sendable, CaseIterable {
    case coordinator
    case belowCoordinator = "below the coordinator"
    case elsewhere

    init(of centre: DivisionCode, in record: DisputeCase) {
        if centre == record.coordinator {
            self = .coordinator
        } else if record.coordinator.contains(centre) {
            self = .belowCoordinator
        } else {
            self = .elsewhere
        }
    }
}

/// The steps of a case and who may take them: the one table of levels and case actions.
///
/// Only the coordinating centre escalates, hands back, summons departments and marks a major
/// dispute; a centre below it mediates the rungs its level runs, records the return visit,
/// corrects the category, and asks the coordinator to escalate (越级上报 is not allowed). A
/// centre above the coordinator acts once the case is escalated to it. The rungs add a level
/// rule of their own: rungs 1–2 are the village's, rungs 3–5 the township's
/// (``LadderRung/owningLevel``), run by a centre of that level or above.
enum CaseAction: String, Sendable, CaseIterable {
    /// Start or end an attempt at a rung, and sign the agreement that settles it.
    case mediate = "mediate"
    case summon = "summon departments"
    case escalate = "escalate"
    case requestEscalation = "ask to escalate"
    case handBack = "hand back"
    case markMajor = "mark a major dispute (1350)"
    case reclassify = "reclassify"
    case recordReturnVisit = "record the return visit"

    /// Who may take the step.
    var allowed: Set<CaseStanding> {
        switch self {
        case .mediate, .reclassify, .recordReturnVisit: [.coordinator, .belowCoordinator]
        case .summon, .escalate, .handBack, .markMajor: [.coordinator]
        case .requestEscalation: [.belowCoordinator]
        }
    }

    /// Refuses `centre` unless it may take this step on `record`.
    func require(by centre: DivisionCode, on record: DisputeCase) throws(MediationRefusal) {
        let standing = CaseStanding(of: centre, in: record)
        guard !allowed.contains(standing) else { return }
        switch standing {
        case .coordinator: throw .coordinatorEscalates
        case .belowCoordinator: throw .onlyTheCoordinator(self, record.coordinator)
        case .elsewhere: throw .notCoordinator(record.coordinator)
        }
    }
}
