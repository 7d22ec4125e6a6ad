import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganTestSupport
import Testing

/// Through the real gateway: a warning's pushes say its level (风险等级) in words and by
/// name, and a case's notices are found by case with `ListDeliveries`.
@Suite("end to end: levels in pushes and a case's deliveries")
struct CaseDeliveryTests {
    @Test func aWarningSaysItsLevelAndTheCasesEscalationIsListedByCase() async throws {
        try await withMesh { mesh, setup, receiver in
            let base = "http://127.0.0.1:\(receiver.port)"
            func subscribe(_ centre: String, _ channel: Pingan_Notify_V1_Channel, url: String) async throws -> String {
                var request = Pingan_Notify_V1_SubscribeRequest()
                request.centreCode = centre
                request.channel = channel
                request.url = url
                request.secret = WebhookReceiver.secret
                return try await mesh.call(NotifyServiceMethods.subscribe, request, as: "city-admin").subscription.id
            }
            let robot = try await subscribe(Place.townA, .wecom, url: base + "/channel/wecom")
            let county = try await subscribe(Place.lixian, .webhook, url: base + "/hook")

            // 邻里 20 + repeat 40 + a threat of violence 40 = 100: 重大.
            let incident = try await mesh.report(in: Place.villageA1, setup: setup, highRisk: true, as: "town-a")
            let warned = await eventually(timeout: .seconds(30)) {
                receiver.received.contains { $0.json["incident_id"] as? String == incident.id }
                    && receiver.channelMessages.contains { $0.channel == "wecom" }
            }
            #expect(warned)
            let webhook = try #require(receiver.received.first { $0.json["incident_id"] as? String == incident.id })
            #expect(webhook.json["score"] as? Int == 100)
            #expect(webhook.json["level"] as? String == "RISK_LEVEL_MAJOR")
            #expect(WebhookReceiver.verify(webhook))
            let message = try #require(receiver.channelMessages.first { $0.channel == "wecom" })
            let markdown = (message.json["markdown"] as? [String: Any])?["content"] as? String ?? ""
            #expect(markdown.contains("风险等级：<font color=\"warning\">重大（100分）</font>"))
            var warnings = Pingan_Risk_V1_ListWarningsRequest()
            warnings.centreCode = Place.townA
            let warning = try #require(try await mesh.call(RiskServiceMethods.listWarnings, warnings, as: "town-a").warnings.first)
            #expect(warning.caseID == webhook.caseID && warning.level == .major)
            var assessment = Pingan_Risk_V1_GetAssessmentRequest()
            assessment.caseID = webhook.caseID
            #expect(try await mesh.call(RiskServiceMethods.getAssessment, assessment, as: "town-a").assessment.level == .major)

            // The township asks the county to coordinate: case.escalated goes to the county's
            // subscribers, and the county finds that delivery by the case.
            var escalate = Pingan_Dispute_V1_EscalateCaseRequest()
            escalate.caseID = webhook.caseID
            escalate.reason = "多部门协调需县级统筹"
            #expect(try await mesh.call(DisputeServiceMethods.escalateCase, escalate, as: "town-a").case.coordinatorCode == Place.lixian)
            var byCase = Pingan_Notify_V1_ListDeliveriesRequest()
            byCase.caseID = webhook.caseID
            byCase.eventType = "case.escalated"
            var escalated: [Pingan_Notify_V1_Delivery] = []
            let listed = await eventually(timeout: .seconds(30)) {
                escalated = try await mesh.call(NotifyServiceMethods.listDeliveries, byCase, as: "lixian-staff").deliveries
                return !escalated.isEmpty
            }
            #expect(listed)
            #expect(escalated.map(\.subscriptionID) == [county])
            #expect(escalated.allSatisfy { $0.caseID == webhook.caseID && $0.eventType == "case.escalated" })

            // Everything pushed about the case, as the county sees it: the warning to the
            // township's webhook and robot and to the county's webhook, then the escalation.
            byCase.eventType = ""
            let everything = try await mesh.call(NotifyServiceMethods.listDeliveries, byCase, as: "lixian-staff").deliveries
            #expect(everything.filter { $0.eventType == "warning.raised" }.count == 3)
            #expect(everything.contains { $0.subscriptionID == robot && $0.eventType == "warning.raised" })
            // A sibling township sees nothing of it; naming the county's subscriptions is beyond it.
            #expect(try await mesh.call(NotifyServiceMethods.listDeliveries, byCase, as: "town-b").deliveries.isEmpty)
            var byCentre = Pingan_Notify_V1_ListDeliveriesRequest()
            byCentre.centreCode = Place.lixian
            await expectCode(.permissionDenied, containing: "centre_code:") {
                _ = try await mesh.call(NotifyServiceMethods.listDeliveries, byCentre, as: "town-a")
            }
        }
    }
}
