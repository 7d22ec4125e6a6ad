import Foundation
@testable import GridService
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain
import PinganTestSupport
import Testing

/// A grid's daily screening (每日信息排查), recorded by its own workers and read by the index.
@Suite("grid-service daily screening")
struct ScreeningTests {
    static let village = "430723102201", sibling = "430723103201"

    @Test func aGridRecordsEachDayOnceCorrectsItAndTheIndexReadsTheMonth() async throws {
        let clock = ManualClock(morningOf: "2026-10-20")
        try await TestDatabase.with { database in
            let settings = try TestMesh.settings(databaseURL: database.url)
            try await withLiveServer({ try GridApp.build(settings: settings, now: { clock.now }, onServerRunning: $0) }) { port in
                let client = ConnectClient(baseURL: "http://127.0.0.1:\(port)", transport: CurlTransport())
                func call<I, O>(_ method: ConnectMethod<I, O>, _ request: I, _ caller: (String, String)) async throws -> O {
                    try await client.call(method, request, options: CallOptions(headers: [caller]))
                }
                let admin = try TestMesh.principal(centre: TestMesh.root, roles: [.admin, .staff])
                var divisions = Pingan_Grid_V1_ImportDivisionsRequest()
                divisions.csv = "code,name,level,parent_code\n\(Self.village),小渡口一村（生成）,village,430723102000\n\(Self.sibling),梦溪一村（生成）,village,430723103000\n"
                _ = try await call(DivisionServiceMethods.importDivisions, divisions, admin)
                var create = Pingan_Grid_V1_CreateGridRequest()
                create.villageCode = Self.village
                create.name = "第一网格"
                let grid = try await call(GridServiceMethods.createGrid, create, admin).grid.id
                var add = Pingan_Grid_V1_AddGridMemberRequest()
                add.gridID = grid
                add.name = "王某"
                add.role = .gridWorker
                let member = try await call(GridServiceMethods.addGridMember, add, admin).member.id

                let worker = try TestMesh.principal(centre: Self.village, roles: [.gridWorker])
                var screening = Pingan_Grid_V1_RecordScreeningRequest()
                screening.gridID = grid
                screening.reporterMemberID = member
                screening.day = "2026-10-20"
                screening.householdsVisited = 15
                #expect(try await call(GridServiceMethods.recordScreening, screening, worker).corrected == false)
                screening.disputesFound = 1
                let corrected = try await call(GridServiceMethods.recordScreening, screening, worker)
                #expect(corrected.corrected && corrected.screening.disputesFound == 1)
                screening.day = "2026-10-19"
                screening.disputesFound = 0
                _ = try await call(GridServiceMethods.recordScreening, screening, worker)

                screening.day = "2026-10-21"
                await expectCode(.invalidArgument, containing: "day: 2026-10-21 is after today (2026-10-20, China time)") {
                    _ = try await call(GridServiceMethods.recordScreening, screening, worker)
                }
                screening.day = "2026-10-32"
                await expectCode(.invalidArgument, containing: "day: must be a date as YYYY-MM-DD") {
                    _ = try await call(GridServiceMethods.recordScreening, screening, worker)
                }
                screening.day = "2026-10-18"
                screening.householdsVisited = -1
                await expectCode(.invalidArgument, containing: "households_visited: must be between 0 and 10000") {
                    _ = try await call(GridServiceMethods.recordScreening, screening, worker)
                }
                screening.householdsVisited = 3
                screening.reporterMemberID = UUID().wire
                await expectCode(.invalidArgument, containing: "reporter_member_id: is not a member of grid") {
                    _ = try await call(GridServiceMethods.recordScreening, screening, worker)
                }
                // Another township's worker learns nothing about the grid.
                screening.reporterMemberID = member
                await expectCode(.notFound, containing: "grid \(grid) not found") {
                    _ = try await call(GridServiceMethods.recordScreening, screening, try TestMesh.principal(centre: Self.sibling, roles: [.gridWorker]))
                }

                var facts = Pingan_Grid_V1_ScreeningFactsRequest()
                facts.rootCode = "430723000000"
                facts.month = "2026-10"
                let month = try await call(GridServiceMethods.screeningFacts, facts, try TestMesh.principal(centre: "430723000000", roles: [.leader]))
                #expect(month.facts.count == 1)
                let village = try #require(month.facts.first)
                #expect(village.villageCode == Self.village && village.grids == 1 && village.gridDaysScreened == 2)
                #expect(village.nothingFoundDays == 1 && village.disputesFound == 1 && village.householdsVisited == 30)
                facts.month = "2026-09"
                #expect(try await call(GridServiceMethods.screeningFacts, facts, try TestMesh.principal(centre: "430723000000", roles: [.leader])).facts.isEmpty)
            }
        }
    }
}
