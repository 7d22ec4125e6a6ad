import Foundation
import PinganAccess
import PinganDomain
import PinganConnect
import PinganContracts
import PinganOutbox

/// `pingan.notify.v1.NotifyService`: one method per RPC, named as in the `.proto`.
struct NotifyServiceHandler: Sendable {
    /// The notices notify-service pushes besides warnings.
    static let noticeTypes: Set<String> = ["case.overdue", "case.escalated", "case.summoned", "warning.escalated"]

    let store: any DeliveryStore
    let egress: EgressPolicy
    let verifier: PrincipalVerifier

    func register(into routes: inout ConnectRoutes) {
        routes.register(NotifyServiceMethods.subscribe) { try await subscribe($0, $1) }
        routes.register(NotifyServiceMethods.deliverWarning) { try await deliverWarning($0, $1) }
        routes.register(NotifyServiceMethods.deliverNotice) { try await deliverNotice($0, $1) }
        routes.register(NotifyServiceMethods.listDeliveries) { try await listDeliveries($0, $1) }
    }

    func subscribe(_ request: Pingan_Notify_V1_SubscribeRequest, _ context: ConnectContext) async throws -> Pingan_Notify_V1_SubscribeResponse {
        let principal = try verifier.principal(context, anyOf: [.admin, .staff])
        let centre = try DivisionCode.field(request.centreCode, "centre_code")
        try principal.require(centre, field: "centre_code")
        guard request.url.count <= 2000 else { throw ConnectError.invalidArgument(field: "url", "is longer than 2000 characters") }
        do {
            try await egress.check(request.url)
        } catch {
            throw ConnectError.invalidArgument(field: "url", error.description)
        }
        guard (16...200).contains(request.secret.utf8.count) else {
            throw ConnectError.invalidArgument(field: "secret", "must be 16 to 200 bytes")
        }
        var response = Pingan_Notify_V1_SubscribeResponse()
        response.subscription.id = try await store.subscribe(centre: centre, url: request.url, secret: request.secret).wire
        response.subscription.centreCode = centre.rawValue
        response.subscription.url = EgressPolicy.redacted(request.url)
        return response
    }

    /// Delivered by risk-service's outbox relay, never by people.
    func deliverWarning(_ request: Pingan_Notify_V1_DeliverWarningRequest, _ context: ConnectContext) async throws -> Pingan_Notify_V1_DeliverWarningResponse {
        let event = try verifier.eventDelivery(context)
        let warning = try UUID.field(request.warningID, "warning_id")
        let centre = try DivisionCode.field(request.centreCode, "centre_code")
        var response = Pingan_Notify_V1_DeliverWarningResponse()
        response.deliveries = Int32(try await store.queue(warning, type: "warning.raised", centre: centre, applying: event) { delivery in
            try WebhookPayload.warningRaised(request, delivery: delivery)
        })
        return response
    }

    /// Delivered by dispute-service's outbox relay: a case notice for a centre and the levels above.
    func deliverNotice(_ request: Pingan_Notify_V1_DeliverNoticeRequest, _ context: ConnectContext) async throws -> Pingan_Notify_V1_DeliverNoticeResponse {
        let event = try verifier.eventDelivery(context)
        guard Self.noticeTypes.contains(request.type) else {
            throw ConnectError.invalidArgument(field: "type", "must be one of \(Self.noticeTypes.sorted().joined(separator: ", "))")
        }
        _ = try UUID.field(request.caseID, "case_id")
        let centre = try DivisionCode.field(request.centreCode, "centre_code")
        var response = Pingan_Notify_V1_DeliverNoticeResponse()
        response.deliveries = Int32(try await store.queue(event.id, type: request.type, centre: centre, applying: event) { delivery in
            try WebhookPayload.notice(request, id: event.id, delivery: delivery)
        })
        return response
    }

    func listDeliveries(_ request: Pingan_Notify_V1_ListDeliveriesRequest, _ context: ConnectContext) async throws -> Pingan_Notify_V1_ListDeliveriesResponse {
        let principal = try verifier.principal(context, anyOf: [.admin, .staff, .leader])
        let warning = try UUID.field(request.warningID, "warning_id")
        var response = Pingan_Notify_V1_ListDeliveriesResponse()
        // A delivery is shown to a caller who covers both the centre it was queued for and the
        // subscription's own centre: subscriptions of the levels above stay theirs.
        response.deliveries = try await store.deliveries(of: warning).compactMap { row in
            guard let centre = row.centre, principal.covers(centre), let subscriber = row.subscriber, principal.covers(subscriber) else { return nil }
            return row.delivery
        }
        return response
    }
}
