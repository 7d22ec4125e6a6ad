@testable import DisputeService
import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain
import PinganTestSupport
import Testing

/// `ListMySummons` shows a department's system the summons addressed to it, and no others,
/// newest first, each with its case (never the parties).
@Suite("dispute: a department's own summons")
struct MySummonsTests {
    func mine(size: Int32 = 0, token: String = "") -> Pingan_Dispute_V1_ListMySummonsRequest {
        .with { $0.pageSize = size; $0.pageToken = token }
    }

    @Test func eachDepartmentSeesOnlyItsOwnSummonsNewestFirstPaged() async throws {
        let clock = ManualClock(morningOf: "2026-04-07")
        try await withDispute(now: { clock.now }) { rpc, _ in
            let admin = try TestMesh.principal(centre: Place.townA, roles: [.admin])
            let staff = try TestMesh.principal(centre: Place.townA, roles: [.staff])
            func register(_ name: String, _ key: String) async throws -> String {
                try await rpc.call(DisputeServiceMethods.registerDepartment, .with {
                    $0.centreCode = Place.townA; $0.name = name; $0.apiKeyName = key
                }, headers: [admin]).department.id
            }
            let police = try await register("小渡口派出所", "xdk-police")
            let justice = try await register("小渡口司法所", "xdk-justice")
            func open(_ party: String) async throws -> String {
                try await rpc.call(DisputeServiceMethods.openCase, openCase(UUID(), party: party), headers: try TestMesh.eventDelivery()).case.id
            }
            func summon(_ caseID: String, _ departments: [String]) async throws -> [String] {
                clock.advance(by: 3600)
                return try await rpc.call(DisputeServiceMethods.summonDepartments, .with {
                    $0.caseID = caseID; $0.departmentIds = departments
                }, headers: [staff]).summons.filter { departments.contains($0.departmentID) }.map(\.id)
            }
            let first = try await open("金某甲"), second = try await open("赵某丁"), third = try await open("孙某己")
            let policeOnFirst = try await summon(first, [police])[0]
            let justiceOnFirst = try await summon(first, [justice])[0]
            let policeOnSecond = try await summon(second, [police])[0]
            let both = try await summon(third, [police, justice])
            #expect(both.count == 2)

            func department(_ key: String) throws -> (String, String) {
                try TestMesh.principal(centre: Place.townA, roles: [.department], subject: "apikey:\(key)")
            }
            let page1 = try await rpc.call(DisputeServiceMethods.listMySummons, mine(size: 2), headers: [try department("xdk-police")])
            #expect(page1.summons.map(\.caseID) == [third, second] && !page1.nextPageToken.isEmpty)
            #expect(page1.summons[1].summons.id == policeOnSecond && page1.summons.allSatisfy { $0.summons.departmentID == police })
            #expect(page1.summons[0].villageCode == Place.villageA && page1.summons[0].category == .neighbour && page1.summons[0].status == .open)
            #expect(page1.summons[0].description_p == "两户邻居因宅基地边界反复争吵")
            let page2 = try await rpc.call(DisputeServiceMethods.listMySummons, mine(size: 2, token: page1.nextPageToken), headers: [try department("xdk-police")])
            #expect(page2.summons.map(\.summons.id) == [policeOnFirst] && page2.nextPageToken.isEmpty)

            let justices = try await rpc.call(DisputeServiceMethods.listMySummons, mine(), headers: [try department("xdk-justice")])
            #expect(justices.summons.map(\.caseID) == [third, first] && justices.summons[1].summons.id == justiceOnFirst)
            #expect(justices.summons.allSatisfy { $0.summons.departmentID == justice } && justices.nextPageToken.isEmpty)

            // A key with no registered department has no summons; other roles may not ask.
            #expect(try await rpc.call(DisputeServiceMethods.listMySummons, mine(), headers: [try department("no-such-key")]).summons.isEmpty)
            await expectCode(.permissionDenied) { _ = try await rpc.call(DisputeServiceMethods.listMySummons, mine(), headers: [staff]) }
            await expectCode(.invalidArgument, containing: "page_size") {
                _ = try await rpc.call(DisputeServiceMethods.listMySummons, mine(size: 201), headers: [try department("xdk-police")])
            }
        }
    }
}
