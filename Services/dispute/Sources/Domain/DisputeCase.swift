import Foundation
import PinganConnect
import PinganContracts
import PinganDomain

/// A dispute case, as dispute-service keeps it: the parties in full (mediation needs them),
/// the facts risk scores, and where it stands.
struct DisputeCase: Sendable {
    enum Status: String, Sendable {
        /// Being mediated.
        case open
        /// Closed without a settlement (withdrawn, no dispute found), with an outcome.
        case resolved
        /// Settled by a signed agreement; the return visit is due.
        case settled
        /// The return visit confirmed the settlement.
        case closed
    }

    let id: UUID
    /// The incident it was opened from, when a grid reported it.
    let incidentID: UUID?
    let village: DivisionCode
    var category: Pingan_Grid_V1_IncidentCategory
    let source: Pingan_Dispute_V1_CaseSource
    var status: Status
    let description: String
    let parties: [Party]
    var facts: CaseFacts
    let openedAt: Date
    /// The centre coordinating the case: the village's township until it is escalated.
    var coordinator: DivisionCode
    var major: MajorDispute?
    /// Incidents between the same parties this case holds, the first included.
    var incidents: Int
    /// The rung of its latest attempt, as the cases table keeps it; `nil` before the first.
    var currentRung: LadderRung? = nil
}

/// One person in a dispute.
struct Party: Codable, Sendable, Equatable {
    var name: String
    var phone: String
    var minor: Bool
}

/// What was reported about the danger of a dispute.
struct CaseFacts: Sendable, Equatable {
    var threatOfViolence: Bool
    var threatOfSelfHarm: Bool
    var repeatIncident: Bool
    var priorPoliceCalls: Int
    var violenceOccurred = false

    /// The facts after another incident between the same parties: a repeat, with whatever
    /// the new report adds.
    func joining(_ other: CaseFacts) -> CaseFacts {
        CaseFacts(
            threatOfViolence: threatOfViolence || other.threatOfViolence,
            threatOfSelfHarm: threatOfSelfHarm || other.threatOfSelfHarm,
            repeatIncident: true,
            priorPoliceCalls: max(priorPoliceCalls, other.priorPoliceCalls),
            violenceOccurred: violenceOccurred || other.violenceOccurred
        )
    }
}

/// One step in a case's append-only history.
struct TimelineEntry: Sendable {
    let at: Date
    let kind: String
    let note: String
    let actor: String
}

/// A case to open from a reported incident, a call, a walk-in or a referral.
struct NewCase: Sendable {
    /// The grid incident, when grid-service reported it.
    let incidentID: UUID?
    let village: DivisionCode
    let category: Pingan_Grid_V1_IncidentCategory
    let source: Pingan_Dispute_V1_CaseSource
    let description: String
    /// With their names trimmed, however the case arrived.
    let parties: [Party]
    let facts: CaseFacts

    init(
        incidentID: UUID?, village: DivisionCode, category: Pingan_Grid_V1_IncidentCategory, source: Pingan_Dispute_V1_CaseSource,
        description: String, parties: [Party], facts: CaseFacts
    ) {
        self.incidentID = incidentID
        self.village = village
        self.category = category
        self.source = source
        self.description = description
        self.parties = parties.map { Party(name: $0.name.trimmingCharacters(in: .whitespaces), phone: $0.phone, minor: $0.minor) }
        self.facts = facts
    }
}

extension NewCase {
    /// The parties' names as compared to find the same parties again: trimmed, without
    /// inner spaces, sorted.
    var partyNames: [String] { Party.names(parties) }
}

extension Party {
    static func names(_ parties: [Party]) -> [String] {
        parties.map { $0.name.filter { !$0.isWhitespace } }.filter { !$0.isEmpty }.sorted()
    }
}
