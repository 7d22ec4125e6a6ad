import Foundation
import PinganAccess
import PinganConnect
import PinganContracts

/// Where a centre's pushes go (`/ui/admin/subscriptions`), for its administrators: the
/// subscriptions of the subtree on every channel (webhook, WeCom robot, SMS, e-mail), a form
/// to add one, and per subscription its push types, a new signing secret (webhooks), a test
/// push, pausing and resuming it, and unsubscribing.
///
/// Built from `NotifyService` as the signed-in person calls it through the gateway's door
/// (``DashboardClient``), so the page shows and does exactly what that person may through
/// the API; a test push's outcome is its delivery as `ListDeliveries` answers it.
struct SubscriptionsPage {
    /// A push type as a checkbox, ticked when the subscription (or what was typed) names it.
    struct EventOption { let value: String, label: String, checked: Bool }
    /// A channel as a radio button of the subscribe form.
    struct ChannelOption { let value: String, label: String, checked: Bool }

    struct Row {
        let id: String, centre: String, channel: String, target: String
        /// Whether it is signed, and so offers a new secret.
        let isWebhook: Bool
        let events: [EventOption]
        /// "全部类型" or the types' names.
        let eventsShown: String
        let minScore: Int32
        let hasMinScore: Bool
        /// The category filter's wire values, carried through the push-type form, since
        /// `UpdateSubscription` replaces all three filters at once.
        let categories: [Int]
        /// Paused by an administrator, and since when (China time): its pushes wait.
        let paused: Bool
        let pausedSince: String
        var error = ""
        var hasError = false
        /// The latest test push's outcome, when the address names one of this row's.
        var test = ""
        var hasTest = false
        var testDelivered = false
    }

    /// What was typed into the subscribe form, kept when it is refused. The secret is not:
    /// the page never writes a signing key back into HTML.
    struct Typed: Equatable {
        var channel = "webhook"
        var centre = ""
        var url = ""
        var phone = ""
        var email = ""
        var events: Set<String> = []
        var minScore = ""
    }

    /// A refusal, beside the form it answers: `subscribe`, or a subscription's id.
    struct Refusal: Equatable { let form: String, message: String }

    /// A test push's delivery as the page reports it.
    struct TestOutcome: Equatable {
        let subscription: String
        let delivered: Bool
        let text: String
    }

    /// How many subscriptions the page lists; the API pages through the rest.
    static let listed = 200

    /// Push types a subscription may name, in the order the page offers them.
    static let eventTypes = [
        "warning.raised", "warning.escalated", "warning.grew", "case.overdue", "case.escalated", "case.escalation_requested", "case.summoned",
        "index.action", "index.published",
    ]

    /// The centre whose subtree is listed.
    let centre: String
    var rows: [Row]
    let more: Bool
    let csrf: String
    var typed = Typed()
    var notice = ""
    var refusal: Refusal?

    /// The page is for those who decide where pushes go: the roles table's `Subscribe`.
    static func isOffered(to principal: Principal) -> Bool {
        MethodRoles.allows(principal, NotifyServiceMethods.subscribe.path)
    }

    static func load(centre: String, csrf: String, client: DashboardClient) async throws -> SubscriptionsPage {
        let listed = try await client.call(NotifyServiceMethods.listSubscriptions, .with { $0.centreCode = centre; $0.pageSize = Int32(Self.listed) })
        return SubscriptionsPage(
            centre: centre, rows: listed.subscriptions.map(row), more: !listed.nextPageToken.isEmpty, csrf: csrf, typed: Typed(centre: centre)
        )
    }

    static func row(_ subscription: Pingan_Notify_V1_Subscription) -> Row {
        let named = Set(subscription.eventTypes)
        let target = switch subscription.channel {
        case .sms: subscription.phone
        case .email: subscription.email
        default: subscription.url
        }
        return Row(
            id: subscription.id, centre: subscription.centreCode, channel: SubscriptionWords.channel(subscription.channel), target: target,
            isWebhook: subscription.channel == .webhook || subscription.channel == .unspecified,
            events: eventTypes.map { EventOption(value: $0, label: SubscriptionWords.event($0), checked: named.contains($0)) },
            eventsShown: named.isEmpty ? "全部类型" : eventTypes.filter(named.contains).map(SubscriptionWords.event).joined(separator: "、"),
            minScore: subscription.minScore, hasMinScore: subscription.minScore > 0, categories: subscription.categories.map(\.rawValue),
            paused: !subscription.pausedAt.isEmpty, pausedSince: Labels.time(subscription.pausedAt)
        )
    }

    /// The test push `delivery`'s outcome, once it has one or after `patience`: a test sent
    /// from the page usually arrives within a second, and the page then says so at once.
    static func outcome(
        of delivery: String, client: DashboardClient, patience: Duration = .zero, interval: Duration = .milliseconds(250)
    ) async throws -> TestOutcome? {
        let clock = ContinuousClock()
        let until = clock.now + patience
        while true {
            let found = try await client.call(NotifyServiceMethods.listDeliveries, .with { $0.warningID = delivery; $0.eventType = SubscriptionWords.testType })
                .deliveries.first { $0.id == delivery }
            guard let found else { return nil }
            if !found.deliveredAt.isEmpty || found.attempts > 0 || clock.now >= until {
                return TestOutcome(subscription: found.subscriptionID, delivered: !found.deliveredAt.isEmpty, text: SubscriptionWords.outcome(found))
            }
            try await Task.sleep(for: interval)
        }
    }

    /// Puts `outcome` on its subscription's row.
    mutating func show(_ outcome: TestOutcome) {
        rows = rows.map { row in
            guard row.id == outcome.subscription else { return row }
            var row = row
            row.test = outcome.text
            row.hasTest = true
            row.testDelivered = outcome.delivered
            return row
        }
    }
}
