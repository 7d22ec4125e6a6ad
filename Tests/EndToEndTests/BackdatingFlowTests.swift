import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganTestSupport
import Testing

/// 补录 through the real gateway: a step given its real time keeps it beside when it was
/// entered, and a time the rule refuses comes back as `invalid_argument` naming the field.
/// The services run on the real clock here, so the stories across holidays are in
/// DisputeTests, where the clock is the test's.
@Suite("end to end: recording a mediation after the fact")
struct BackdatingFlowTests {
    @Test func aRungGivenItsRealTimeThroughTheGatewayKeepsItBesideTheEntry() async throws {
        try await withMesh { mesh, _, _ in
            var intake = Pingan_Dispute_V1_IntakeCaseRequest()
            intake.requestID = UUID().wire
            intake.villageCode = Place.villageA1
            intake.category = .neighbour
            intake.source = .walkIn
            intake.description_p = "来访：两户因院墙滴水争执"
            intake.parties = [.with { $0.name = "孙某" }, .with { $0.name = "周某" }]
            let opened = try await mesh.call(DisputeServiceMethods.intakeCase, intake, as: "town-a").case

            var start = Pingan_Dispute_V1_StartRungRequest()
            start.caseID = opened.id
            start.rung = .finder
            start.lead = "网格员"
            start.startedAt = Date().addingTimeInterval(3600).wireTimestamp
            await expectCode(.invalidArgument, containing: "started_at: is in the future") {
                _ = try await mesh.call(DisputeServiceMethods.startRung, start, as: "town-a")
            }
            start.startedAt = Date().addingTimeInterval(-31 * 86_400).wireTimestamp
            await expectCode(.invalidArgument, containing: "steps may be recorded at most 30 days after they happened") {
                _ = try await mesh.call(DisputeServiceMethods.startRung, start, as: "town-a")
            }

            // The mediation began as the case was taken in, and is entered a moment later.
            start.startedAt = opened.openedAt
            let attempt = try await mesh.call(DisputeServiceMethods.startRung, start, as: "town-a").attempt
            #expect(attempt.startedAt == opened.openedAt)
            let entered = try #require(Date(wireTimestamp: attempt.startEnteredAt))
            #expect(entered >= (Date(wireTimestamp: opened.openedAt) ?? .distantFuture))
            #expect(!attempt.startedBy.isEmpty)

            var end = Pingan_Dispute_V1_EndRungRequest()
            end.caseID = opened.id
            end.attemptID = attempt.id
            end.outcome = .eased
            end.note = "双方情绪缓和"
            end.endedAt = Date(timeIntervalSince1970: 0).wireTimestamp
            await expectCode(.invalidArgument, containing: "ended_at:") {
                _ = try await mesh.call(DisputeServiceMethods.endRung, end, as: "town-a")
            }
            end.endedAt = ""
            let ended = try await mesh.call(DisputeServiceMethods.endRung, end, as: "town-a").attempt
            #expect(ended.endedAt == ended.endEnteredAt && ended.endedBy == attempt.startedBy)
        }
    }
}
