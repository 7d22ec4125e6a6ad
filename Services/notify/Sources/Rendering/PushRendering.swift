import Foundation

/// What each channel is sent, rendered once when a delivery is queued and stored, so every
/// retry sends the same bytes (and a webhook's signature stays the same). One file per
/// channel: ``WebhookMessage``, ``WeComMessage``, ``SMSMessage``, ``MailMessage``.
enum PushRendering {
    /// The stored payload of `delivery` to `subscription`, sent at `sentAt` (a webhook says when).
    static func body(_ content: PushContent, for subscription: Subscription, delivery: UUID, sentAt: Date, settings: PushSettings) -> String {
        switch subscription.channel {
        case .webhook: WebhookMessage.body(content, delivery: delivery, sentAt: sentAt, dashboard: settings.dashboardURL)
        case .wecom: WeComMessage.body(content, dashboard: settings.dashboardURL)
        case .sms: SMSMessage.body(content, to: subscription.phone, template: settings.smsTemplate, dashboard: settings.dashboardURL)
        case .email: MailMessage.message(content, to: subscription.email, from: settings.mailFrom, delivery: delivery, dashboard: settings.dashboardURL)
        }
    }

    /// The line that names the push in a message grouping several (WeCom's rate limit).
    static func digest(_ content: PushContent, settings: PushSettings) -> String {
        PushText(content, dashboard: settings.dashboardURL).digest
    }

    /// A push's type as centre staff read it, in every channel written for people.
    static func title(_ type: String) -> String {
        switch type {
        case PushEvents.warningRaised: "风险预警"
        case PushEvents.warningEscalated: "预警升级"
        case PushEvents.warningGrew: "预警扩大"
        case PushEvents.caseOverdue: "逾期提醒"
        case PushEvents.caseEscalated: "案件提级"
        case PushEvents.caseEscalationRequested: "请求提级"
        case PushEvents.caseSummoned: "吹哨报到"
        case PushEvents.indexAction: "指数处置"
        case PushEvents.indexPublished: "指数发布"
        case PushEvents.test: "测试推送"
        default: type
        }
    }
}
