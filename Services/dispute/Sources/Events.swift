import Foundation
import PinganConnect
import PinganContracts
import PinganDomain
import PinganOutbox

/// The events dispute-service takes part in.
///
/// It consumes one: `DisputeService/OpenCase`, an incident a grid reported, delivered by
/// grid-service's outbox relay (``DisputeServiceHandler/openCase(_:_:)``).
///
/// It publishes three topics through its outbox, routed in `DisputeApp`:
enum CaseEvents {
    /// A case was opened: risk-service scores ``DisputeCase/assessment``.
    static let opened = PublishedTopic(name: "case.opened", deliveredTo: RiskServiceMethods.assessCase)
    /// A case's facts changed (another incident, a failed rung, a new category, a closing):
    /// risk-service scores ``CaseFile/assessment(now:)`` again.
    static let changed = PublishedTopic(name: "case.changed", deliveredTo: RiskServiceMethods.assessCase)
    /// A notice for the coordinating centre and the levels above (overdue, escalated,
    /// summoned): ``DisputeCase/notice(type:centre:summary:text:due:)``.
    static let notice = PublishedTopic(name: "case.notice", deliveredTo: NotifyServiceMethods.deliverNotice)

    /// A ``notice`` of `type` about case `id` in `village`, for `centre` and the levels above it.
    static func notice(
        type: String, case id: UUID, village: DivisionCode, centre: DivisionCode, summary: String, text: String, due: Date?
    ) -> Pingan_Notify_V1_DeliverNoticeRequest {
        var notice = Pingan_Notify_V1_DeliverNoticeRequest()
        notice.type = type
        notice.caseID = id.wire
        notice.centreCode = centre.rawValue
        notice.villageCode = village.rawValue
        notice.summary = summary
        notice.text = text
        notice.dueAt = due?.wireTimestamp ?? ""
        return notice
    }
}

extension DisputeCase {
    /// What risk-service is told to assess: the facts, never the parties' names; the parties
    /// only as keyed hashes (``PartyKeys``), and where the case came from, for the social-risk
    /// topic database.
    var assessment: Pingan_Risk_V1_AssessCaseRequest {
        var assess = Pingan_Risk_V1_AssessCaseRequest()
        assess.caseID = id.wire
        assess.villageCode = village.rawValue
        assess.category = category
        assess.partyCount = Int32(parties.count)
        // Any report's parties, not only the opening one's.
        assess.minorsInvolved = facts.minorsInvolved
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
        assess.source = source
        // Once erased, risk-service forgets the parties' keys too: nobody is matched by them.
        assess.personalDataErased = personalDataErasedAt != nil
        assess.partyKeys = assess.personalDataErased ? [] : PartyKeys.current?.keys(of: parties) ?? []
        return assess
    }

    /// A notice about this case for notify-service.
    func notice(type: String, centre: DivisionCode, summary: String, text: String, due: Date?) -> Pingan_Notify_V1_DeliverNoticeRequest {
        CaseEvents.notice(type: type, case: id, village: village, centre: centre, summary: summary, text: text, due: due)
    }
}

extension CaseFile {
    /// What risk-service is told at `now`: the case's facts and what mediation has been
    /// through (failed rungs, escalations, summons past their deadline).
    func assessment(now: Date) -> Pingan_Risk_V1_AssessCaseRequest {
        var assess = record.assessment
        assess.failedRungs = Int32(attempts.filter { $0.outcome == .failed }.count)
        assess.overdueSummons = Int32(overdueSummons(at: now))
        assess.asOf = now.wireTimestamp
        return assess
    }
}
