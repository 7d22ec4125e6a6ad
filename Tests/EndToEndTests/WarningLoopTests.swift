import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganTestSupport
import Testing

/// The warning's closed loop through the real gateway (预警—处置—反馈—跟踪问效): the seed's
/// story 1 (neighbours quarrelling again, no threat yet) warns the township and is seen and
/// acknowledged by the village, handled, fed back, evaluated and closed by the township.
@Suite("end to end: the warning's closed loop")
struct WarningLoopTests {
    @Test func story1WarnsAndTheWarningIsHandledToAClosedOutcomeThroughTheGateway() async throws {
        try await withMesh { mesh, setup, receiver in
            guard let grid = setup.grids[Place.villageA1] else { throw TestSetupError("no grid") }
            var report = Pingan_Grid_V1_ReportIncidentRequest()
            report.gridID = grid.grid
            report.reporterMemberID = grid.member
            report.category = .neighbour
            report.description_p = "金、李两家又因院墙争吵，尚无动手迹象"
            var first = Pingan_Grid_V1_Party()
            first.name = "金某甲"
            var second = Pingan_Grid_V1_Party()
            second.name = "李某乙"
            report.parties = [first, second]
            report.repeatIncident = true
            let incident = try await mesh.call(GridServiceMethods.reportIncident, report, as: "town-a").incident

            // Repeated neighbour quarrels alone reach the threshold under the neighbour model.
            let warned = await eventually(timeout: .seconds(30)) { receiver.received.contains { $0.json["incident_id"] as? String == incident.id } }
            #expect(warned)
            let webhook = try #require(receiver.received.first { $0.json["incident_id"] as? String == incident.id })
            #expect(webhook.json["centre_code"] as? String == Place.townA)
            #expect((webhook.json["score"] as? Int ?? 0) >= 60)

            // The village centre sees it and acknowledges it.
            var list = Pingan_Risk_V1_ListWarningsRequest()
            list.centreCode = Place.villageA1
            let warning = try #require(try await mesh.call(RiskServiceMethods.listWarnings, list, as: "village-a1").warnings.first)
            #expect(warning.caseID == webhook.caseID)
            var acknowledge = Pingan_Risk_V1_AcknowledgeWarningRequest()
            acknowledge.warningID = warning.id
            await expectCode(.notFound) { _ = try await mesh.call(RiskServiceMethods.acknowledgeWarning, acknowledge, as: "town-b") }
            #expect(try await mesh.call(RiskServiceMethods.acknowledgeWarning, acknowledge, as: "village-a1").warning.status == .acknowledged)

            // The township assigns it, hears back, evaluates and closes it with an outcome.
            let closed = try await mesh.handleToClosed(
                warning.id, as: "town-a", assignee: "安福街道包片干部", feedback: "已入户调解，双方承诺不再争吵", evaluation: "一周回访无新冲突", outcome: "风险解除"
            )
            #expect(closed.status == .closed && closed.outcome == "风险解除")
            var get = Pingan_Risk_V1_GetWarningRequest()
            get.warningID = warning.id
            let steps = try await mesh.call(RiskServiceMethods.getWarning, get, as: "lixian-staff").warning.steps
            #expect(steps.map(\.kind) == ["raised", "acknowledge", "assign", "feed_back", "evaluate", "close"])
            #expect(steps.map(\.actor).dropFirst() == ["user:village-a1", "user:town-a", "user:town-a", "user:town-a", "user:town-a"])
        }
    }
}
