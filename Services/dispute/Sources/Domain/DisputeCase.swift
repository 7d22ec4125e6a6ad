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
    let parties: [Party]
    let facts: CaseFacts
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

/// How a new incident finds the case it belongs to (the same parties again).
enum SameParties {
    /// How long after a settlement a new incident reopens the case rather than opening one.
    static let reopenWithin: TimeInterval = 180 * 24 * 3600

    /// True when the two incidents are between the same people: at least two names in
    /// common (or the one name, when a side names one person). A new incident may add
    /// people (the brothers who joined the fight) and still be the same dispute.
    static func match(_ lhs: [String], _ rhs: [String]) -> Bool {
        let shared = Set(lhs).intersection(rhs).count
        return shared > 0 && shared >= min(2, Set(lhs).count, Set(rhs).count)
    }
}

/// The topics dispute-service publishes.
enum CaseEvents {
    /// A case was opened; risk-service assesses it.
    static let opened = "case.opened"
    /// A case's facts changed (another incident, a failed rung, a new category); risk-service is told.
    static let changed = "case.changed"
    /// A notice for the owning centre and the levels above (overdue, escalated, summoned).
    static let notice = "case.notice"
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
        assess.violenceOccurred = facts.violenceOccurred
        assess.incidents = Int32(incidents)
        assess.openedAt = openedAt.wireTimestamp
        assess.closed = status != .open
        let home = village.owningCentre
        assess.escalations = Int32(home.selfAndAncestors.firstIndex(of: coordinator) ?? 0)
        return assess
    }

    /// A notice about this case for notify-service.
    func notice(type: String, centre: DivisionCode, summary: String, due: Date?) -> Pingan_Notify_V1_DeliverNoticeRequest {
        var notice = Pingan_Notify_V1_DeliverNoticeRequest()
        notice.type = type
        notice.caseID = id.wire
        notice.centreCode = centre.rawValue
        notice.villageCode = village.rawValue
        notice.summary = summary
        notice.dueAt = due?.wireTimestamp ?? ""
        return notice
    }
}
