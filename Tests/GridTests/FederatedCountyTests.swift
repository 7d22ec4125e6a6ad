import DisputeService
import Foundation
@testable import GridService
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain
import PinganRuntime
import PinganTestSupport
import Testing

/// The city's grid-service once 澧县 runs its own platform: the county's relay calls the
/// city's live dispute-service, grid-service reads the list from it, and a grid the city
/// still holds in 澧县 files nothing new, while a grid of 临澧县 goes on as before.
@Suite("grid-service: a county that runs its own platform")
struct FederatedCountyTests {
    static let lixianVillage = Place.villageA
    static let linliVillage = "430724001201"

    @Test func aGridTheCityStillHoldsInTheCountyFilesThereAndTheOthersGoOn() async throws {
        let clock = ManualClock(morningOf: "2026-10-20")
        try await TestDatabase.with { database in
            let disputeSettings = DisputeSettings(service: try TestMesh.settings(databaseURL: database.url), overdueScanInterval: .seconds(3600))
            try await withLiveServer({ try DisputeApp.build(settings: disputeSettings, now: { clock.now }, onServerRunning: $0) }) { disputePort in
                let disputeURL = "http://127.0.0.1:\(disputePort)"
                let settings = try TestMesh.settings(databaseURL: database.url, peers: [.dispute: disputeURL])
                try await withLiveServer({ try GridApp.build(settings: settings, now: { clock.now }, onServerRunning: $0) }) { gridPort in
                    let transport = CurlTransport()
                    let grid = ConnectClient(baseURL: "http://127.0.0.1:\(gridPort)", transport: transport)
                    let dispute = ConnectClient(baseURL: disputeURL, transport: transport)
                    func call<I, O>(_ method: ConnectMethod<I, O>, _ request: I, _ caller: (String, String)) async throws -> O {
                        try await grid.call(method, request, options: CallOptions(headers: [caller]))
                    }
                    let admin = try person(TestMesh.root, [.admin, .staff])
                    _ = try await call(DivisionServiceMethods.importDivisions, .with {
                        $0.csv = "code,name,level,parent_code\n\(Self.lixianVillage),小渡口一村（生成）,village,\(Place.townA)\n\(Self.linliVillage),芭蕉社区（生成）,village,430724001000\n"
                    }, admin)
                    // Each village has a grid with a worker, registered before 澧县 ran its own.
                    func gridWithWorker(_ village: String) async throws -> (grid: String, member: String) {
                        let id = try await call(GridServiceMethods.createGrid, .with { $0.villageCode = village; $0.name = "第一网格" }, admin).grid.id
                        let member = try await call(GridServiceMethods.addGridMember, .with { $0.gridID = id; $0.name = "王某"; $0.role = .gridWorker }, admin).member.id
                        return (id, member)
                    }
                    let lixian = try await gridWithWorker(Self.lixianVillage)
                    let linli = try await gridWithWorker(Self.linliVillage)
                    func report(_ filed: (grid: String, member: String), _ village: String) async throws -> String {
                        try await call(GridServiceMethods.reportIncident, .with {
                            $0.gridID = filed.grid
                            $0.reporterMemberID = filed.member
                            $0.category = .neighbour
                            $0.description_p = "邻里因排水沟争吵"
                            $0.parties = [.with { $0.name = "甲某" }, .with { $0.name = "乙某" }]
                        }, try person(village, [.gridWorker])).incident.id
                    }
                    func screen(_ filed: (grid: String, member: String), _ village: String) async throws {
                        _ = try await call(GridServiceMethods.recordScreening, .with {
                            $0.gridID = filed.grid
                            $0.reporterMemberID = filed.member
                            $0.day = "2026-10-20"
                            $0.householdsVisited = 12
                        }, try person(village, [.gridWorker]))
                    }
                    let pool = database.pool()
                    let counties = FederatedCounties(
                        pool: pool, dispute: dispute, verifier: try PrincipalVerifier(meshSecret: TestMesh.secret), root: try DivisionCode(validating: TestMesh.root)
                    )
                    func stored() async throws -> (incidents: Int, screenings: Int, events: Int) {
                        let row = try await pool.query("""
                            SELECT (SELECT count(*) FROM grid.incidents), (SELECT count(*) FROM grid.screenings), (SELECT count(*) FROM grid.outbox)
                            """)[0]
                        return (try row.decode(Int.self, at: 0), try row.decode(Int.self, at: 1), try row.decode(Int.self, at: 2))
                    }

                    // Before 澧县's first call the city's grids there file as any other, and the
                    // city's old system's grids and workers of both counties are imported.
                    #expect(try await counties.refresh(now: clock.now) == [])
                    _ = try await report(lixian, Self.lixianVillage)
                    let importer = GridImporter(pool: pool, retention: .default, batchSize: 1, now: { clock.now })
                    func importing(_ kind: ImportKind, _ records: [[String: Any]]) async throws -> ImportSummary {
                        try await importer.run(kind, lines: ImportLines(text: try ndjson(records)), by: "user:zhang")
                    }
                    func gridLine(_ id: String, _ village: String) -> [String: Any] {
                        ["legacy_id": id, "village_code": village, "name": "网格\(id)", "created_at": "2025-03-01T08:00:00+08:00"]
                    }
                    func memberLine(_ id: String, of grid: String) -> [String: Any] {
                        ["legacy_id": id, "grid_legacy_id": grid, "name": "赵某", "role": "grid_worker", "created_at": "2025-03-01T09:00:00+08:00"]
                    }
                    func dayLine(of grid: String, by member: String) -> [String: Any] {
                        ["legacy_id": "S-\(grid)", "grid_legacy_id": grid, "reporter_legacy_id": member, "day": "2026-10-19",
                         "households_visited": 9, "disputes_found": 0, "recorded_at": "2026-10-19T18:30:00+08:00"]
                    }
                    #expect(try await importing(.grids, [gridLine("G-L", Self.lixianVillage), gridLine("G-N", Self.linliVillage)]).imported == 2)
                    #expect(try await importing(.members, [memberLine("M-L", of: "G-L"), memberLine("M-N", of: "G-N")]).imported == 2)

                    // 澧县's relay calls the city; grid-service's next reading has the county.
                    _ = try await dispute.call(FederationServiceMethods.receiveCases, .init(), options: CallOptions(headers: [try person(Place.lixian, [.federation])]))
                    #expect(try await counties.refresh(now: clock.now).map(\.rawValue) == [Place.lixian])
                    let before = try await stored()
                    let refusal = "\(Self.lixianVillage) lies in county 澧县, which runs its own platform and keeps the grids under it: record this there"
                    await expectCode(.failedPrecondition, containing: refusal) { _ = try await report(lixian, Self.lixianVillage) }
                    await expectCode(.failedPrecondition, containing: refusal) { try await screen(lixian, Self.lixianVillage) }
                    await expectCode(.failedPrecondition, containing: refusal) {
                        _ = try await call(GridServiceMethods.createGrid, .with { $0.villageCode = Self.lixianVillage; $0.name = "第二网格" }, admin)
                    }
                    await expectCode(.failedPrecondition, containing: refusal) {
                        _ = try await call(GridServiceMethods.addGridMember, .with { $0.gridID = lixian.grid; $0.name = "李某"; $0.role = .gridWorker }, admin)
                    }
                    // Refused, nothing was kept: no incident, no screening day, no event to park.
                    #expect(try await stored() == before)
                    // A worker of another county's grid still cannot see whether 澧县's grid exists.
                    await expectCode(.notFound) { _ = try await report((lixian.grid, linli.member), Self.linliVillage) }

                    // The old system's later files: 澧县's lines are refused by line, 临澧县's go in.
                    let lineRefusal = "grid_legacy_id: \(refusal)"
                    let days = try await importing(.screening, [dayLine(of: "G-L", by: "M-L"), dayLine(of: "G-N", by: "M-N")])
                    #expect(days.refusals.map(\.description) == ["line 1: \(lineRefusal)"] && days.imported == 1)
                    let members = try await importing(.members, [memberLine("M-L2", of: "G-L"), memberLine("M-N2", of: "G-N")])
                    #expect(members.refusals.map(\.description) == ["line 1: \(lineRefusal)"] && members.imported == 1)
                    let grids = try await importing(.grids, [gridLine("G-N2", Self.linliVillage), gridLine("G-L2", Self.lixianVillage)])
                    #expect(grids.refusals.map(\.description) == ["line 2: village_code: \(refusal)"] && grids.imported == 1)
                    let afterImports = try await stored()

                    // 临澧县's grid reports and screens as before.
                    _ = try await report(linli, Self.linliVillage)
                    try await screen(linli, Self.linliVillage)
                    #expect(try await stored() == (afterImports.incidents + 1, afterImports.screenings + 1, afterImports.events + 1))
                    #expect(afterImports.screenings == before.screenings + 1)

                    // 澧县's cases moved back to the city: the operator removes it from the
                    // federation's peers, and the next reading lets its grids file again.
                    try await pool.query("DELETE FROM dispute.federation_peers WHERE county_code = $1", [Place.lixian])
                    #expect(try await counties.refresh(now: clock.now) == [])
                    _ = try await report(lixian, Self.lixianVillage)
                    await pool.close()
                }
            }
        }
    }
}
