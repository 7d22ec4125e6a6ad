@testable import DisputeService
import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain
import PinganOutbox
import PinganPostgres
import PinganTestSupport
import Testing

/// dispute-service's case store against PostgreSQL: the listing's SQL and the case file agree
/// on what is overdue, and a change decided on a file that went stale is refused, not applied
/// over what changed in between.
@Suite("dispute: the case store")
struct CaseStoreTests {
    let village = "430781103201", township = "430781103000"

    /// A walk-in case in 白衣镇's village with the finder's rung started at `clock`'s time.
    func openCaseWithARung(_ rpc: InProcessClient) async throws -> (caseID: String, attempt: Pingan_Dispute_V1_RungAttempt) {
        var intake = Pingan_Dispute_V1_IntakeCaseRequest()
        intake.requestID = UUID().wire
        intake.villageCode = village
        intake.category = .land
        intake.source = .walkIn
        intake.description_p = "两户因承包地边界争执"
        intake.parties = [.with { $0.name = "周某" }, .with { $0.name = "吴某" }]
        let staff = try TestMesh.principal(centre: township, roles: [.staff, .mediator])
        let caseID = try await rpc.call(DisputeServiceMethods.intakeCase, intake, headers: [staff]).case.id
        var start = Pingan_Dispute_V1_StartRungRequest()
        start.caseID = caseID
        start.rung = .finder
        start.lead = "网格员王某"
        let attempt = try await rpc.call(DisputeServiceMethods.startRung, start, headers: [staff]).attempt
        return (caseID, attempt)
    }

    @Test func theListingAndTheCaseFileAgreeOnOverdueAtTheDeadline() async throws {
        let clock = ManualClock(morningOf: "2026-03-02")
        try await withDispute(now: { clock.now }) { rpc, database in
            let (caseID, attempt) = try await openCaseWithARung(rpc)
            let due = try #require(Date(wireTimestamp: attempt.deadline.dueAt))
            let pool = database.pool()
            let store = PostgresCaseStore(pool: pool, outbox: Outbox(schema: "dispute"))
            let id = try #require(UUID(uuidString: caseID))
            var overdue = Pingan_Dispute_V1_ListCasesRequest()
            overdue.divisionCode = township
            overdue.overdueOnly = true
            let staff = try TestMesh.principal(centre: township, roles: [.staff])
            for (at, expected) in [(due.addingTimeInterval(-0.001), false), (due, true)] {
                clock.advance(by: at.timeIntervalSince(clock.now))
                let listed = try await rpc.call(DisputeServiceMethods.listCases, overdue, headers: [staff]).cases.map(\.id)
                let file = try #require(try await store.file(id))
                #expect(listed == (expected ? [caseID] : []), "the listing at \(at)")
                #expect(file.overdueSteps(at: at).map(\.step) == (expected ? [.rung] : []), "the file at \(at)")
                let exported = try await PostgresCaseReports(pool: pool).export(
                    under: try DivisionCode(validating: township), in: Month(containing: at), now: at
                )
                #expect(exported.map(\.overdue) == [expected], "the export at \(at)")
            }
            await pool.close()
        }
    }

    /// A township's listing (its subtree read first, then sorted) pages through the same
    /// cases, newest first, as the county's listing (walked newest first) shows of it.
    @Test func aTownshipsPagesAreItsCasesInTheCountysOrder() async throws {
        let clock = ManualClock(morningOf: "2026-03-02")
        try await withDispute(now: { clock.now }) { rpc, _ in
            let county = try TestMesh.principal(centre: "430781000000", roles: [.staff])
            for (index, place) in ["430781103201", "430781103202", "430781104201", "430781103201", "430781103202"].enumerated() {
                var intake = Pingan_Dispute_V1_IntakeCaseRequest()
                intake.requestID = UUID().wire
                intake.villageCode = place
                intake.category = .neighbour
                intake.source = .walkIn
                intake.description_p = "邻里纠纷 \(index)"
                intake.parties = [.with { $0.name = "甲\(index)" }, .with { $0.name = "乙\(index)" }]
                _ = try await rpc.call(DisputeServiceMethods.intakeCase, intake, headers: [county])
                clock.advance(by: 60)
            }
            func pages(_ code: String) async throws -> [[String]] {
                var pages: [[String]] = []
                var token = ""
                repeat {
                    let page = try await rpc.call(DisputeServiceMethods.listCases, .with {
                        $0.divisionCode = code; $0.pageSize = 2; $0.pageToken = token
                    }, headers: [county])
                    pages.append(page.cases.map(\.id))
                    token = page.nextPageToken
                } while !token.isEmpty
                return pages
            }
            let all = try await pages("430781000000").flatMap { $0 }
            let listedInCounty = try await rpc.call(DisputeServiceMethods.listCases, .with { $0.divisionCode = "430781000000"; $0.pageSize = 10 }, headers: [county]).cases
            let township = listedInCounty.filter { $0.villageCode.hasPrefix("430781103") }.map(\.id)
            #expect(all.count == 5 && township.count == 4)
            #expect(try await pages("430781103000") == [Array(township[0..<2]), Array(township[2..<4])])
            #expect(try await pages("430781103201").flatMap { $0 } == listedInCounty.filter { $0.villageCode == "430781103201" }.map(\.id))
        }
    }

    @Test func aChangeDecidedOnAStaleFileIsRefusedAndNothingOfItIsWritten() async throws {
        let clock = ManualClock(morningOf: "2026-03-02")
        try await withDispute(now: { clock.now }) { rpc, database in
            let (caseID, attempt) = try await openCaseWithARung(rpc)
            let pool = database.pool()
            let store = PostgresCaseStore(pool: pool, outbox: Outbox(schema: "dispute"))
            let id = try #require(UUID(uuidString: caseID))
            let read = try #require(try await store.file(id))
            // Someone ends the rung after the file was read ...
            var end = Pingan_Dispute_V1_EndRungRequest()
            end.caseID = caseID
            end.attemptID = attempt.id
            end.outcome = .failed
            end.note = "双方各执一词"
            _ = try await rpc.call(DisputeServiceMethods.endRung, end, headers: [try TestMesh.principal(centre: township, roles: [.staff, .mediator])])
            // ... so ending it again, as decided on the old file, is refused.
            let again: [CaseChange] = [.attemptEnded(id: read.attempts[0].id, outcome: .eased, note: "stale", at: clock.now, by: "user:test"), .timeline(kind: "rung_ended", note: "stale", actor: "user:test")]
            await #expect(throws: CaseStoreError.self) { _ = try await store.apply(again, to: read, now: clock.now) }
            let now = try #require(try await store.file(id))
            #expect(now.attempts[0].outcome == .failed)
            #expect(now.revision == read.revision + 1)
            #expect(try await pool.query("SELECT count(*) FROM dispute.timeline WHERE note = 'stale'")[0].decode(Int.self, at: 0) == 0)
            await pool.close()
        }
    }
}
