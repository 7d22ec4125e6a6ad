import Foundation
import PinganAccess
import PinganDomain
import PinganConnect
import PinganContracts
import PinganOutbox

/// `pingan.notify.v1.NotifyService`: one method per RPC, named as in the `.proto`.
struct NotifyServiceHandler: Sendable {
    let store: any DeliveryStore
    let egress: EgressPolicy
    let verifier: PrincipalVerifier
    /// The names a push says its centre and village by.
    var names: any DivisionNaming = FixedDivisionNames()
    /// The mesh's root (`ROOT_DIVISION`): its people may also subscribe the centre above it
    /// (``SubscriberScope``).
    var meshRoot: DivisionCode? = nil

    func scope(_ principal: Principal) -> SubscriberScope { SubscriberScope(principal, meshRoot: meshRoot) }

    func register(into routes: inout ConnectRoutes, events: inout EventConsumers) {
        routes.register(NotifyServiceMethods.subscribe) { try await subscribe($0, $1) }
        routes.register(NotifyServiceMethods.listSubscriptions) { try await listSubscriptions($0, $1) }
        routes.register(NotifyServiceMethods.updateSubscription) { try await updateSubscription($0, $1) }
        routes.register(NotifyServiceMethods.rotateSecret) { try await rotateSecret($0, $1) }
        routes.register(NotifyServiceMethods.unsubscribe) { try await unsubscribe($0, $1) }
        routes.register(NotifyServiceMethods.pauseSubscription) { request, context in
            let subscription = try await pause(request.subscriptionID, true, context, NotifyServiceMethods.pauseSubscription)
            return .with { $0.subscription = subscription }
        }
        routes.register(NotifyServiceMethods.resumeSubscription) { request, context in
            let subscription = try await pause(request.subscriptionID, false, context, NotifyServiceMethods.resumeSubscription)
            return .with { $0.subscription = subscription }
        }
        routes.register(NotifyServiceMethods.sendTestPush) { try await sendTestPush($0, $1) }
        events.on(NotifyEvents.deliverWarning) { request, event, _ in try await deliverWarning(request, event) }
        events.on(NotifyEvents.deliverNotice) { request, event, _ in try await deliverNotice(request, event) }
        routes.register(NotifyServiceMethods.listDeliveries) { try await listDeliveries($0, $1) }
    }

    func subscribe(_ request: Pingan_Notify_V1_SubscribeRequest, _ context: ConnectContext) async throws -> Pingan_Notify_V1_SubscribeResponse {
        let principal = try verifier.principal(context, for: NotifyServiceMethods.subscribe)
        let centre = try DivisionCode.field(request.centreCode, "centre_code")
        try scope(principal).require(centre, field: "centre_code")
        let channel: PushChannel
        switch request.channel {
        case .unspecified, .webhook: channel = .webhook
        case .wecom: channel = .wecom
        case .sms: channel = .sms
        case .email: channel = .email
        case .UNRECOGNIZED(let value): throw ConnectError.invalidArgument(field: "channel", "unknown value \(value)")
        }
        let email = request.email.trimmingCharacters(in: .whitespaces)
        if channel == .email {
            // E-mail goes through the deployment's SMTP server, not to a URL.
            guard request.url.isEmpty else { throw ConnectError.invalidArgument(field: "url", "an e-mail subscription has no url") }
            let parts = email.split(separator: "@")
            guard email.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
                  email.allSatisfy({ $0.isASCII && !$0.isWhitespace && !"<>,;\"".contains($0) })
            else { throw ConnectError.invalidArgument(field: "email", "an e-mail subscription needs an address such as centre@example.org") }
        } else {
            guard email.isEmpty else { throw ConnectError.invalidArgument(field: "email", "only an e-mail subscription has an address") }
            guard request.url.utf8.count <= 2000 else { throw ConnectError.invalidArgument(field: "url", "is longer than 2000 characters") }
            do {
                try await egress.check(request.url)
            } catch {
                throw ConnectError.invalidArgument(field: "url", error.description)
            }
        }
        // Only a webhook is signed: the other channels' receivers check no signature, so a
        // secret given for one is not kept (ignored rather than refused, so subscribers that
        // always sent one keep working).
        let secret = channel == .webhook ? request.secret : ""
        if channel == .webhook { try Self.secret(request.secret, field: "secret") }
        let phone = request.phone.trimmingCharacters(in: .whitespaces)
        if channel == .sms {
            guard (5...20).contains(phone.count), phone.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "+") }) else {
                throw ConnectError.invalidArgument(field: "phone", "an SMS subscription needs a phone number of 5 to 20 digits")
            }
        } else if !phone.isEmpty {
            throw ConnectError.invalidArgument(field: "phone", "only an SMS subscription has a phone number")
        }
        let subscription = try await store.subscribe(
            centre: centre, url: request.url, secret: secret, channel: channel,
            filter: try Self.filter(request.eventTypes, request.minScore, request.categories), phone: phone, email: email
        )
        var response = Pingan_Notify_V1_SubscribeResponse()
        response.subscription = subscription.wire
        return response
    }

    func listSubscriptions(_ request: Pingan_Notify_V1_ListSubscriptionsRequest, _ context: ConnectContext) async throws -> Pingan_Notify_V1_ListSubscriptionsResponse {
        let scope = scope(try verifier.principal(context, for: NotifyServiceMethods.listSubscriptions))
        let centre = try DivisionCode.field(request.centreCode, "centre_code")
        try scope.require(centre, field: "centre_code")
        let limit = try PageSize.field(request.pageSize, default: 50, max: 200)
        let rows = try await store.subscriptions(
            under: centre, also: scope.alsoListed(with: centre), after: try PageCursor(token: request.pageToken), limit: limit + 1
        )
        var response = Pingan_Notify_V1_ListSubscriptionsResponse()
        let page = Page(rows, limit: limit, cursor: \.cursor)
        response.subscriptions = page.items.map(\.subscription.wire)
        response.nextPageToken = page.nextPageToken
        return response
    }

    func updateSubscription(_ request: Pingan_Notify_V1_UpdateSubscriptionRequest, _ context: ConnectContext) async throws -> Pingan_Notify_V1_UpdateSubscriptionResponse {
        let principal = try verifier.principal(context, for: NotifyServiceMethods.updateSubscription)
        let id = try UUID.field(request.subscriptionID, "subscription_id")
        _ = try scope(principal).visible(try await store.subscription(id), "subscription \(request.subscriptionID)")
        let filter = try Self.filter(request.eventTypes, request.minScore, request.categories)
        var response = Pingan_Notify_V1_UpdateSubscriptionResponse()
        response.subscription = try scope(principal).visible(try await store.update(id, filter: filter), "subscription \(request.subscriptionID)").wire
        return response
    }

    /// A webhook subscription's new secret; the old one signs beside it for the overlap.
    func rotateSecret(_ request: Pingan_Notify_V1_RotateSecretRequest, _ context: ConnectContext) async throws -> Pingan_Notify_V1_RotateSecretResponse {
        let principal = try verifier.principal(context, for: NotifyServiceMethods.rotateSecret)
        let id = try UUID.field(request.subscriptionID, "subscription_id")
        try Self.secret(request.secret, field: "secret")
        guard (0...604_800).contains(request.overlapSeconds) else {
            throw ConnectError.invalidArgument(field: "overlap_seconds", "must be 0 to 604800")
        }
        let subscription = try scope(principal).visible(try await store.subscription(id), "subscription \(request.subscriptionID)")
        guard subscription.channel == .webhook else {
            throw ConnectError(.failedPrecondition, "subscription \(request.subscriptionID) is a \(subscription.channel.rawValue) subscription, which is not signed")
        }
        let overlap = request.overlapSeconds == 0 ? 86_400 : Int(request.overlapSeconds)
        var response = Pingan_Notify_V1_RotateSecretResponse()
        response.subscription = try scope(principal).visible(
            try await store.rotate(id, secret: request.secret, overlap: overlap), "subscription \(request.subscriptionID)"
        ).wire
        return response
    }

    /// Checks a signing secret's form (``WebhookSecret``); `invalid_argument` naming `field`.
    static func secret(_ text: String, field: String) throws {
        do {
            _ = try WebhookSecret(text, field: field)
        } catch {
            throw ConnectError.invalidArgument(field: field, error.problem)
        }
    }

    func unsubscribe(_ request: Pingan_Notify_V1_UnsubscribeRequest, _ context: ConnectContext) async throws -> Pingan_Notify_V1_UnsubscribeResponse {
        let principal = try verifier.principal(context, for: NotifyServiceMethods.unsubscribe)
        let id = try UUID.field(request.subscriptionID, "subscription_id")
        _ = try scope(principal).visible(try await store.subscription(id), "subscription \(request.subscriptionID)")
        try await store.unsubscribe(id)
        return Pingan_Notify_V1_UnsubscribeResponse()
    }

    /// Pauses or resumes the subscription `subscriptionID`, for `PauseSubscription` and
    /// `ResumeSubscription` (`method`).
    func pause<Input, Output>(
        _ subscriptionID: String, _ paused: Bool, _ context: ConnectContext, _ method: ConnectMethod<Input, Output>
    ) async throws -> Pingan_Notify_V1_Subscription {
        let principal = try verifier.principal(context, for: method)
        let id = try UUID.field(subscriptionID, "subscription_id")
        _ = try scope(principal).visible(try await store.subscription(id), "subscription \(subscriptionID)")
        return try scope(principal).visible(try await store.pause(id, paused), "subscription \(subscriptionID)").wire
    }

    /// One push labelled 测试推送 to one subscription, so an administrator sees from its
    /// delivery (``listDeliveries(_:_:)``) whether the channel works. The channel's own
    /// renderer writes it and the workers send it like any push, so a webhook's test is signed
    /// with the subscription's secret and a robot's waits its turn. It carries no case and no
    /// party, only the centre's name.
    func sendTestPush(_ request: Pingan_Notify_V1_SendTestPushRequest, _ context: ConnectContext) async throws -> Pingan_Notify_V1_SendTestPushResponse {
        let principal = try verifier.principal(context, for: NotifyServiceMethods.sendTestPush)
        let id = try UUID.field(request.subscriptionID, "subscription_id")
        let subscription = try scope(principal).visible(try await store.subscription(id), "subscription \(request.subscriptionID)")
        // A test of a paused subscription would wait with its other deliveries and say nothing.
        guard subscription.pausedAt == nil else {
            throw ConnectError(.failedPrecondition, "subscription \(request.subscriptionID) is paused; resume it (ResumeSubscription) to test it")
        }
        let content = PushContent(testOf: subscription, delivery: UUID.random())
        try await store.queueTest(content.named(await names.names(of: [content.centre])), to: subscription)
        var response = Pingan_Notify_V1_SendTestPushResponse()
        response.deliveryID = content.subject.wire
        return response
    }

    static func filter(_ types: [String], _ minScore: Int32, _ categories: [Pingan_Grid_V1_IncidentCategory]) throws -> SubscriptionFilter {
        for (index, type) in types.enumerated() where !PushEvents.all.contains(type) {
            throw ConnectError.invalidArgument(field: "event_types[\(index)]", "must be one of \(PushEvents.all.sorted().joined(separator: ", "))")
        }
        guard (0...100).contains(minScore) else { throw ConnectError.invalidArgument(field: "min_score", "must be between 0 and 100") }
        let values = try categories.enumerated().map { try ReportFields.category($1, field: "categories[\($0)]").rawValue }
        return SubscriptionFilter(eventTypes: Array(Set(types)).sorted(), minScore: Int(minScore), categories: Array(Set(values)).sorted())
    }

    /// Delivered by risk-service's outbox relay, never by people.
    func deliverWarning(_ request: Pingan_Notify_V1_DeliverWarningRequest, _ event: EventDelivery) async throws -> Pingan_Notify_V1_DeliverWarningResponse {
        let warning = try UUID.field(request.warningID, "warning_id")
        let owner = try DivisionCode.field(request.centreCode, "centre_code")
        // A decisive warning reaches the village's own centre too; its chain of centres holds
        // the owner's. The push names the owner either way.
        var reaches = owner
        if request.decisive {
            let village = try DivisionCode.field(request.villageCode, "village_code")
            guard owner.contains(village) else { throw ConnectError.invalidArgument(field: "village_code", "\(village) is not under centre \(owner)") }
            reaches = village
        }
        var response = Pingan_Notify_V1_DeliverWarningResponse()
        let content = PushContent(warning: request, id: warning)
        let named = content.named(await names.names(of: [content.centre, content.village]))
        response.deliveries = Int32(try await store.queue(named, centre: reaches, applying: event))
        return response
    }

    /// Delivered by the outbox relays of dispute-, risk- and index-service (``NotifyEvents``): a
    /// notice for a centre and the levels above.
    func deliverNotice(_ request: Pingan_Notify_V1_DeliverNoticeRequest, _ event: EventDelivery) async throws -> Pingan_Notify_V1_DeliverNoticeResponse {
        guard PushEvents.notices.contains(request.type) else {
            throw ConnectError.invalidArgument(field: "type", "must be one of \(PushEvents.notices.sorted().joined(separator: ", "))")
        }
        if PushEvents.withoutCase.contains(request.type) {
            guard request.caseID.isEmpty else { throw ConnectError.invalidArgument(field: "case_id", "a \(request.type) notice is about a division, not a case") }
        } else {
            _ = try UUID.field(request.caseID, "case_id")
        }
        var warning: UUID?
        if !request.warningID.isEmpty {
            guard PushEvents.aboutAWarning.contains(request.type) else {
                throw ConnectError.invalidArgument(field: "warning_id", "only a warning.escalated or warning.grew notice names a warning")
            }
            warning = try UUID.field(request.warningID, "warning_id")
        }
        let centre = try DivisionCode.field(request.centreCode, "centre_code")
        var response = Pingan_Notify_V1_DeliverNoticeResponse()
        let content = PushContent(notice: request, event: event.id, warning: warning)
        let named = content.named(await names.names(of: [content.centre, content.village]))
        response.deliveries = Int32(try await store.queue(named, centre: centre, applying: event))
        return response
    }

    /// Deliveries by warning, by case, by centre, or several of them at once, narrowed by the
    /// push's type. A delivery is shown to a caller who covers the subscription's own centre
    /// (and so the centre it was queued for, below it): subscriptions of the levels above stay
    /// theirs. A warning or case the caller sees nothing of answers an empty list, as a
    /// warning or case that was never pushed does; a centre outside the caller's subtree is
    /// `permission_denied`, as everywhere a request names a division.
    func listDeliveries(_ request: Pingan_Notify_V1_ListDeliveriesRequest, _ context: ConnectContext) async throws -> Pingan_Notify_V1_ListDeliveriesResponse {
        let principal = try verifier.principal(context, for: NotifyServiceMethods.listDeliveries)
        let filter = try DeliveryFilter(request)
        let scope = scope(principal)
        if let centre = filter.centre { try scope.require(centre, field: "centre_code") }
        let limit = try PageSize.field(request.pageSize, default: 50, max: 200)
        let rows = try await store.deliveries(
            filter, within: principal.centre, also: scope.above, after: try PageCursor(token: request.pageToken), limit: limit + 1
        )
        var response = Pingan_Notify_V1_ListDeliveriesResponse()
        // The store shows only the caller's subtree; checking again here keeps a delivery
        // whose stored centre is unreadable hidden from everyone.
        let page = Page(rows, limit: limit, cursor: \.cursor)
        response.deliveries = page.items.compactMap { delivery in
            guard let centre = delivery.centre, scope.covers(centre), let subscriber = delivery.subscriber, scope.covers(subscriber) else { return nil }
            return delivery.wire
        }
        response.nextPageToken = page.nextPageToken
        return response
    }
}

extension Delivery {
    /// A delivery as `ListDeliveries` answers it; its subject travels as `warning_id`.
    var wire: Pingan_Notify_V1_Delivery {
        var value = Pingan_Notify_V1_Delivery()
        value.id = id.wire
        value.warningID = subject.wire
        value.subscriptionID = subscription.wire
        value.attempts = Int32(attempts)
        value.deliveredAt = deliveredAt?.wireTimestamp ?? ""
        value.lastError = lastError ?? ""
        value.eventType = event
        value.caseID = caseID?.wire ?? ""
        return value
    }
}

extension Subscription {
    var wire: Pingan_Notify_V1_Subscription {
        var value = Pingan_Notify_V1_Subscription()
        value.id = id.wire
        value.centreCode = centre.rawValue
        value.url = EgressPolicy.redacted(url)
        value.channel = switch channel {
        case .webhook: .webhook
        case .wecom: .wecom
        case .sms: .sms
        case .email: .email
        }
        value.eventTypes = filter.eventTypes
        value.minScore = Int32(filter.minScore)
        value.categories = filter.categories.compactMap(Pingan_Grid_V1_IncidentCategory.init(rawValue:))
        value.phone = Masking.phone(phone)
        value.email = email.isEmpty ? "" : Masking.name(String(email.prefix { $0 != "@" })) + String(email.drop { $0 != "@" })
        value.pausedAt = pausedAt?.wireTimestamp ?? ""
        return value
    }
}
