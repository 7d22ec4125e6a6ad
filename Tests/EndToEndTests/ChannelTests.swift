import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganPostgres
import PinganTestSupport
import Testing

/// The seed's story 2 through the whole mesh: a break-up with a threat of self-harm warns
/// the village centre at once and its township, over a signed webhook, a WeCom group robot,
/// an SMS gateway and e-mail through a real SMTP server; notify-service is killed with
/// SIGKILL while it is sending, and every delivery still arrives, under its one id.
@Suite("end to end: story 2 over every channel")
struct ChannelTests {
    @Test func story2ReachesVillageAndTownshipOnEveryChannelThroughASIGKILLAndIsClosed() async throws {
        let smtpPort = try freePort()
        let directory = NSTemporaryDirectory() + "pingan-e2e-mail-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let smtp = try ChildProcess(
            name: "smtp", executable: "/usr/bin/env",
            arguments: ["python3", "-m", "aiosmtpd", "-n", "-l", "127.0.0.1:\(smtpPort)", "-c", "aiosmtpd.handlers.Mailbox", directory + "/box"],
            environment: [:], logDirectory: directory
        )
        defer {
            smtp.stopWithoutWaiting(signal: SIGKILL)
            try? FileManager.default.removeItem(atPath: directory)
        }
        // Listening before the flow starts, so the e-mails' retries do not set the pace.
        #expect(await eventually { accepts(port: smtpPort) }, "the SMTP server never listened")
        let mail = ["SMTP_URL": "smtp://127.0.0.1:\(smtpPort)", "SMTP_FROM": "pingan@example.org"]
        try await withMesh { mesh, setup, receiver in
            await mesh.kill("notify")
            try await mesh.start("notify", extra: mail)
            let base = "http://127.0.0.1:\(receiver.port)"
            func subscribe(_ centre: String, _ channel: Pingan_Notify_V1_Channel, url: String = "", phone: String = "", email: String = "") async throws -> String {
                var request = Pingan_Notify_V1_SubscribeRequest()
                request.centreCode = centre
                request.channel = channel
                request.url = url
                request.phone = phone
                request.email = email
                request.secret = WebhookReceiver.secret
                return try await mesh.call(NotifyServiceMethods.subscribe, request, as: "city-admin").subscription.id
            }
            let wecom = try await subscribe(Place.villageA1, .wecom, url: base + "/channel/wecom")
            let sms = try await subscribe(Place.townA, .sms, url: base + "/channel/sms", phone: "13800000000")
            let email = try await subscribe(Place.townA, .email, email: "zongzhi@example.org")

            // Four break-ups, each with a threat of self-harm, while every receiver answers slowly.
            receiver.setDelay(.milliseconds(1500))
            guard let grid = setup.grids[Place.villageA1] else { throw TestSetupError("no grid") }
            for couple in 0..<4 {
                var report = Pingan_Grid_V1_ReportIncidentRequest()
                report.gridID = grid.grid
                report.reporterMemberID = grid.member
                report.category = .marriageFamily
                report.description_p = "分手纠纷，一方扬言轻生"
                report.parties = mesh.nextParties().map { name in
                    var party = Pingan_Grid_V1_Party()
                    party.name = name + "\(couple)"
                    return party
                }
                report.threatOfSelfHarm = true
                _ = try await mesh.call(GridServiceMethods.reportIncident, report, as: "village-a1")
            }
            // Killed in the middle of sending.
            #expect(await eventually(timeout: .seconds(30)) { receiver.answering > 0 })
            await mesh.kill("notify")
            receiver.setDelay(.zero)
            try await mesh.start("notify", extra: mail)

            // Every subscriber of the village and its township: 4 deliveries each, each received
            // at least once and only ever under its own id.
            let pool = mesh.database.pool(maxConnections: 1)
            defer { Task { await pool.close() } }
            let webhook = try await pool.query(
                "SELECT id::text FROM notify.subscriptions WHERE centre_code = $1 AND channel = 'webhook'", [Place.townA]
            )[0].decode(String.self, at: 0)
            func queued() async throws -> [String: Set<String>] {
                var bySubscription: [String: Set<String>] = [:]
                for row in try await pool.query("SELECT subscription_id::text, id::text FROM notify.deliveries") {
                    bySubscription[try row.decode(String.self, at: 0), default: []].insert(try row.decode(String.self, at: 1))
                }
                return bySubscription
            }
            func mailed() -> [String] {
                let box = directory + "/box/new/"
                return ((try? FileManager.default.contentsOfDirectory(atPath: box)) ?? []).compactMap { file in
                    (try? String(contentsOfFile: box + file, encoding: .utf8))?.split(separator: "\n")
                        .first { $0.hasPrefix("X-Pingan-Delivery: ") }.map { String($0.dropFirst("X-Pingan-Delivery: ".count)).trimmingCharacters(in: .whitespacesAndNewlines) }
                }
            }
            func received() -> [String: [String]] {
                [
                    webhook: receiver.received.map(\.delivery),
                    wecom: receiver.channelMessages.filter { $0.channel == "wecom" }.map(\.delivery),
                    sms: receiver.channelMessages.filter { $0.channel == "sms" }.map(\.delivery),
                    email: mailed(),
                ]
            }
            let arrived = await eventually(timeout: .seconds(90)) {
                let expected = try await queued()
                let got = received()
                return [webhook, wecom, sms, email].allSatisfy { expected[$0]?.count == 4 && Set(got[$0] ?? []) == expected[$0] }
            }
            #expect(arrived)
            let expected = try await queued()
            #expect(expected.values.reduce(0) { $0 + $1.count } == 16)
            for (subscription, ids) in received() {
                #expect(Set(ids) == expected[subscription], "subscription \(subscription) got \(ids)")
            }

            // What each channel carries.
            let robot = try #require(receiver.channelMessages.first { $0.channel == "wecom" })
            #expect(robot.json["msgtype"] as? String == "markdown")
            let content = (robot.json["markdown"] as? [String: Any])?["content"] as? String ?? ""
            // Said by name (grid-service's divisions), never by code alone.
            #expect(content.contains("风险预警") && content.contains("小渡口镇") && content.contains("小渡口一村（生成）"))
            #expect(content.contains("有自伤、自杀言行 +50") && !content.contains("threat_of_self_harm"))
            let text = try #require(receiver.channelMessages.first { $0.channel == "sms" })
            #expect(text.json["phone"] as? String == "13800000000" && (text.json["text"] as? String ?? "").hasPrefix("【平安】风险预警"))
            #expect(receiver.received.allSatisfy(WebhookReceiver.verify))
            #expect(receiver.received.allSatisfy { ($0.json["reasons"] as? [String] ?? []).contains { $0.contains("threat_of_self_harm") } })

            // The village acknowledges at once; the township handles it to a closed outcome.
            var list = Pingan_Risk_V1_ListWarningsRequest()
            list.centreCode = Place.villageA1
            let warning = try #require(try await mesh.call(RiskServiceMethods.listWarnings, list, as: "village-a1").warnings.first)
            var acknowledge = Pingan_Risk_V1_AcknowledgeWarningRequest()
            acknowledge.warningID = warning.id
            _ = try await mesh.call(RiskServiceMethods.acknowledgeWarning, acknowledge, as: "village-a1")
            let closed = try await mesh.handleToClosed(
                warning.id, as: "town-a", assignee: "妇联执委与心理咨询师", feedback: "已陪同就医并联系家属", evaluation: "两周回访情绪稳定", outcome: "风险解除"
            )
            #expect(closed.status == .closed)
        }
    }
}
