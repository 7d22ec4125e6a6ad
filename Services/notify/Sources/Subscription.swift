import Foundation
import PinganConnect
import PinganDomain

/// How a subscriber is reached.
enum PushChannel: String, Sendable {
    /// Pingan's JSON, signed.
    case webhook
    /// A WeCom group robot's webhook: markdown.
    case wecom
    /// An HTTP SMS gateway: a phone number and a text.
    case sms
    /// E-mail through the deployment's SMTP server.
    case email
}

/// How pushes are rendered and sent beyond the subscription itself.
struct PushSettings: Sendable {
    /// The template name sent to the SMS gateway.
    var smsTemplate = "pingan-notice"
    /// The SMTP server (`smtp://host:port`) and the sender of e-mails.
    var smtpURL = "smtp://127.0.0.1:25"
    var mailFrom = "pingan@localhost"
    /// Where people open the dashboard (`DASHBOARD_URL`): every push links to a page under it.
    var dashboardURL = PushSettings.defaultDashboardURL

    /// The gateway on its default port on this host: right for a single-machine trial only.
    static let defaultDashboardURL = "http://127.0.0.1:8080"
}

/// Which pushes a subscriber wants; empty lists admit everything.
struct SubscriptionFilter: Sendable, Equatable {
    var eventTypes: [String] = []
    /// Warnings below this score are not pushed; notices have no score and always pass.
    var minScore = 0
    /// Warnings of these categories only (their wire values); notices always pass.
    var categories: [Int] = []

    func admits(_ content: PushContent) -> Bool {
        guard eventTypes.isEmpty || eventTypes.contains(content.type) else { return false }
        if let score = content.score, score < minScore { return false }
        if let category = content.category, !categories.isEmpty, !categories.contains(category) { return false }
        return true
    }
}

/// A centre's subscription to the pushes about its subtree.
struct Subscription: Sendable {
    let id: UUID
    let centre: DivisionCode
    let url: String
    let channel: PushChannel
    var filter: SubscriptionFilter
    /// The SMS recipient; empty for other channels.
    let phone: String
    /// The e-mail recipient; empty for other channels.
    let email: String
    /// When an administrator paused it; `nil` while it is pushed to.
    var pausedAt: Date? = nil
}
