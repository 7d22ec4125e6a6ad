import Foundation
import PinganConnect
import PinganContracts
import PinganDomain

/// A dispute case, as dispute-service keeps it: the parties in full (mediation needs them),
/// the facts risk scores, and where it stands.
struct DisputeCase: Sendable {
    enum Status: String, Sendable {
        case open, resolved
    }

    let id: UUID
    /// The incident it was opened from, when a grid reported it.
    let incidentID: UUID?
    let village: DivisionCode
    let category: Pingan_Grid_V1_IncidentCategory
    let source: Pingan_Dispute_V1_CaseSource
    var status: Status
    let description: String
    let parties: [Party]
    let facts: CaseFacts
    let openedAt: Date
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
}

/// One step in a case's append-only history.
struct TimelineEntry: Sendable {
    let at: Date
    let kind: String
    let note: String
    let actor: String
}

/// A case to open from a reported incident.
struct NewCase: Sendable {
    let incidentID: UUID
    let village: DivisionCode
    let category: Pingan_Grid_V1_IncidentCategory
    let source: Pingan_Dispute_V1_CaseSource
    let description: String
    let parties: [Party]
    let facts: CaseFacts
}

/// The topics dispute-service publishes.
enum CaseEvents {
    /// A case was opened; risk-service assesses it.
    static let opened = "case.opened"
}

extension DisputeCase {
    /// What risk-service is told to assess: the facts, never the parties' names.
    var assessment: Pingan_Risk_V1_AssessCaseRequest {
        var assess = Pingan_Risk_V1_AssessCaseRequest()
        assess.caseID = id.wire
        assess.villageCode = village.rawValue
        assess.category = category
        assess.partyCount = Int32(parties.count)
        assess.minorsInvolved = parties.contains(where: \.minor)
        assess.threatOfViolence = facts.threatOfViolence
        assess.threatOfSelfHarm = facts.threatOfSelfHarm
        assess.repeatIncident = facts.repeatIncident
        assess.priorPoliceCalls = Int32(facts.priorPoliceCalls)
        assess.incidentID = incidentID?.wire ?? ""
        return assess
    }
}
