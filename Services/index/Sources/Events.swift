import Foundation
import PinganConnect
import PinganContracts
import PinganDomain
import PinganOutbox
import PinganPostgres
import SwiftProtobuf

/// The events index-service takes part in, each with the message it carries.
///
/// It consumes none: it asks grid, dispute and risk for a month's facts when it computes the
/// month (``IndexPeers``), so nothing reaches it through an outbox.
///
/// It publishes one topic through its outbox, which `IndexApp` relays to notify-service,
/// in the transaction that freezes a month:
///
/// | topic | payload | delivered to |
/// |---|---|---|
/// | ``notice`` | `DeliverNoticeRequest` of type ``actionNotice`` (``action(_:)``) or ``publishedNotice`` (``published(_:)``) | `NotifyService/DeliverNotice` |
enum IndexEvents {
    /// A notice for a centre and the levels above that subscribe to it.
    static let notice = PublishedTopic(name: "index.notice", deliveredTo: NotifyServiceMethods.deliverNotice)

    /// The notice type of an action a frozen month created, for the centre that owns it.
    static let actionNotice = "index.action"
    /// The notice type of a frozen month's result, for each county's centre.
    static let publishedNotice = "index.published"

    /// An `index.action` notice: the centre that reviews the unit is told what is due, by
    /// whom and when.
    static func action(_ action: ThresholdActions.NewAction) -> Pingan_Notify_V1_DeliverNoticeRequest {
        var notice = Pingan_Notify_V1_DeliverNoticeRequest()
        notice.type = actionNotice
        notice.centreCode = action.centre.rawValue
        notice.villageCode = action.division
        notice.summary = "\(action.month) 指数 \(action.divisionName) \(action.score)分：\(action.kind.title)（\(action.owner)）"
        notice.dueAt = action.dueOn.start.wireTimestamp
        return notice
    }

    /// The `index.published` notices of a frozen month: one for each county of the
    /// deployment, addressed to the county's own centre (and so the levels above that
    /// subscribe), with its score and rank or that it had not enough data.
    static func published(_ month: Month, _ scored: [GovernanceIndex.Scored]) -> [Pingan_Notify_V1_DeliverNoticeRequest] {
        scored.compactMap { unit in
            guard let code = try? DivisionCode(validating: unit.code), code.level == .county else { return nil }
            var notice = Pingan_Notify_V1_DeliverNoticeRequest()
            notice.type = publishedNotice
            notice.centreCode = unit.code
            notice.villageCode = unit.code
            notice.summary = unit.enoughData
                ? "\(month) 指数已发布：\(unit.name) \(unit.score)分，第\(unit.rank)名（区间 \(unit.rankLow)–\(unit.rankHigh)）"
                : "\(month) 指数已发布：\(unit.name) 数据不足"
            return notice
        }
    }
}
