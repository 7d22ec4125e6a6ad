import Foundation
@testable import IndexService
import PinganConnect
import PinganContracts
import PinganDomain
import PinganOutbox
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
                var busy = FactSheet()
                busy["grids"] = 1
                busy["grid_days"] = 31
                busy["grid_days_screened"] = 31
                let scored = GovernanceIndex(catalogue: try IndexApp.bundledCatalogue()).compute(divisions: divisions, villageFacts: [Place.villageB: busy], seed: "t")
                let pool = database.pool()
                _ = try await Self.store(pool).publish(Self.publication(month), scored: scored)
                await pool.close()

                var ranking = Pingan_Index_V1_GetRankingRequest()
                ranking.parentCode = Place.lixian
                ranking.month = month.description
                let townships = try await rpc.call(IndexServiceMethods.getRanking, ranking, headers: [try person(Place.lixian, [.leader])]).scores
                // 梦溪镇 screened; 小渡口镇 has no data at all and is listed after, unranked.
                #expect(townships.map(\.code) == [Place.townB, Place.townA])
                #expect(townships.map(\.rank) == [1, 0])
                #expect(townships[0].enoughData && !townships[1].enoughData && townships[1].score == 0)

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
                let store = Self.store(pool)
                let divisions = try [Place.lixian, Place.townA, Place.villageA].map { (code: try DivisionCode(validating: $0), name: $0) }
                let scored = GovernanceIndex(catalogue: try IndexApp.bundledCatalogue()).compute(divisions: divisions, villageFacts: [:], seed: "t")
                let month = Month(year: 2026, month: 10)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<8 { group.addTask { _ = try await store.publish(Self.publication(month), scored: scored) } }
                    try await group.waitForAll()
                }
                let rows = try await pool.query("SELECT count(*) FROM index.scores WHERE month = '2026-10'").first?.decode(Int.self, at: 0)
                await pool.close()
                #expect(rows == 3)
            }
        }
    }

    @Test func theEndedMonthsStillProvisionalAreTheOnesTheSchedulerComputesAgain() async throws {
        try await TestDatabase.with { database in
            let app = try IndexApp.build(settings: IndexSettings(service: try TestMesh.settings(databaseURL: database.url)))
            try await app.test(.router) { _ in
                let pool = database.pool()
                let store = Self.store(pool)
                let divisions = try [Place.lixian].map { (code: try DivisionCode(validating: $0), name: $0) }
                let scored = GovernanceIndex(catalogue: try IndexApp.bundledCatalogue()).compute(divisions: divisions, villageFacts: [:], seed: "t")
                // August frozen; September waiting on a county; October frozen, then recomputed
                // provisionally while a county's link is down; November running.
                func publish(_ month: Month, _ status: MonthVersion.Status, recompute: Bool = false) async throws {
                    _ = try await store.publish(
                        Publication(
                            month: month, catalogueVersion: "test", status: status, computedBy: "user:test",
                            reason: recompute ? "澧县补报" : "", mayRecomputeFrozen: recompute, now: Date()
                        ),
                        scored: scored
                    )
                }
                try await publish(Month(year: 2026, month: 8), .frozen)
                try await publish(Month(year: 2026, month: 9), .provisional)
                try await publish(Month(year: 2026, month: 10), .frozen)
                try await publish(Month(year: 2026, month: 10), .provisional, recompute: true)
                try await publish(Month(year: 2026, month: 11), .provisional)
                let unfrozen = try await store.toFreeze(before: Month(year: 2026, month: 11))
                // In January, December has no version yet: it is computed to freeze too.
                let january = try await store.toFreeze(before: Month(year: 2027, month: 1))
                await pool.close()
                #expect(unfrozen.map(\.description) == ["2026-09", "2026-10"])
                #expect(january.map(\.description) == ["2026-09", "2026-10", "2026-11", "2026-12"])
            }
        }
    }

    static func store(_ pool: PostgresPool) -> PostgresMonthStore {
        PostgresMonthStore(pool: pool, outbox: Outbox(schema: IndexMigrations.schema))
    }

    static func publication(_ month: Month) -> Publication {
        Publication(
            month: month, catalogueVersion: "test", status: .provisional, computedBy: "user:test",
            reason: "", mayRecomputeFrozen: false, now: Date()
        )
    }
}
