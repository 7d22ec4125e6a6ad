import Foundation
import Logging
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain

/// The steps that cross between a county's mesh and the city's: the city handing back a
/// county's case it coordinates, and the county applying that order.
extension DisputeServiceHandler {
    /// The city's side: `principal`'s centre, coordinating the copy, hands it back. Nothing of
    /// the copy changes here; the order waits for the county's relay.
    func handBack(copy file: CaseFile, note: String, by principal: Principal, rules: MediationRules) async throws -> DisputeCase {
        guard let county = file.record.federatedFrom else { return file.record }
        _ = try rules.handBack(file, note: note, by: principal)
        try await orders.place(
            CaseOrder(id: UUID.random(), caseID: file.record.id, note: note, actor: principal.subject, centre: file.record.coordinator, orderedAt: now()),
            for: county
        )
        return file.record
    }

    /// The county's side: applies the city's `order` as the city's centre would, under the
    /// rule every hand-back follows, recorded with the change so it is applied once. Answers
    /// the outcome the city is told.
    func apply(_ order: CaseOrder, under root: DivisionCode) async -> Pingan_Dispute_V1_OrderOutcome {
        var outcome = Pingan_Dispute_V1_OrderOutcome()
        outcome.orderID = order.id.wire
        do {
            // The city acts from above this mesh, never as a centre inside it.
            guard order.centre.contains(root), order.centre != root else {
                throw ConnectError(.permissionDenied, "\(order.centre) is not a centre above this mesh's \(root)")
            }
            let city = Principal(subject: order.actor, centre: order.centre, roles: [.staff, .mediator], expiresAt: now().addingTimeInterval(300))
            let rules = try await rules()
            _ = try await change(order.caseID, named: order.caseID.wire, by: city) { file, now in
                try rules.handBack(file, note: order.note, by: city) + [.federationOrderApplied(order.id)]
            }
        } catch {
            let failure = ConnectError.wrapping(error, logger: Self.federationLogger)
            outcome.code = failure.code.rawValue
            outcome.message = failure.message
        }
        return outcome
    }

    /// Where an order that failed for a reason of this mesh's own (not a refusal) is logged.
    static let federationLogger = Logger(label: "dispute-service.federation")
}
