import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain

/// What `ListDeliveries` asks for: deliveries matching every filter given. At least one of
/// warning, case and centre is given, so every listing starts from an index of its own
/// (``PostgresDeliveryStore/deliveries(_:within:after:limit:)``) rather than from the whole
/// table; the push's type only narrows one of them.
struct DeliveryFilter: Sendable, Equatable {
    /// A warning's id, or the id of the event that carried a notice (column `subject_id`).
    var subject: UUID?
    /// Every push about the case: its warnings and its notices.
    var caseID: UUID?
    /// One of ``PushEvents/listed``.
    var eventType: String?
    /// Deliveries to this centre's own subscriptions.
    var centre: DivisionCode?

    /// The filters of a request, each checked at the door (`invalid_argument` naming it); a
    /// request with none of warning, case and centre names all three.
    init(_ request: Pingan_Notify_V1_ListDeliveriesRequest) throws {
        subject = request.warningID.isEmpty ? nil : try UUID.field(request.warningID, "warning_id")
        caseID = request.caseID.isEmpty ? nil : try UUID.field(request.caseID, "case_id")
        centre = request.centreCode.isEmpty ? nil : try DivisionCode.field(request.centreCode, "centre_code")
        if !request.eventType.isEmpty {
            guard PushEvents.listed.contains(request.eventType) else {
                throw ConnectError.invalidArgument(field: "event_type", "must be one of \(PushEvents.listed.sorted().joined(separator: ", "))")
            }
            eventType = request.eventType
        }
        guard subject != nil || caseID != nil || centre != nil else {
            throw ConnectError.invalidArgument(field: "warning_id, case_id, centre_code", "give at least one of them")
        }
    }

    init(subject: UUID? = nil, caseID: UUID? = nil, eventType: String? = nil, centre: DivisionCode? = nil) {
        self.subject = subject
        self.caseID = caseID
        self.eventType = eventType
        self.centre = centre
    }
}
