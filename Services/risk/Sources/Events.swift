import Foundation
import PinganConnect
import PinganContracts
import PinganDomain
import PinganOutbox
import PinganPostgres
import SwiftProtobuf

/// The events risk-service takes part in, each with the message it carries.
///
/// It consumes one event method, delivered by dispute-service's outbox relay and applied once
/// through the inbox (``RiskServiceHandler/assessCase(_:_:)``):
///
/// | method | payload | sent for dispute-service's topics |
/// |---|---|---|
/// | ``assessCase`` | `AssessCaseRequest` | `case.opened`, `case.changed` |
///
/// It publishes two topics through its outbox, which `RiskApp` relays to notify-service:
///
/// | topic | payload | delivered to |
/// |---|---|---|
/// | ``raised`` | `DeliverWarningRequest` (``raised(_:case:owner:decisive:)``), with the warning's level | `NotifyService/DeliverWarning` |
/// | ``notice`` | `DeliverNoticeRequest` of type `warning.escalated` (``escalated(_:case:centre:village:summary:level:text:due:)``) or `warning.grew` (``clusterGrew(_:from:)``) | `NotifyService/DeliverNotice` |
enum WarningEvents {
    /// A case's facts changed: score it (``AssessedCase``).
    static let assessCase: ConnectMethod<Pingan_Risk_V1_AssessCaseRequest, Pingan_Risk_V1_AssessCaseResponse> = RiskServiceMethods.assessCase

    /// A warning was raised; notify-service pushes it to the centre's subscribers.
    static let raised = PublishedTopic(name: "warning.raised", deliveredTo: NotifyServiceMethods.deliverWarning)
    /// A notice about a warning (escalated, score risen) for a centre and the levels above.
    static let notice = PublishedTopic(name: "warning.notice", deliveredTo: NotifyServiceMethods.deliverNotice)

    /// What notify-service is told about a raised warning: pushed to its owner and the levels
    /// above it, and to the village's own centre when it is decisive.
    ///
    /// - Parameters:
    ///   - owner: the centre that owns the warning, named as its centre in every push.
    ///   - decisive: a decisive factor warned, so the village's own centre is pushed it too.
    ///   - acknowledgeBy: when the warning escalates unless someone acknowledges it.
    static func raised(
        _ warning: UUID, case scored: ScoredCase, owner: DivisionCode, decisive: Bool, acknowledgeBy: Date? = nil
    ) -> Pingan_Notify_V1_DeliverWarningRequest {
        let score = scored.score
        var event = Pingan_Notify_V1_DeliverWarningRequest()
        event.warningID = warning.wire
        event.caseID = scored.assessed.id.wire
        event.centreCode = owner.rawValue
        event.decisive = decisive
        event.villageCode = scored.assessed.village.rawValue
        event.incidentID = scored.assessed.facts.incidentID?.wire ?? ""
        event.score = Int32(clamping: score.score)
        event.reasons = score.reasons.map { "\($0.rule) +\($0.points): \($0.explanation)" }
        event.category = scored.assessed.facts.category
        event.level = score.level.wire
        // Beside the English reasons (a webhook's stable `reasons`), what people read.
        event.factors = score.reasons.map { reason in
            var factor = Pingan_Notify_V1_WarningFactor()
            factor.code = reason.rule
            factor.points = Int32(clamping: reason.points)
            factor.label = reason.label
            return factor
        }
        event.acknowledgeBy = acknowledgeBy?.wireTimestamp ?? ""
        return event
    }

    /// A `warning.escalated` notice for `centre` and the levels above it, with the warning's
    /// level, `text` (what people read, in Chinese) and `due` (when it escalates again unless
    /// acknowledged), beside the English `summary` webhooks have always carried.
    static func escalated(
        _ warning: UUID, case caseID: UUID, centre: DivisionCode, village: DivisionCode, summary: String, level: RiskLevel, text: String = "", due: Date? = nil
    ) -> Pingan_Notify_V1_DeliverNoticeRequest {
        var notice = Pingan_Notify_V1_DeliverNoticeRequest()
        notice.type = "warning.escalated"
        notice.warningID = warning.wire
        notice.caseID = caseID.wire
        notice.centreCode = centre.rawValue
        notice.villageCode = village.rawValue
        notice.summary = summary
        notice.level = level.wire
        notice.text = text
        notice.dueAt = due?.wireTimestamp ?? ""
        return notice
    }
}

extension WarningEvents {
    /// What notify-service is told about a cluster warning, once, when its group wait is over:
    /// pushed to its owner and the levels above it like a case's warning, its member cases
    /// named in the reasons (a webhook's stable English lines), the rule's label as its one
    /// factor (what people read). It names no case of its own.
    static func clusterRaised(_ cluster: DueCluster) -> Pingan_Notify_V1_DeliverWarningRequest {
        var event = Pingan_Notify_V1_DeliverWarningRequest()
        event.warningID = cluster.id.wire
        event.centreCode = cluster.centre.rawValue
        event.villageCode = cluster.scope.level == .village ? cluster.scope.rawValue : ""
        event.score = Int32(clamping: cluster.score)
        event.level = cluster.level.wire
        event.category = cluster.category ?? .unspecified
        event.reasons = [
            "cluster \(cluster.rule) (rules \(cluster.rulesVersion)): \(cluster.count) cases under \(cluster.scope)",
            "member cases: " + cluster.members.map(\.wire).joined(separator: ", "),
        ]
        var factor = Pingan_Notify_V1_WarningFactor()
        factor.code = cluster.rule
        factor.points = Int32(clamping: cluster.count)
        factor.label = "\(cluster.label)（关联案件\(cluster.count)起）"
        event.factors = [factor]
        event.acknowledgeBy = cluster.escalatesAt?.wireTimestamp ?? ""
        return event
    }

    /// A `warning.grew` notice: a cluster warning pushed with `before` cases now holds twice
    /// as many or more, pushed to the centre it warns now and the levels above. It names the
    /// member that joined last as its case, the one people open first, and says what the
    /// cluster was.
    static func clusterGrew(_ cluster: DueCluster, from before: Int) -> Pingan_Notify_V1_DeliverNoticeRequest {
        var notice = Pingan_Notify_V1_DeliverNoticeRequest()
        notice.type = "warning.grew"
        notice.warningID = cluster.id.wire
        notice.caseID = cluster.members.last?.wire ?? ""
        notice.centreCode = cluster.centre.rawValue
        notice.villageCode = cluster.scope.level == .village ? cluster.scope.rawValue : ""
        notice.summary = "cluster \(cluster.rule) (rules \(cluster.rulesVersion)) \(cluster.id.wire): \(cluster.count) cases under \(cluster.scope), \(before) when last pushed"
        notice.text = "\(cluster.label)：关联案件已增至\(cluster.count)起（上次推送时\(before)起），请研判是否提级处置"
        notice.level = cluster.level.wire
        notice.dueAt = cluster.escalatesAt?.wireTimestamp ?? ""
        return notice
    }
}
