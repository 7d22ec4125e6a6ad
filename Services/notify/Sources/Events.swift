import Foundation
import PinganConnect
import PinganContracts

/// The events notify-service takes part in.
///
/// It consumes two event methods, delivered by other services' outbox relays and applied
/// once each through its inbox (``NotifyServiceHandler``, ``DeliveryStore/queue(_:centre:applying:)``):
///
/// | method | payload | sent for the topic |
/// |---|---|---|
/// | ``deliverWarning`` | `DeliverWarningRequest` | risk-service's `warning.raised` |
/// | ``deliverNotice`` | `DeliverNoticeRequest` | dispute-service's `case.notice`, risk-service's `warning.notice`, index-service's `index.notice` |
///
/// It publishes no topics of its own: what it sends are pushes to subscribers, typed by
/// ``PushEvents``.
enum NotifyEvents {
    /// A warning was raised: pushed as `warning.raised` (``PushContent/init(warning:id:)``).
    static let deliverWarning: ConnectMethod<Pingan_Notify_V1_DeliverWarningRequest, Pingan_Notify_V1_DeliverWarningResponse> =
        NotifyServiceMethods.deliverWarning
    /// A notice for a centre and the levels above, its `type` one of ``PushEvents/notices``
    /// (``PushContent/init(notice:event:)``).
    static let deliverNotice: ConnectMethod<Pingan_Notify_V1_DeliverNoticeRequest, Pingan_Notify_V1_DeliverNoticeResponse> =
        NotifyServiceMethods.deliverNotice
}

/// The types of push a subscriber receives: a webhook's `type` and `X-Pingan-Event`, the
/// title of every other channel's message, and what a subscription's filter may name.
enum PushEvents {
    static let warningRaised = "warning.raised"
    static let warningEscalated = "warning.escalated"
    /// A cluster warning holds twice the cases it held when last pushed.
    static let warningGrew = "warning.grew"
    static let caseOverdue = "case.overdue"
    static let caseEscalated = "case.escalated"
    static let caseEscalationRequested = "case.escalation_requested"
    static let caseSummoned = "case.summoned"
    static let indexAction = "index.action"
    static let indexPublished = "index.published"

    /// A centre administrator's test of one subscription (`SendTestPush`). Not in ``all``: no
    /// filter names it and no event carries it, since it goes to the one subscription asked
    /// for, whatever its filters.
    static let test = "push.test"

    static let all: Set<String> = [warningRaised, warningEscalated, warningGrew, caseOverdue, caseEscalated, caseEscalationRequested, caseSummoned, indexAction, indexPublished]
    /// What `ListDeliveries` may be narrowed to: every push a subscriber receives, tests too.
    static let listed = all.union([test])
    /// What may arrive through ``NotifyEvents/deliverNotice``: every push but a raised warning.
    static let notices = all.subtracting([warningRaised])
    /// Notices about a raised warning, which may name it.
    static let aboutAWarning: Set<String> = [warningEscalated, warningGrew]
    /// Notices about the index concern a division, not a case.
    static let withoutCase: Set<String> = [indexAction, indexPublished]
}

extension PushContent {
    /// A raised warning (``NotifyEvents/deliverWarning``); its subject is the warning.
    init(warning request: Pingan_Notify_V1_DeliverWarningRequest, id warning: UUID) {
        self.init(
            type: PushEvents.warningRaised, subject: warning, caseID: request.caseID, centre: request.centreCode, village: request.villageCode,
            summary: "", score: Int(request.score), reasons: request.reasons, incidentID: request.incidentID, dueAt: "",
            category: request.category == .unspecified ? nil : request.category.rawValue, level: Self.level(request.level)
        )
        factors = request.factors.map { PushFactor(code: $0.code, points: Int($0.points), label: $0.label) }
        acknowledgeBy = request.acknowledgeBy
    }

    /// A notice (``NotifyEvents/deliverNotice``); a notice carries no id of its own, so its
    /// subject is the event that carried it. `warning` is the warning a warning's notice is
    /// about.
    init(notice request: Pingan_Notify_V1_DeliverNoticeRequest, event: UUID, warning: UUID? = nil) {
        self.init(
            type: request.type, subject: event, caseID: request.caseID, centre: request.centreCode, village: request.villageCode,
            summary: request.summary, score: nil, reasons: [], incidentID: "", dueAt: request.dueAt, category: nil,
            level: PushEvents.aboutAWarning.contains(request.type) ? Self.level(request.level) : nil
        )
        text = request.text
        warningID = warning
    }

    /// A test push to `subscription` (`SendTestPush`): its subject is its own delivery, so
    /// `ListDeliveries` finds it by the id `SendTestPush` answers. It names the subscription's
    /// centre and nothing else: no case, no village, no party, no score.
    init(testOf subscription: Subscription, delivery: UUID) {
        self.init(
            type: PushEvents.test, subject: delivery, caseID: "", centre: subscription.centre.rawValue, village: "",
            summary: "", score: nil, reasons: [], incidentID: "", dueAt: "", category: nil
        )
        text = Self.testText
    }

    /// What a test push says happened.
    static let testText = "这是一条测试推送，用于确认本订阅能收到平安的推送，不涉及任何案件或当事人，无需处理"

    /// The push with its centre's and village's names, where `names` has them.
    func named(_ names: [String: String]) -> PushContent {
        var named = self
        named.centreName = names[centre] ?? ""
        named.villageName = names[village] ?? ""
        return named
    }

    /// A level the sender set; an unset or unknown one is no level.
    private static func level(_ level: Pingan_Risk_V1_RiskLevel) -> Pingan_Risk_V1_RiskLevel? {
        switch level {
        case .general, .serious, .major: level
        case .unspecified, .UNRECOGNIZED: nil
        }
    }
}
