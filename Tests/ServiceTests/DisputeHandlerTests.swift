@testable import DisputeService
import Foundation
import PinganConnect
import PinganContracts
import PinganPostgres
import PinganTestSupport
import Testing

@Suite("dispute-service in process")
struct DisputeHandlerTests {
    @Test func anEventOpensOneCaseAndItsAssessmentEventEvenWhenRedelivered() async throws {
        try await withDispute { rpc, database in
            let incident = UUID()
            let event = try TestMesh.eventDelivery()
            let first = try await rpc.call(DisputeServiceMethods.openCase, openCase(incident), headers: event)
            let again = try await rpc.call(DisputeServiceMethods.openCase, openCase(incident), headers: event)
            #expect(first.case.id == again.case.id)
            #expect(first.case.id == first.case.id.lowercased())
            #expect(first.case.parties.first?.name == "张**")
            #expect(first.case.parties.first?.phone == "138****5678")
            let pool = database.pool()
            let cases = try await pool.query("SELECT count(*) FROM dispute.cases").first?.decode(Int.self, at: 0)
            let events = try await pool.query("SELECT count(*) FROM dispute.outbox WHERE topic = 'case.opened'").first?.decode(Int.self, at: 0)
            await pool.close()
            #expect(cases == 1)
            #expect(events == 1)
        }
    }

    @Test func peopleCannotDeliverEvents() async throws {
        try await withDispute { rpc, database in
            await expectCode(.permissionDenied, containing: "internal to the mesh") {
                _ = try await rpc.call(DisputeServiceMethods.openCase, openCase(UUID()), headers: [try person(Place.townA, [.staff, .admin])])
            }
        }
    }

    @Test func aCaseIsVisibleInItsTownshipOnlyAndRevealsAreAudited() async throws {
        try await withDispute { rpc, database in
            let opened = try await rpc.call(DisputeServiceMethods.openCase, openCase(UUID()), headers: try TestMesh.eventDelivery())
            var get = Pingan_Dispute_V1_GetCaseRequest()
            get.caseID = opened.case.id
            let seen = try await rpc.call(DisputeServiceMethods.getCase, get, headers: [try person(Place.townA, [.staff])])
            #expect(seen.case.parties.first?.name == "张**")
            #expect(seen.timeline.map(\.kind) == ["opened"])

            // A sibling township gets exactly what a missing case gets.
            await expectCode(.notFound, containing: "case \(opened.case.id) not found") {
                _ = try await rpc.call(DisputeServiceMethods.getCase, get, headers: [try person(Place.townB, [.staff, .mediator])])
            }
            var missing = get
            missing.caseID = UUID().wire
            await expectCode(.notFound, containing: "case \(missing.caseID) not found") {
                _ = try await rpc.call(DisputeServiceMethods.getCase, missing, headers: [try person(Place.townA, [.staff])])
            }

            get.revealParties = true
            await expectCode(.permissionDenied, containing: "reveal_parties") {
                _ = try await rpc.call(DisputeServiceMethods.getCase, get, headers: [try person(Place.townA, [.staff])])
            }
            let revealed = try await rpc.call(DisputeServiceMethods.getCase, get, headers: [try person(Place.townA, [.mediator])])
            #expect(revealed.case.parties.first?.name == "张三丰")
            let pool = database.pool()
            let reads = try await pool.query("SELECT count(*) FROM dispute.personal_data_reads").first?.decode(Int.self, at: 0)
            await pool.close()
            #expect(reads == 1)
        }
    }

    @Test func resolvingRecordsTheOutcomeOnceOnTheTimeline() async throws {
        try await withDispute { rpc, database in
            let opened = try await rpc.call(DisputeServiceMethods.openCase, openCase(UUID()), headers: try TestMesh.eventDelivery())
            var resolve = Pingan_Dispute_V1_ResolveCaseRequest()
            resolve.caseID = opened.case.id
            resolve.outcome = "   "
            await expectCode(.invalidArgument, containing: "outcome:") {
                _ = try await rpc.call(DisputeServiceMethods.resolveCase, resolve, headers: [try person(Place.townA, [.mediator])])
            }
            resolve.outcome = "双方签订和解协议"
            await expectCode(.notFound) {
                _ = try await rpc.call(DisputeServiceMethods.resolveCase, resolve, headers: [try person(Place.townB, [.mediator])])
            }
            let resolved = try await rpc.call(DisputeServiceMethods.resolveCase, resolve, headers: [try person(Place.townA, [.mediator])])
            _ = try await rpc.call(DisputeServiceMethods.resolveCase, resolve, headers: [try person(Place.townA, [.mediator])])
            #expect(resolved.case.status == .resolved)
            var get = Pingan_Dispute_V1_GetCaseRequest()
            get.caseID = opened.case.id
            let timeline = try await rpc.call(DisputeServiceMethods.getCase, get, headers: [try person(Place.townA, [.staff])]).timeline
            #expect(timeline.map(\.kind) == ["opened", "resolved"])
        }
    }
}
