import Foundation
@testable import IndexService
import PinganConnect
import PinganContracts
import PinganDomain
import PinganPostgres
import PinganTestSupport
import Testing

@Suite("index-service in process")
struct IndexHandlerTests {
    @Test func rankingsComeFromTheStoredMonthWithinTheCallersSubtree() async throws {
        try await TestDatabase.with { database in
            let app = try IndexApp.build(settings: IndexSettings(service: try TestMesh.settings(databaseURL: database.url)))
            try await app.test(.router) { client in
                let rpc = InProcessClient(client)
                let month = Month(year: 2026, month: 10)
                let divisions = try [Place.lixian, Place.townA, Place.villageA, Place.townB, Place.villageB].map { (code: try DivisionCode(validating: $0), name: $0) }
                var busy = GovernanceIndex.Facts()
                busy.opened = 2
                busy.resolved = 2
                busy.raised = 2
                let scored = GovernanceIndex.compute(divisions: divisions, villageFacts: [Place.villageB: busy])
                let pool = database.pool()
                try await PostgresIndexStore(pool: pool).replace(month, with: scored)
                await pool.close()

                var ranking = Pingan_Index_V1_GetRankingRequest()
                ranking.parentCode = Place.lixian
                ranking.month = month.description
                let townships = try await rpc.call(IndexServiceMethods.getRanking, ranking, headers: [try person(Place.lixian, [.leader])]).scores
                #expect(townships.map(\.code) == [Place.townA, Place.townB])
                #expect(townships.map(\.rank) == [1, 2])
                #expect(townships[0].score > townships[1].score)

                ranking.month = "2026-09"
                #expect(try await rpc.call(IndexServiceMethods.getRanking, ranking, headers: [try person(Place.lixian, [.leader])]).scores.isEmpty)
                await expectCode(.permissionDenied, containing: "parent_code:") {
                    _ = try await rpc.call(IndexServiceMethods.getRanking, ranking, headers: [try person(Place.townA, [.leader])])
                }
                ranking.month = "2026-13"
                await expectCode(.invalidArgument, containing: "month:") {
                    _ = try await rpc.call(IndexServiceMethods.getRanking, ranking, headers: [try person(Place.lixian, [.leader])])
                }
            }
        }
    }

    @Test func computingNeedsALeaderOfTheRootCentreAMonthThatBegunAndAnswersUnavailableWhilePeersAreDown() async throws {
        try await TestDatabase.with { database in
            let app = try IndexApp.build(settings: IndexSettings(service: try TestMesh.settings(databaseURL: database.url)))
            try await app.test(.router) { client in
                let rpc = InProcessClient(client)
                var compute = Pingan_Index_V1_ComputeMonthlyIndexRequest()
                compute.month = "2026-10"
                await expectCode(.permissionDenied) {
                    _ = try await rpc.call(IndexServiceMethods.computeMonthlyIndex, compute, headers: [try person(Place.lixian, [.staff])])
                }
                // A county leader (澧县) recomputing the whole city was once accepted.
                await expectCode(.permissionDenied, containing: "root centre 430700000000") {
                    _ = try await rpc.call(IndexServiceMethods.computeMonthlyIndex, compute, headers: [try person(Place.lixian, [.leader])])
                }
                let cityLeader = try person("430700000000", [.leader])
                compute.month = "2031-11"
                await expectCode(.invalidArgument, containing: "month: 2031-11 has not begun") {
                    _ = try await rpc.call(IndexServiceMethods.computeMonthlyIndex, compute, headers: [cityLeader])
                }
                compute.month = "2026-10"
                await expectCode(.unavailable) {
                    _ = try await rpc.call(IndexServiceMethods.computeMonthlyIndex, compute, headers: [cityLeader])
                }
            }
        }
    }

    @Test func replacingTheSameMonthAtOnceSucceedsForBoth() async throws {
        try await TestDatabase.with { database in
            let app = try IndexApp.build(settings: IndexSettings(service: try TestMesh.settings(databaseURL: database.url)))
            try await app.test(.router) { _ in
                let pool = database.pool(maxConnections: 8)
                let store = PostgresIndexStore(pool: pool)
                let divisions = try [Place.lixian, Place.townA, Place.villageA].map { (code: try DivisionCode(validating: $0), name: $0) }
                let scored = GovernanceIndex.compute(divisions: divisions, villageFacts: [:])
                let month = Month(year: 2026, month: 10)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<8 { group.addTask { try await store.replace(month, with: scored) } }
                    try await group.waitForAll()
                }
                let rows = try await pool.query("SELECT count(*) FROM index.scores WHERE month = '2026-10'").first?.decode(Int.self, at: 0)
                await pool.close()
                #expect(rows == 3)
            }
        }
    }
}
