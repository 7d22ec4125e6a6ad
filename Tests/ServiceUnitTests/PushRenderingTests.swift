import Foundation
@testable import NotifyService
import Testing

@Suite("what notify sends, byte by byte")
struct PushRenderingTests {
    func warning(reasons: [String]) -> PushContent {
        PushContent(
            type: "warning.raised", subject: UUID(uuidString: "6f1c2a9e-8d1b-4f57-9c33-2f0e6b7a1d44")!, caseID: "3e8b5c1a-0f27-4d6e-b9a4-7c2d1e5f6a08",
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
        let text = PushRendering.webhook(warning(reasons: ["category +20: 邻里纠纷", "threat_of_violence +40"]), delivery: delivery)
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
        let awkward = "他说\"滚\" \\ 路径/a\n第二行\r\t\u{01}\u{1f}end"
        let body = try object(PushRendering.webhook(warning(reasons: [awkward, ""]), delivery: UUID()))
        #expect(body["reasons"] as? [String] == [awkward, ""])
        let sms = try object(PushRendering.sms(warning(reasons: []), to: "138\"0", template: "T\\1"))
        #expect(sms["phone"] as? String == "138\"0" && sms["template"] as? String == "T\\1")
    }

    @Test("a WeCom message nests its markdown")
    func wecom() throws {
        let body = try object(PushRendering.wecom(warning(reasons: ["a"])))
        #expect(body["msgtype"] as? String == "markdown")
        let markdown = try #require(body["markdown"] as? [String: Any])
        #expect((markdown["content"] as? String)?.contains("风险分") == true)
    }
}
