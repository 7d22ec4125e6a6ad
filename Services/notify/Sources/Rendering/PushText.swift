import Foundation
import PinganConnect
import PinganDomain

/// What a push says to people, in Chinese, whatever the channel: the pieces each channel's
/// renderer (``WeComMessage``, ``SMSMessage``, ``MailMessage``) lays out within its limits,
/// and the `text` a webhook carries beside its codes.
///
/// People never read the risk model's English: a warning's reasons are said by their labels
/// from the model data (``PushFactor``), and a producer's line reaches people only when it
/// has no Latin letter in it (``isChinese(_:)``): otherwise the push says what happened from
/// its type. No party's name or phone is ever in a push: the events carry none, and the
/// free text of a case's summary (a reason someone typed) is kept for webhooks only.
struct PushText: Sendable {
    let content: PushContent
    /// Where people open the dashboard (`DASHBOARD_URL`), without a trailing slash.
    let dashboard: String

    init(_ content: PushContent, dashboard: String) {
        self.content = content
        self.dashboard = dashboard.hasSuffix("/") ? String(dashboard.dropLast()) : dashboard
    }

    /// 风险预警, 逾期提醒, ...
    var title: String { PushRendering.title(content.type) }

    /// The centre by name (its code when it has none).
    var centre: String { content.centreName.isEmpty ? content.centre : content.centreName }

    /// The village (or, for the index, the unit) by name; empty when the push names none or
    /// names the centre itself.
    var village: String {
        guard !content.village.isEmpty, content.village != content.centre else { return "" }
        return content.villageName.isEmpty ? content.village : content.villageName
    }

    /// `鼎城区 · 花岩溪镇` or the centre alone.
    var place: String { village.isEmpty ? centre : "\(centre) · \(village)" }

    /// `重大（65分）`, `重大`, `65分`, or `nil` for a push with neither.
    var risk: String? {
        switch (content.levelWord, content.score) {
        case let (word?, score?): "\(word)（\(score)分）"
        case let (word?, nil): word
        case let (nil, score?): "\(score)分"
        case (nil, nil): nil
        }
    }

    /// The warning's reasons by their labels, biggest first (`有自伤、自杀言行 +50`); none
    /// for a warning from a producer that sent no labels, whose reasons are English.
    var reasons: [String] {
        content.factors.filter { Self.isChinese($0.label) && !$0.label.isEmpty }
            .sorted { $0.points > $1.points }
            .map { "\($0.label) +\($0.points)" }
    }

    /// What happened, in one sentence.
    var what: String {
        if Self.isChinese(content.text), !content.text.isEmpty { return content.text }
        if PushEvents.withoutCase.contains(content.type), Self.isChinese(content.summary), !content.summary.isEmpty { return content.summary }
        return switch content.type {
        case PushEvents.warningRaised: "案件风险达到预警条件，请及时签收处置"
        case PushEvents.warningEscalated: "预警已升级，请及时签收处置"
        case PushEvents.warningGrew: "预警关联案件成倍增加，请研判是否提级处置"
        case PushEvents.caseOverdue: "案件有办理步骤已逾期，请尽快处理"
        case PushEvents.caseEscalated: "案件已提级，由本中心统筹化解"
        case PushEvents.caseEscalationRequested: "下级中心请求提级处置，请研判"
        case PushEvents.caseSummoned: "中心已吹哨，被吹哨部门须按期报到并反馈"
        case PushEvents.indexAction: "社会治理指数触发处置，请按期落实"
        case PushEvents.indexPublished: "本月社会治理指数已发布"
        default: "有新的推送"
        }
    }

    /// What is due and by when, in China time: `请于11月28日 14:35前签收`, `期限：11月28日 14:05`.
    var due: String? {
        if let by = Self.chinaTime(content.acknowledgeBy) { return "请于\(by)前签收，逾期未签收将升级" }
        if let by = Self.chinaTime(content.dueAt) { return "期限：\(by)（北京时间）" }
        return nil
    }

    /// `11月28日 14:05` of an RFC 3339 timestamp; `nil` for an empty or unreadable one.
    static func chinaTime(_ wire: String) -> String? {
        guard !wire.isEmpty, let date = Date(wireTimestamp: wire) else { return nil }
        return ChinaTime.monthDayMinute(date)
    }

    /// The dashboard page of the case, of the centre's index for the index's notices, or of
    /// the centre's subscriptions for a test push.
    var link: String {
        if content.type == PushEvents.test { return "\(dashboard)/ui/admin/subscriptions?centre=\(content.centre)" }
        if !content.caseID.isEmpty { return "\(dashboard)/ui/cases/\(content.caseID)" }
        return "\(dashboard)/ui/index?centre=\(content.centre)"
    }

    /// One line naming the push, for a message that groups several (``WeComMessage/grouped(_:count:link:)``).
    var digest: String {
        let shortCase = content.caseID.isEmpty ? "" : " · 案件\(content.caseID.prefix(8))"
        return "\(title) · \(place)\(risk.map { " · \($0)" } ?? "")\(shortCase)"
    }

    /// The plain text people read: the e-mail's body and a webhook's `text`.
    var plain: String {
        var lines = ["平安 · \(title)", "中心：\(centre)"]
        if !village.isEmpty { lines.append("村（社区）：\(village)") }
        if let risk { lines.append("风险等级：\(risk)") }
        if !reasons.isEmpty { lines.append("依据：\(reasons.joined(separator: "；"))") }
        lines.append("事由：\(what)")
        if let due { lines.append(due) }
        lines.append("查看：\(link)")
        return lines.joined(separator: "\n")
    }

    /// True when `text` has no Latin letter: Chinese, digits and punctuation. A line with one
    /// is a model's or a program's English, which people are not shown.
    static func isChinese(_ text: String) -> Bool {
        !text.unicodeScalars.contains { ("a"..."z").contains($0) || ("A"..."Z").contains($0) }
    }

    /// `text` cut to at most `limit` characters, ending in `…` when cut.
    static func cut(_ text: String, to limit: Int) -> String {
        guard text.count > limit else { return text }
        return limit < 1 ? "" : String(text.prefix(limit - 1)) + "…"
    }
}
