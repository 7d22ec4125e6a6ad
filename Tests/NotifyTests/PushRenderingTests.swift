import Foundation
@testable import NotifyService
import PinganConnect
import PinganContracts
import PinganDomain
import Testing

@Suite("what notify sends, byte by byte")
struct PushRenderingTests {
    static let awkward = "他说\"滚\" \\ 路径/a\n第二行\r\t\u{01}\u{08}\u{0c}\u{1f}\u{7f}end"

    func warning(reasons: [String]) throws -> PushContent {
        PushContent(
            type: "warning.raised", subject: try #require(UUID(uuidString: "6f1c2a9e-8d1b-4f57-9c33-2f0e6b7a1d44")), caseID: "3e8b5c1a-0f27-4d6e-b9a4-7c2d1e5f6a08",
            centre: "430723102000", village: "430723102201", summary: "", score: 100, reasons: reasons,
            incidentID: "9a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d", dueAt: "", category: 1
        )
    }

    func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test("a warning's webhook is JSON with its fields, keys in alphabetical order")
    func warningWebhook() throws {
        let delivery = UUID()
        let text = WebhookMessage.body(try warning(reasons: ["category +20: 邻里纠纷", "threat_of_violence +40"]), delivery: delivery, sentAt: Date(), dashboard: "")
        let body = try object(text)
        #expect(body["type"] as? String == "warning.raised")
        #expect(body["delivery_id"] as? String == delivery.uuidString.lowercased())
        #expect(body["warning_id"] as? String == "6f1c2a9e-8d1b-4f57-9c33-2f0e6b7a1d44")
        #expect(body["score"] as? Int == 100)
        #expect(body["reasons"] as? [String] == ["category +20: 邻里纠纷", "threat_of_violence +40"])
        #expect(body["village_code"] as? String == "430723102201")
        #expect(body["notice_id"] == nil && body["summary"] == nil)
        let positions = try body.keys.sorted().map { key in try #require(text.range(of: "\"\(key)\":")).lowerBound }
        #expect(body.count == 16 && positions == positions.sorted())
    }

    @Test("quotes, backslashes and control characters in a value come back as they were")
    func escaping() throws {
        let body = try object(WebhookMessage.body(try warning(reasons: [Self.awkward, ""]), delivery: UUID(), sentAt: Date(), dashboard: ""))
        #expect(body["reasons"] as? [String] == [Self.awkward, ""])
        let sms = try object(SMSMessage.body(try warning(reasons: []), to: "138\"0", template: "T\\1", dashboard: ""))
        #expect(sms["phone"] as? String == "138\"0" && sms["template"] as? String == "T\\1")
    }

    @Test("a WeCom message nests its markdown")
    func wecom() throws {
        let body = try object(WeComMessage.body(try warning(reasons: ["a"]), dashboard: ""))
        #expect(body["msgtype"] as? String == "markdown")
        let markdown = try #require(body["markdown"] as? [String: Any])
        #expect((markdown["content"] as? String)?.contains("100分") == true)
    }

    /// A warning's level reaches people in words and systems by name, on every channel; a
    /// push without one renders as it always did (``sameBytes(_:)``).
    @Test("every channel says a warning's level", arguments: [
        (Pingan_Risk_V1_RiskLevel.general, "一般", "RISK_LEVEL_GENERAL"), (.serious, "较大", "RISK_LEVEL_SERIOUS"), (.major, "重大", "RISK_LEVEL_MAJOR"),
    ])
    func level(_ level: Pingan_Risk_V1_RiskLevel, word: String, name: String) throws {
        var content = try warning(reasons: ["threat_of_self_harm +50"])
        content.level = level
        #expect(SMSMessage.text(content, dashboard: "").hasPrefix("【平安】风险预警：430723102000 · 430723102201，风险等级\(word)（100分）。"))
        #expect(WeComMessage.markdown(content, dashboard: "").contains("> 风险等级：<font color=\"warning\">\(word)（100分）</font>"))
        let mail = MailMessage.message(content, to: "zongzhi@example.org", from: "pingan@example.org", delivery: UUID(), dashboard: "")
        let encoded = try #require(mail.components(separatedBy: "\r\n\r\n").last).replacingOccurrences(of: "\r\n", with: "")
        let body = String(decoding: try #require(Data(base64Encoded: encoded)), as: UTF8.self)
        #expect(body.contains("风险等级：\(word)"))
        let webhook = try object(WebhookMessage.body(content, delivery: UUID(), sentAt: Date(), dashboard: ""))
        #expect(webhook["level"] as? String == name)
        #expect(webhook.count == 17)
    }

    @Test("a warning's level comes from its event, and of notices only warning.escalated and warning.grew carry one")
    func levelFromEvents() throws {
        var request = Pingan_Notify_V1_DeliverWarningRequest()
        request.score = 65
        #expect(PushContent(warning: request, id: UUID()).level == nil)
        request.level = .major
        let warning = PushContent(warning: request, id: UUID())
        #expect(warning.level == .major && warning.levelWord == "重大")
        var notice = Pingan_Notify_V1_DeliverNoticeRequest()
        notice.type = PushEvents.warningEscalated
        notice.summary = "a warning from 430723102000 was not acknowledged in time"
        notice.level = .serious
        let escalated = PushContent(notice: notice, event: UUID())
        let sms = SMSMessage.text(escalated, dashboard: "")
        #expect(sms.contains("风险等级较大") && !sms.contains("acknowledged"))
        notice.type = PushEvents.warningGrew
        #expect(PushContent(notice: notice, event: UUID()).level == .serious)
        notice.type = PushEvents.caseEscalated
        #expect(PushContent(notice: notice, event: UUID()).level == nil)
    }

    @Test("a push's content comes from its event's payload")
    func contentFromEvents() throws {
        var request = Pingan_Notify_V1_DeliverWarningRequest()
        request.caseID = "c"
        request.centreCode = "430723102000"
        request.villageCode = "430723102201"
        request.score = 72
        request.reasons = ["r"]
        request.incidentID = "i"
        let id = UUID()
        let warning = PushContent(warning: request, id: id)
        #expect(warning.type == PushEvents.warningRaised && warning.subject == id && warning.score == 72 && warning.category == nil)
        request.category = .land
        #expect(PushContent(warning: request, id: id).category == Pingan_Grid_V1_IncidentCategory.land.rawValue)
        var notice = Pingan_Notify_V1_DeliverNoticeRequest()
        notice.type = PushEvents.caseOverdue
        notice.summary = "s"
        notice.dueAt = "2026-11-28T06:05:09.123Z"
        let event = UUID()
        let content = PushContent(notice: notice, event: event)
        #expect(content.subject == event && content.score == nil && content.summary == "s" && content.dueAt == notice.dueAt)
        #expect(PushEvents.notices == PushEvents.all.subtracting([PushEvents.warningRaised]))
    }
}
