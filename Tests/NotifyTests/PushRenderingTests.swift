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
        let text = WebhookMessage.body(try warning(reasons: ["category +20: 邻里纠纷", "threat_of_violence +40"]), delivery: delivery, sentAt: Date())
        let body = try object(text)
        #expect(body["type"] as? String == "warning.raised")
        #expect(body["delivery_id"] as? String == delivery.uuidString.lowercased())
        #expect(body["warning_id"] as? String == "6f1c2a9e-8d1b-4f57-9c33-2f0e6b7a1d44")
        #expect(body["score"] as? Int == 100)
        #expect(body["reasons"] as? [String] == ["category +20: 邻里纠纷", "threat_of_violence +40"])
        #expect(body["village_code"] as? String == "430723102201")
        #expect(body["notice_id"] == nil && body["summary"] == nil)
        let positions = try body.keys.sorted().map { key in try #require(text.range(of: "\"\(key)\":")).lowerBound }
        #expect(body.count == 10 && positions == positions.sorted())
    }

    @Test("quotes, backslashes and control characters in a value come back as they were")
    func escaping() throws {
        let body = try object(WebhookMessage.body(try warning(reasons: [Self.awkward, ""]), delivery: UUID(), sentAt: Date()))
        #expect(body["reasons"] as? [String] == [Self.awkward, ""])
        let sms = try object(SMSMessage.body(try warning(reasons: []), to: "138\"0", template: "T\\1"))
        #expect(sms["phone"] as? String == "138\"0" && sms["template"] as? String == "T\\1")
    }

    @Test("a WeCom message nests its markdown")
    func wecom() throws {
        let body = try object(WeComMessage.body(try warning(reasons: ["a"])))
        #expect(body["msgtype"] as? String == "markdown")
        let markdown = try #require(body["markdown"] as? [String: Any])
        #expect((markdown["content"] as? String)?.contains("风险分") == true)
    }

    /// Every channel's bytes for a warning, a case notice and an index notice, as notify
    /// rendered them before its rendering moved into a file per channel: receivers check
    /// signatures over these bytes, so they must never change by accident.
    @Test("every channel renders the same bytes it always has", arguments: ["warning", "notice", "index"])
    func sameBytes(_ name: String) throws {
        let sentAt = Date(timeIntervalSince1970: 1_795_845_909.123)
        let contents = [
            "warning": PushContent(
                type: "warning.raised", subject: try #require(UUID(uuidString: "6f1c2a9e-8d1b-4f57-9c33-2f0e6b7a1d44")),
                caseID: "3e8b5c1a-0f27-4d6e-b9a4-7c2d1e5f6a08", centre: "430723102000", village: "430723102201", summary: "", score: 80,
                reasons: ["category +20: 邻里纠纷", Self.awkward], incidentID: "9a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d", dueAt: "", category: 1
            ),
            "notice": PushContent(
                type: "case.overdue", subject: try #require(UUID(uuidString: "0b7e3c1d-2a4f-4e6b-8d9c-1f2e3a4b5c6d")),
                caseID: "3e8b5c1a-0f27-4d6e-b9a4-7c2d1e5f6a08", centre: "430723102000", village: "430723102201", summary: "第3级调解已逾期 \"急\"",
                score: nil, reasons: [], incidentID: "", dueAt: "2026-11-28T06:05:09.123Z", category: nil
            ),
            "index": PushContent(
                type: "index.published", subject: try #require(UUID(uuidString: "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f")), caseID: "",
                centre: "430723000000", village: "", summary: "2026-10 指数已发布", score: nil, reasons: [], incidentID: "", dueAt: "", category: nil
            ),
        ]
        let content = try #require(contents[name])
        let delivery = try #require(UUID(uuidString: "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"))
        let centre = try DivisionCode(validating: "430723102000")
        func subscription(_ channel: PushChannel, phone: String = "", email: String = "") -> Subscription {
            Subscription(id: UUID(), centre: centre, url: "", channel: channel, filter: SubscriptionFilter(), phone: phone, email: email)
        }
        let settings = PushSettings(smsTemplate: "T\\1", mailFrom: "pingan@example.org")
        let rendered = [
            "webhook": PushRendering.body(content, for: subscription(.webhook), delivery: delivery, sentAt: sentAt, settings: settings),
            "wecom": PushRendering.body(content, for: subscription(.wecom), delivery: delivery, sentAt: sentAt, settings: settings),
            "sms": PushRendering.body(content, for: subscription(.sms, phone: "13912345678"), delivery: delivery, sentAt: sentAt, settings: settings),
            "mail": PushRendering.body(content, for: subscription(.email, email: "zongzhi@example.org"), delivery: delivery, sentAt: sentAt, settings: settings),
        ]
        let expected = Self.golden(sentAt: sentAt.wireTimestamp)
        for channel in ["webhook", "wecom", "sms", "mail"] {
            #expect(rendered[channel] == expected["\(channel).\(name)"], "\(channel)")
        }
    }

    static func golden(sentAt: String) -> [String: String] {
        [
            "mail.index": "From: Pingan <pingan@example.org>\r\nTo: <zongzhi@example.org>\r\nSubject: =?UTF-8?B?5bmz5a6JIMK3IOaMh+aVsOWPkeW4gyDCtyA0MzA3MjMwMDAwMDA=?=\r\nMessage-ID: <a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d@pingan>\r\nX-Pingan-Delivery: a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d\r\nX-Pingan-Event: index.published\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n5bmz5a6JIMK3IOaMh+aVsOWPkeW4gwrkuK3lv4PvvJo0MzA3MjMwMDAwMDDjgIDmnZHvvIjnpL7l\r\njLrvvInvvJoKMjAyNi0xMCDmjIfmlbDlt7Llj5HluIM=\r\n",
            "mail.notice": "From: Pingan <pingan@example.org>\r\nTo: <zongzhi@example.org>\r\nSubject: =?UTF-8?B?5bmz5a6JIMK3IOmAvuacn+aPkOmGkiDCtyA0MzA3MjMxMDIwMDA=?=\r\nMessage-ID: <a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d@pingan>\r\nX-Pingan-Delivery: a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d\r\nX-Pingan-Event: case.overdue\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n5bmz5a6JIMK3IOmAvuacn+aPkOmGkgrkuK3lv4PvvJo0MzA3MjMxMDIwMDDjgIDmnZHvvIjnpL7l\r\njLrvvInvvJo0MzA3MjMxMDIyMDEK56ysM+e6p+iwg+ino+W3sumAvuacnyAi5oClIgrmnJ/pmZDv\r\nvJoyMDI2LTExLTI4VDA2OjA1OjA5LjEyM1oK5qGI5Lu277yaM2U4YjVjMWEtMGYyNy00ZDZlLWI5\r\nYTQtN2MyZDFlNWY2YTA4\r\n",
            "mail.warning": "From: Pingan <pingan@example.org>\r\nTo: <zongzhi@example.org>\r\nSubject: =?UTF-8?B?5bmz5a6JIMK3IOmjjumZqemihOitpiDCtyA0MzA3MjMxMDIwMDA=?=\r\nMessage-ID: <a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d@pingan>\r\nX-Pingan-Delivery: a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d\r\nX-Pingan-Event: warning.raised\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n5bmz5a6JIMK3IOmjjumZqemihOitpgrkuK3lv4PvvJo0MzA3MjMxMDIwMDDjgIDmnZHvvIjnpL7l\r\njLrvvInvvJo0MzA3MjMxMDIyMDEK6aOO6Zmp5YiG77yaODAK5L6d5o2u77yaY2F0ZWdvcnkgKzIw\r\nOiDpgrvph4znuqDnurfvvJvku5bor7Qi5ruaIiBcIOi3r+W+hC9hCuesrOS6jOihjA0JAQgMH39l\r\nbmQK5qGI5Lu277yaM2U4YjVjMWEtMGYyNy00ZDZlLWI5YTQtN2MyZDFlNWY2YTA4\r\n",
            "sms.index": "{\"phone\":\"13912345678\",\"template\":\"T\\\\1\",\"text\":\"【平安】指数发布：430723000000  2026-10 指数已发布\"}",
            "sms.notice": "{\"phone\":\"13912345678\",\"template\":\"T\\\\1\",\"text\":\"【平安】逾期提醒：430723102000 430723102201 第3级调解已逾期 \\\"急\\\"\"}",
            "sms.warning": "{\"phone\":\"13912345678\",\"template\":\"T\\\\1\",\"text\":\"【平安】风险预警：430723102000 430723102201 风险分80\"}",
            "webhook.index": "{\"case_id\":\"\",\"centre_code\":\"430723000000\",\"delivery_id\":\"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d\",\"due_at\":\"\",\"notice_id\":\"1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f\",\"sent_at\":\"\(sentAt)\",\"summary\":\"2026-10 指数已发布\",\"type\":\"index.published\",\"village_code\":\"\"}",
            "webhook.notice": "{\"case_id\":\"3e8b5c1a-0f27-4d6e-b9a4-7c2d1e5f6a08\",\"centre_code\":\"430723102000\",\"delivery_id\":\"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d\",\"due_at\":\"2026-11-28T06:05:09.123Z\",\"notice_id\":\"0b7e3c1d-2a4f-4e6b-8d9c-1f2e3a4b5c6d\",\"sent_at\":\"\(sentAt)\",\"summary\":\"第3级调解已逾期 \\\"急\\\"\",\"type\":\"case.overdue\",\"village_code\":\"430723102201\"}",
            "webhook.warning": "{\"case_id\":\"3e8b5c1a-0f27-4d6e-b9a4-7c2d1e5f6a08\",\"centre_code\":\"430723102000\",\"delivery_id\":\"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d\",\"incident_id\":\"9a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d\",\"reasons\":[\"category +20: 邻里纠纷\",\"他说\\\"滚\\\" \\\\ 路径/a\\n第二行\\r\\t\\u0001\\u0008\\u000c\\u001f\u{7f}end\"],\"score\":80,\"sent_at\":\"\(sentAt)\",\"type\":\"warning.raised\",\"village_code\":\"430723102201\",\"warning_id\":\"6f1c2a9e-8d1b-4f57-9c33-2f0e6b7a1d44\"}",
            "wecom.index": "{\"markdown\":{\"content\":\"**平安 · 指数发布**\\n> 中心：430723000000　村（社区）：\\n> 2026-10 指数已发布\"},\"msgtype\":\"markdown\"}",
            "wecom.notice": "{\"markdown\":{\"content\":\"**平安 · 逾期提醒**\\n> 中心：430723102000　村（社区）：430723102201\\n> 第3级调解已逾期 \\\"急\\\"\\n> 期限：2026-11-28T06:05:09.123Z\\n> 案件：3e8b5c1a-0f27-4d6e-b9a4-7c2d1e5f6a08\"},\"msgtype\":\"markdown\"}",
            "wecom.warning": "{\"markdown\":{\"content\":\"**平安 · 风险预警**\\n> 中心：430723102000　村（社区）：430723102201\\n> 风险分：<font color=\\\"warning\\\">80</font>\\n> 依据：category +20: 邻里纠纷；他说\\\"滚\\\" \\\\ 路径/a\\n第二行\\r\\t\\u0001\\u0008\\u000c\\u001f\u{7f}end\\n> 案件：3e8b5c1a-0f27-4d6e-b9a4-7c2d1e5f6a08\"},\"msgtype\":\"markdown\"}",
        ]
    }

    /// A warning's level reaches people in words and systems by name, on every channel; a
    /// push without one renders as it always did (``sameBytes(_:)``).
    @Test("every channel says a warning's level", arguments: [
        (Pingan_Risk_V1_RiskLevel.general, "一般", "RISK_LEVEL_GENERAL"), (.serious, "较大", "RISK_LEVEL_SERIOUS"), (.major, "重大", "RISK_LEVEL_MAJOR"),
    ])
    func level(_ level: Pingan_Risk_V1_RiskLevel, word: String, name: String) throws {
        var content = try warning(reasons: ["threat_of_self_harm +50"])
        content.level = level
        #expect(SMSMessage.text(content) == "【平安】风险预警：430723102000 430723102201 风险分100 风险等级：\(word)")
        #expect(WeComMessage.markdown(content).contains("> 风险等级：<font color=\"warning\">\(word)</font>"))
        let mail = MailMessage.message(content, to: "zongzhi@example.org", from: "pingan@example.org", delivery: UUID())
        let encoded = try #require(mail.components(separatedBy: "\r\n\r\n").last).replacingOccurrences(of: "\r\n", with: "")
        let body = String(decoding: try #require(Data(base64Encoded: encoded)), as: UTF8.self)
        #expect(body.contains("风险等级：\(word)"))
        let webhook = try object(WebhookMessage.body(content, delivery: UUID(), sentAt: Date()))
        #expect(webhook["level"] as? String == name)
        #expect(webhook.count == 11)
    }

    @Test("a warning's level comes from its event, and only a warning.escalated notice carries one")
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
        #expect(SMSMessage.text(escalated).hasSuffix("not acknowledged in time 风险等级：较大"))
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
