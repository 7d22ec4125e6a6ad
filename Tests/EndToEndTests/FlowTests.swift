import Foundation
import PinganAccess
import PinganDomain
import PinganConnect
import PinganContracts
import PinganTestSupport
import Testing

/// Every executable as a real process on loopback, driven through the gateway.
@Suite("end to end", .serialized)
struct FlowTests {
    @Test func highRiskIncidentEndsAsOneSignedWebhookAndLowRiskAsNone() async throws {
        try await withMesh { mesh, setup, receiver in
            let low = try await mesh.report(in: Place.villageA1, setup: setup, highRisk: false, as: "town-a")
            let high = try await mesh.report(in: Place.villageA1, setup: setup, highRisk: true, as: "town-a", parties: ["张三", "李四"])
            #expect(low.villageCode == Place.villageA1 && high.villageCode == Place.villageA1)

            let delivered = await eventually { receiver.received.contains { $0.json["village_code"] as? String == Place.villageA1 } }
            #expect(delivered)
            let webhook = try #require(receiver.received.first)
            #expect(WebhookReceiver.verify(webhook))
            #expect(webhook.json["centre_code"] as? String == Place.townA)
            #expect(webhook.json["incident_id"] as? String == high.id)
            #expect((webhook.json["score"] as? Int ?? 0) >= 60)
            #expect((webhook.json["reasons"] as? [String] ?? []).contains { $0.hasPrefix("threat_of_violence +40") })

            // The case behind the webhook is the high-risk incident's, with its timeline.
            var get = Pingan_Dispute_V1_GetCaseRequest()
            get.caseID = webhook.caseID
            let highCase = try await mesh.call(DisputeServiceMethods.getCase, get, as: "town-a")
            #expect(highCase.case.incidentID == high.id)
            #expect(highCase.case.parties.map(\.name) == ["张*", "李*"])
            #expect(highCase.case.parties.first?.phone == "138****5678")
            #expect(highCase.timeline.last?.kind == "opened")  // newest first

            // The low-risk case was opened and assessed below the threshold, and warned nobody.
            var list = Pingan_Dispute_V1_ListCasesRequest()
            list.divisionCode = Place.villageA1
            let cases = try await mesh.call(DisputeServiceMethods.listCases, list, as: "town-a").cases
            let lowCase = try #require(cases.first { $0.incidentID == low.id })
            var assessment = Pingan_Risk_V1_GetAssessmentRequest()
            assessment.caseID = lowCase.id
            let lowAssessment = try await mesh.call(RiskServiceMethods.getAssessment, assessment, as: "town-a").assessment
            // The neighbour model starts at 20; nothing else was reported, so nobody is warned.
            #expect(lowAssessment.score == 20 && lowAssessment.warningID.isEmpty)
            #expect(lowAssessment.reasons.map(\.rule) == ["category"])
            try await Task.sleep(for: .milliseconds(500))
            #expect(receiver.received.allSatisfy { $0.caseID != lowCase.id })
            #expect(Set(receiver.received.map(\.delivery)).count == 1)

            // The delivery is on record, and the township acknowledges the warning; its sibling cannot.
            let warningID = try #require(webhook.json["warning_id"] as? String)
            var deliveries = Pingan_Notify_V1_ListDeliveriesRequest()
            deliveries.warningID = warningID
            let recorded = try await mesh.call(NotifyServiceMethods.listDeliveries, deliveries, as: "town-a").deliveries
            #expect(recorded.count == 1 && recorded.first?.id == webhook.delivery && recorded.first?.deliveredAt.isEmpty == false)
            let hidden = try await mesh.call(NotifyServiceMethods.listDeliveries, deliveries, as: "town-b").deliveries
            #expect(hidden.isEmpty)
            var acknowledge = Pingan_Risk_V1_AcknowledgeWarningRequest()
            acknowledge.warningID = warningID
            await expectCode(.notFound) { _ = try await mesh.call(RiskServiceMethods.acknowledgeWarning, acknowledge, as: "town-b") }
            let acknowledged = try await mesh.call(RiskServiceMethods.acknowledgeWarning, acknowledge, as: "town-a").warning
            #expect(acknowledged.status == .acknowledged)
            var warnings = Pingan_Risk_V1_ListWarningsRequest()
            warnings.centreCode = Place.townA
            let listed = try await mesh.call(RiskServiceMethods.listWarnings, warnings, as: "town-a").warnings
            #expect(listed.map(\.id) == [warningID] && listed.first?.status == .acknowledged)

            // A mediator may reveal the parties; the read is audited.
            get.revealParties = true
            let revealed = try await mesh.call(DisputeServiceMethods.getCase, get, as: "town-a")
            #expect(revealed.case.parties.map(\.name) == ["张三", "李四"])
            do { let got = try await mesh.count("SELECT count(*) FROM dispute.personal_data_reads WHERE subject = 'user:town-a'"); #expect(got == 1) }
            // Staff without the mediator role may not.
            await expectCode(.permissionDenied) { _ = try await mesh.call(DisputeServiceMethods.getCase, get, as: "lixian-staff") }

            // The index sees the month's facts and ranks the townships of 澧县.
            var compute = Pingan_Index_V1_ComputeMonthlyIndexRequest()
            compute.month = Month(containing: Date()).description
            let scored = try await mesh.call(IndexServiceMethods.computeMonthlyIndex, compute, as: "city-admin")
            #expect(scored.divisionsScored == 192)
            var ranking = Pingan_Index_V1_GetRankingRequest()
            ranking.parentCode = Place.lixian
            ranking.month = compute.month
            let scores = try await mesh.call(IndexServiceMethods.getRanking, ranking, as: "lixian-staff").scores
            let townA = try #require(scores.first { $0.code == Place.townA })
            let townB = try #require(scores.first { $0.code == Place.townB })
            #expect(scored.version.status == .provisional)
            // Two cases found by two grids and a warning handled outrank a township whose grid
            // found nothing; townships without grids have not enough data and are not ranked.
            #expect(townA.indicators.first { $0.indicator == "disputes_found_per_grid" }?.value == 1)
            #expect(townA.rank == 1 && townA.score > 50)
            #expect(townB.rank == 2 && townB.enoughData && townB.score == 0)
            #expect(scores.filter { $0.rank == 0 }.allSatisfy { !$0.enoughData && $0.score == 0 })
        }
    }

    @Test func killingRiskServiceLosesAndDuplicatesNothing() async throws {
        try await withMesh { mesh, setup, receiver in
            let total = 16
            var incidents: [Pingan_Grid_V1_Incident] = []
            for index in 0..<total {
                if index == total / 2 { await mesh.kill("risk") }
                incidents.append(try await mesh.report(in: index % 2 == 0 ? Place.villageA1 : Place.villageB1, setup: setup, highRisk: index % 2 == 0))
            }
            try await Task.sleep(for: .seconds(1))
            try await mesh.start("risk")
            try await expectExactlyOnce(mesh, receiver, incidents: incidents, warnings: total / 2)
        }
    }

    @Test func notifyServiceKilledAndReceiverDownStillDeliverEachWarningOnce() async throws {
        try await withMesh { mesh, setup, receiver in
            receiver.setFailing(true)
            var incidents: [Pingan_Grid_V1_Incident] = []
            for index in 0..<8 {
                if index == 4 { await mesh.kill("notify") }
                incidents.append(try await mesh.report(in: Place.villageA2, setup: setup, highRisk: true))
            }
            try await mesh.start("notify")
            // Wait until the failing receiver has been tried, then let it recover.
            _ = await eventually { try await mesh.count("SELECT count(*) FROM notify.attempts WHERE status = 503") >= 2 }
            receiver.setFailing(false)
            try await expectExactlyOnce(mesh, receiver, incidents: incidents, warnings: 8)
            #expect(try await mesh.count("SELECT count(*) FROM notify.attempts WHERE status = 503") >= 2)
        }
    }

    /// Every incident has one case and one assessment, every warning one distinct delivery.
    private func expectExactlyOnce(_ mesh: Mesh, _ receiver: WebhookReceiver, incidents: [Pingan_Grid_V1_Incident], warnings: Int) async throws {
        let settled = await eventually(timeout: .seconds(90)) {
            // A relay marks its events delivered after the consumer answered: wait for that too.
            let assessed = try await mesh.count("SELECT count(*) FROM risk.assessments")
            let pending = try await mesh.count(
                "SELECT (SELECT count(*) FROM grid.outbox WHERE delivered_at IS NULL) + (SELECT count(*) FROM dispute.outbox WHERE delivered_at IS NULL)"
            )
            return assessed == incidents.count && pending == 0 && Set(receiver.received.map(\.caseID)).count == warnings
        }
        #expect(settled)
        do { let got = try await mesh.count("SELECT count(*) FROM grid.incidents"); #expect(got == incidents.count) }
        do { let got = try await mesh.count("SELECT count(*) FROM dispute.cases"); #expect(got == incidents.count) }
        do { let got = try await mesh.count("SELECT count(DISTINCT incident_id) FROM dispute.cases"); #expect(got == incidents.count) }
        do { let got = try await mesh.count("SELECT count(*) FROM risk.assessments"); #expect(got == incidents.count) }
        do { let got = try await mesh.count("SELECT count(*) FROM risk.warnings"); #expect(got == warnings) }
        do { let got = try await mesh.count("SELECT count(*) FROM notify.deliveries"); #expect(got == warnings) }
        // Retries of one delivery carry its id: per case, at most one distinct delivery arrived.
        let byCase = Dictionary(grouping: receiver.received, by: \.caseID).mapValues { Set($0.map(\.delivery)).count }
        #expect(byCase.count == warnings)
        #expect(byCase.values.allSatisfy { $0 == 1 })
        #expect(receiver.received.allSatisfy(WebhookReceiver.verify))
        // Paging through every case, three at a time, returns each exactly once.
        var list = Pingan_Dispute_V1_ListCasesRequest()
        list.divisionCode = Place.city
        list.pageSize = 3
        var paged: [String] = []
        repeat {
            let page = try await mesh.call(DisputeServiceMethods.listCases, list, as: "city-admin")
            #expect(page.cases.count <= 3)
            paged += page.cases.map(\.incidentID)
            list.pageToken = page.nextPageToken
        } while !list.pageToken.isEmpty && paged.count <= incidents.count
        #expect(paged.count == incidents.count)
        #expect(Set(paged) == Set(incidents.map(\.id)))
        do { let got = try await mesh.count("SELECT count(*) FROM grid.outbox WHERE delivered_at IS NULL"); #expect(got == 0) }
        do { let got = try await mesh.count("SELECT count(*) FROM dispute.outbox WHERE delivered_at IS NULL"); #expect(got == 0) }
        // Delivered events no longer hold the parties' names that travelled in them.
        do { let got = try await mesh.count("SELECT count(*) FROM grid.outbox WHERE length(payload) > 0"); #expect(got == 0) }
    }
}
