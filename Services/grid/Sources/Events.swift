import Foundation
import PinganConnect
import PinganContracts
import PinganOutbox

/// The events grid-service publishes through its outbox (it consumes none), routed in `GridApp`.
enum IncidentEvents {
    /// An incident was reported: `DisputeService/OpenCase` with ``Incident/openCaseEvent(filedBy:)``,
    /// and dispute-service opens its case or joins the same parties' case.
    static let reported = PublishedTopic(name: "incident.reported", deliveredTo: DisputeServiceMethods.openCase)
}

extension Incident {
    /// What dispute-service is told so that it opens the case. The parties travel in the
    /// event only: the mediating service keeps them, grid-service does not. `filedBy` is the
    /// principal subject that filed the incident (its `filed_by`), so the reporter can later
    /// see what became of the report (`DisputeService/ListMyReports`).
    func openCaseEvent(filedBy: String) -> Pingan_Dispute_V1_OpenCaseRequest {
        let request = report.request
        var event = Pingan_Dispute_V1_OpenCaseRequest()
        event.incidentID = id.wire
        event.villageCode = village.rawValue
        event.category = report.category
        event.source = .gridReport
        event.description_p = request.description_p
        event.parties = request.parties
        event.threatOfViolence = request.threatOfViolence
        event.threatOfSelfHarm = request.threatOfSelfHarm
        event.repeatIncident = request.repeatIncident
        event.priorPoliceCalls = request.priorPoliceCalls
        event.reportedBy = filedBy
        return event
    }
}
