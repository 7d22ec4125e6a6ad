import Foundation
@testable import NotifyService
import PinganConnect
import PinganContracts
import PinganDomain
import PinganTestSupport
import Testing

/// What people read (issue 30): every kind of push on every channel is Chinese, says the
/// centre and village by name, the level in words, what is due by when and where to look,
/// carries no English model text and no party's name or phone, and fits its channel.
@Suite("what a push says to people")
struct PushTextTests {
    static let dashboard = "https://pingan.example.gov.cn"
    static let caseID = "3e8b5c1a-0f27-4d6e-b9a4-7c2d1e5f6a08"
    /// Words a party's name or phone would be, slipped into what producers send.
    static let party = "张小红"
    static let phone = "13812345678"
    /// The model's English, which people must never read.
    static let english = ["threat_of_self_harm", "a threat of self-harm was reported", "marriage_family", "disputes start at", "category +15"]

    static let names = ["430723102000": "花岩溪镇", "430723102201": "观音桥村", "430723000000": "鼎城区"]

    /// A push of every type, as its producer sends it today, named.
    static func contents() throws -> [PushContent] {
        var warning = Pingan_Notify_V1_DeliverWarningRequest()
        warning.caseID = caseID
        warning.centreCode = "430723102000"
        warning.villageCode = "430723102201"
        warning.score = 65
        warning.level = .major
        warning.reasons = ["category +15: 婚恋家庭 (marriage_family) disputes start at 15", "threat_of_self_harm +50: a threat of self-harm was reported"]
        warning.factors = [("category", 15, "婚恋家庭纠纷基础分"), ("threat_of_self_harm", 50, "有自伤、自杀言行")].map { code, points, label in
            var factor = Pingan_Notify_V1_WarningFactor()
            factor.code = code
            factor.points = Int32(points)
            factor.label = label
            return factor
        }
        warning.acknowledgeBy = "2026-11-28T06:35:00Z"
        var contents = [PushContent(warning: warning, id: UUID())]
        let notices: [(String, String, String, String)] = [
            (PushEvents.warningEscalated, "a warning from 430723102000 was not acknowledged in time", "乡镇（街道）级预警超时未签收，已升级至县（区）级，请及时签收", "2026-11-28T07:05:00Z"),
            (PushEvents.warningGrew, "cluster land-village-14d (rules 2026.12-1): 13 cases under 430723102201, 6 when last pushed",
             "同一村14天内土地纠纷达6起（群体性事件苗头）：关联案件已增至13起（上次推送时6起），请研判是否提级处置", ""),
            (PushEvents.caseOverdue, "\(party) has not reported to the summons by its deadline", "", "2026-11-28T06:05:09.123Z"),
            (PushEvents.caseEscalated, "430723102000 asks for support: \(party)扬言轻生，电话\(phone)", "", ""),
            (PushEvents.caseEscalationRequested, "430723102201 asks to escalate: \(party) \(phone)", "", ""),
            (PushEvents.caseSummoned, "summoned 派出所, 司法所", "", "2026-11-30T01:00:00Z"),
            (PushEvents.indexAction, "2026-10 指数 观音桥村 58.0分：约谈（乡镇党委书记）", "", "2026-11-15T16:00:00Z"),
            (PushEvents.indexPublished, "2026-10 指数已发布：鼎城区 86.2分，第2名（区间 1–3）", "", ""),
        ]
        for (type, summary, text, due) in notices {
            var notice = Pingan_Notify_V1_DeliverNoticeRequest()
            notice.type = type
            let index = PushEvents.withoutCase.contains(type)
            notice.caseID = index ? "" : caseID
            notice.centreCode = index ? "430723000000" : "430723102000"
            notice.villageCode = type == PushEvents.indexPublished ? "430723000000" : "430723102201"
            notice.summary = summary
            notice.text = text
            notice.dueAt = due
            if [PushEvents.warningEscalated, PushEvents.warningGrew].contains(type) { notice.level = .major }
            contents.append(PushContent(notice: notice, event: UUID()))
        }
        return contents.map { $0.named(names) }
    }

    /// What people read of a push on each channel: WeCom's markdown, the SMS text, the
    /// e-mail's decoded body and subject, and a webhook's `text`.
    static func rendered(_ content: PushContent) throws -> [String: String] {
        let wecom = try JSONSerialization.jsonObject(with: Data(WeComMessage.body(content, dashboard: dashboard).utf8)) as? [String: Any]
        let markdown = try #require((wecom?["markdown"] as? [String: Any])?["content"] as? String)
        let sms = try JSONSerialization.jsonObject(with: Data(SMSMessage.body(content, to: "13900000000", template: "t", dashboard: dashboard).utf8)) as? [String: Any]
        let mail = MailMessage.message(content, to: "zongzhi@example.org", from: "pingan@example.org", delivery: UUID(), dashboard: dashboard)
        let parts = mail.components(separatedBy: "\r\n\r\n")
        let encoded = try #require(parts.last).replacingOccurrences(of: "\r\n", with: "")
        let body = String(decoding: try #require(Data(base64Encoded: encoded)), as: UTF8.self)
        let subjectWord = try #require(parts.first?.components(separatedBy: "\r\n").first { $0.hasPrefix("Subject: ") })
        let subject = String(decoding: try #require(Data(base64Encoded: String(subjectWord.dropFirst("Subject: =?UTF-8?B?".count).dropLast(2)))), as: UTF8.self)
        let webhook = try JSONSerialization.jsonObject(with: Data(WebhookMessage.body(content, delivery: UUID(), sentAt: Date(), dashboard: dashboard).utf8)) as? [String: Any]
        return [
            "wecom": markdown, "sms": try #require(sms?["text"] as? String), "mail": subject + "\n" + body,
            "webhook": try #require(webhook?["text"] as? String),
        ]
    }

    /// `text` without its links and WeCom's markup: what must have no Latin letter.
    static func words(_ text: String) -> String {
        var words = text.replacingOccurrences(of: "<font color=\"warning\">", with: "").replacingOccurrences(of: "</font>", with: "")
        while let link = words.range(of: #"https?://[^\s)]+"#, options: .regularExpression) { words.removeSubrange(link) }
        return words
    }

    @Test("every kind of push on every channel is Chinese, named, linked, without the model's English or a party's name or phone")
    func everyKindOnEveryChannel() throws {
        let contents = try Self.contents()
        #expect(Set(contents.map(\.type)) == PushEvents.all)
        for content in contents {
            for (channel, text) in try Self.rendered(content) {
                let label = "\(content.type) on \(channel): \(text)"
                #expect(!Self.words(text).contains { $0.isASCII && $0.isLetter }, "\(label)")
                for english in Self.english { #expect(!text.contains(english), "\(label)") }
                #expect(!text.contains(Self.party) && !text.contains(Self.phone), "\(label)")
                #expect(text.contains(PushRendering.title(content.type)), "\(label)")
                let centre = content.centre == "430723000000" ? "鼎城区" : "花岩溪镇"
                #expect(text.contains(centre), "\(label)")
                if content.type != PushEvents.indexPublished { #expect(text.contains(Self.names[content.village] ?? "?"), "\(label)") }
                let link = content.caseID.isEmpty ? "\(Self.dashboard)/ui/index?centre=\(content.centre)" : "\(Self.dashboard)/ui/cases/\(Self.caseID)"
                #expect(text.contains(link), "\(label)")
                if content.level != nil { #expect(text.contains("重大"), "\(label)") }
                if content.type == PushEvents.warningRaised {
                    // Due in China time: 06:35Z is 14:35 in Beijing.
                    #expect(text.contains("11月28日 14:35"), "\(label)")
                    if channel != "sms" { #expect(text.contains("有自伤、自杀言行 +50") && text.contains("婚恋家庭纠纷基础分 +15"), "\(label)") }
                }
                if content.type == PushEvents.caseOverdue { #expect(text.contains("11月28日 14:05"), "\(label)") }
            }
        }
    }

    @Test("every channel keeps to its limit, however long what it is given")
    func limits() throws {
        for var content in try Self.contents() {
            content.text = String(repeating: "调解未成功，", count: 2000)
            content.factors = (0..<300).map { PushFactor(code: "f\($0)", points: $0, label: String(repeating: "涉及未成年人", count: 5)) }
            content.centreName = String(repeating: "很长的中心名", count: 30)
            let markdown = WeComMessage.markdown(content, dashboard: Self.dashboard)
            #expect(markdown.utf8.count <= WeComMessage.maxBytes, "\(content.type)")
            #expect(markdown.contains("/ui/"), "\(content.type): the link is never cut")
            let sms = SMSMessage.text(content, dashboard: Self.dashboard)
            #expect(sms.count <= SMSMessage.maxCharacters && SMSMessage.maxCharacters == 201, "\(content.type)")
        }
        // A short SMS keeps its link whole.
        for content in try Self.contents() {
            let sms = SMSMessage.text(content, dashboard: Self.dashboard)
            #expect(sms.hasSuffix(content.caseID.isEmpty ? "centre=\(content.centre)" : Self.caseID), "\(sms)")
        }
    }

    @Test("a machine reads codes, with the Chinese beside them")
    func webhookKeepsCodes() throws {
        let warning = try #require(try Self.contents().first)
        let body = try #require(try JSONSerialization.jsonObject(with: Data(WebhookMessage.body(warning, delivery: UUID(), sentAt: Date(), dashboard: Self.dashboard).utf8)) as? [String: Any])
        #expect(body["type"] as? String == "warning.raised" && body["level"] as? String == "RISK_LEVEL_MAJOR" && body["centre_code"] as? String == "430723102000")
        #expect(body["centre_name"] as? String == "花岩溪镇" && body["village_name"] as? String == "观音桥村")
        #expect((body["reasons"] as? [String])?.first?.hasPrefix("category +15") == true)
        let factors = try #require(body["factors"] as? [[String: Any]])
        #expect(factors.map { $0["code"] as? String } == ["category", "threat_of_self_harm"])
        #expect(factors.map { $0["label"] as? String } == ["婚恋家庭纠纷基础分", "有自伤、自杀言行"])
        #expect(body["acknowledge_by"] as? String == "2026-11-28T06:35:00Z" && body["link"] as? String == "\(Self.dashboard)/ui/cases/\(Self.caseID)")
    }

    @Test("a push whose names are unknown says the codes")
    func withoutNames() throws {
        let warning = try #require(try Self.contents().first).named([:])
        #expect(SMSMessage.text(warning, dashboard: Self.dashboard).hasPrefix("【平安】风险预警：430723102000 · 430723102201，风险等级重大（65分）。"))
    }

    /// A burst of 100 warnings to one robot, on a manual clock: the robot gets at most 20
    /// messages in any minute, and they name all 100.
    @Test("a burst of 100 warnings reaches a WeCom robot as at most 20 messages a minute, naming all 100")
    func robotBurst() throws {
        let clock = ManualClock(morningOf: "2026-11-28")
        let pacing = RobotPacing()
        let settings = PushSettings(dashboardURL: Self.dashboard)
        let template = try #require(try Self.contents().first)
        // Each warning about its own case: the digest names it by the case.
        struct Waiting { let caseID: String; let digest: String; var due: Date }
        var queue: [Waiting] = (0..<100).map { number in
            var content = template
            let caseID = UUID().uuidString.lowercased()
            content = PushContent(
                type: content.type, subject: UUID(), caseID: caseID, centre: content.centre, village: content.village, summary: "", score: 60 + number % 40,
                reasons: [], incidentID: "", dueAt: "", category: nil, level: .serious, centreName: content.centreName, villageName: content.villageName
            )
            return Waiting(caseID: caseID, digest: PushRendering.digest(content, settings: settings), due: clock.now)
        }
        var sent: [(at: Date, markdown: String)] = []
        var named = Set<String>()
        while !queue.isEmpty {
            // As the workers do: the earliest due delivery goes through the pacing.
            queue.sort { $0.due < $1.due }
            if queue[0].due > clock.now { clock.advance(by: queue[0].due.timeIntervalSince(clock.now)) }
            let delivery = queue.removeFirst()
            switch pacing.decide(sentAt: sent.map(\.at), now: clock.now, waiting: queue.count) {
            case .send:
                sent.append((clock.now, delivery.digest))
                named.insert(delivery.caseID)
            case .group:
                let group = WeComMessage.grouped([delivery.digest] + queue.map(\.digest), link: "\(Self.dashboard)/ui/?centre=430723102000")
                #expect(group.markdown.utf8.count <= WeComMessage.maxBytes)
                sent.append((clock.now, group.markdown))
                named.insert(delivery.caseID)
                for other in queue.prefix(group.named - 1) { named.insert(other.caseID) }
                queue.removeFirst(group.named - 1)
            case .wait(let until):
                #expect(until > clock.now)
                queue.append(Waiting(caseID: delivery.caseID, digest: delivery.digest, due: until))
            }
            clock.advance(by: 0.05)
        }
        #expect(named.count == 100)
        for message in sent {
            let minute = sent.filter { $0.at >= message.at && $0.at < message.at.addingTimeInterval(60) }
            #expect(minute.count <= 20, "\(minute.count) messages in the minute from \(message.at)")
        }
        // Each case is named in the messages by its first eight digits.
        let text = sent.map(\.markdown).joined(separator: "\n")
        #expect(text.components(separatedBy: "案件").count - 1 >= 100)
        #expect(sent.count < 100 && sent.count > 20)
    }

    @Test("the robot's pacing: room, the last message of a minute, and waiting")
    func pacing() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let pacing = RobotPacing()
        let nineteen = (0..<19).map { now.addingTimeInterval(-Double($0)) }
        #expect(pacing.decide(sentAt: Array(nineteen.prefix(18)), now: now, waiting: 50) == .send)
        #expect(pacing.decide(sentAt: nineteen, now: now, waiting: 0) == .send)
        #expect(pacing.decide(sentAt: nineteen, now: now, waiting: 1) == .group)
        let twenty = nineteen + [now.addingTimeInterval(-30)]
        #expect(pacing.decide(sentAt: twenty, now: now, waiting: 0) == .wait(until: now.addingTimeInterval(-30 + 60)))
        // Sends older than a minute no longer count.
        #expect(pacing.decide(sentAt: twenty.map { $0.addingTimeInterval(-60) }, now: now, waiting: 5) == .send)
    }
}
