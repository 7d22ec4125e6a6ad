import Foundation
@testable import GridService
import PinganAccess
import PinganConnect
import PinganContracts
import PinganTestSupport
import Testing

/// A deployment finds the grids it created (issue 24: a second run could not), page by page,
/// inside the caller's jurisdiction only.
extension GridInputTests {
    @Test func theGridsUnderACentreAreListedPageByPage() async throws {
        try await withVillage { client, admin, _ in
            var made: [String] = []
            for name in ["第一网格", "第二网格", "第三网格"] {
                var create = Pingan_Grid_V1_CreateGridRequest()
                create.villageCode = "430723102201"
                create.name = name
                made.append(try await client.call(GridServiceMethods.createGrid, create, options: CallOptions(headers: [admin])).grid.id)
            }
            var list = Pingan_Grid_V1_ListGridsRequest()
            list.centreCode = "430723102000"
            list.pageSize = 2
            let township = try TestMesh.principal(centre: "430723102000", roles: [.staff])
            let first = try await client.call(GridServiceMethods.listGrids, list, options: CallOptions(headers: [township]))
            #expect(first.grids.map(\.id) == Array(made.prefix(2)) && !first.nextPageToken.isEmpty)
            #expect(first.grids.first?.name == "第一网格" && first.grids.first?.villageCode == "430723102201")
            list.pageToken = first.nextPageToken
            let second = try await client.call(GridServiceMethods.listGrids, list, options: CallOptions(headers: [township]))
            #expect(second.grids.map(\.id) == [made[2]] && second.nextPageToken.isEmpty)
            list.pageToken = ""
            let sibling = try TestMesh.principal(centre: "430723103000", roles: [.staff])
            await expectCode(.permissionDenied, containing: "centre_code:") {
                _ = try await client.call(GridServiceMethods.listGrids, list, options: CallOptions(headers: [sibling]))
            }
            list.centreCode = "430723103000"
            #expect(try await client.call(GridServiceMethods.listGrids, list, options: CallOptions(headers: [sibling])).grids.isEmpty)
        }
    }
}

/// A centre sees who works in a grid, names masked, page by page; a grid outside its
/// jurisdiction is answered as one that does not exist.
extension GridInputTests {
    @Test func aGridsMembersAreListedMaskedPageByPage() async throws {
        try await withVillage { client, admin, _ in
            var create = Pingan_Grid_V1_CreateGridRequest()
            create.villageCode = "430723102201"
            create.name = "第一网格"
            let grid = try await client.call(GridServiceMethods.createGrid, create, options: CallOptions(headers: [admin])).grid.id
            var added: [String] = []
            for (name, role) in [("张建国", Pingan_Grid_V1_GridRole.gridWorker), ("李秀英", .mediationDirector), ("王小明", .safetyVolunteer)] {
                var add = Pingan_Grid_V1_AddGridMemberRequest()
                add.gridID = grid
                add.name = name
                add.role = role
                added.append(try await client.call(GridServiceMethods.addGridMember, add, options: CallOptions(headers: [admin])).member.id)
            }
            var list = Pingan_Grid_V1_ListGridMembersRequest()
            list.gridID = grid
            list.pageSize = 2
            let township = try TestMesh.principal(centre: "430723102000", roles: [.staff])
            let first = try await client.call(GridServiceMethods.listGridMembers, list, options: CallOptions(headers: [township]))
            #expect(first.members.map(\.id) == Array(added.prefix(2)) && !first.nextPageToken.isEmpty)
            #expect(first.members.map(\.name) == ["张**", "李**"] && first.members.map(\.role) == [.gridWorker, .mediationDirector])
            #expect(first.members.allSatisfy { $0.gridID == grid })
            list.pageToken = first.nextPageToken
            let second = try await client.call(GridServiceMethods.listGridMembers, list, options: CallOptions(headers: [township]))
            #expect(second.members.map(\.id) == [added[2]] && second.nextPageToken.isEmpty && second.members.first?.role == .safetyVolunteer)

            // A sibling township gets what a grid that does not exist gets.
            list.pageToken = ""
            let sibling = try TestMesh.principal(centre: "430723103000", roles: [.staff])
            let outside = await connectError { _ = try await client.call(GridServiceMethods.listGridMembers, list, options: CallOptions(headers: [sibling])) }
            var missing = list
            missing.gridID = UUID().uuidString.lowercased()
            let absent = await connectError { _ = try await client.call(GridServiceMethods.listGridMembers, missing, options: CallOptions(headers: [sibling])) }
            #expect(outside?.code == .notFound && absent?.code == .notFound)
            #expect(outside?.message.replacingOccurrences(of: grid, with: "") == absent?.message.replacingOccurrences(of: missing.gridID, with: ""))

            // A grid worker reports from a grid; who else works in it is the centre's to list.
            let worker = try TestMesh.principal(centre: "430723102201", roles: [.gridWorker])
            await expectCode(.permissionDenied) {
                _ = try await client.call(GridServiceMethods.listGridMembers, list, options: CallOptions(headers: [worker]))
            }
            var bad = list
            bad.gridID = "第一网格"
            await expectCode(.invalidArgument, containing: "grid_id:") {
                _ = try await client.call(GridServiceMethods.listGridMembers, bad, options: CallOptions(headers: [township]))
            }
            bad = list
            bad.pageToken = "not-a-token"
            await expectCode(.invalidArgument, containing: "page_token:") {
                _ = try await client.call(GridServiceMethods.listGridMembers, bad, options: CallOptions(headers: [township]))
            }
        }
    }
}

/// The Connect error `call` fails with, or `nil` when it succeeds or fails otherwise.
private func connectError(_ call: () async throws -> Void) async -> ConnectError? {
    do {
        try await call()
        return nil
    } catch {
        return error as? ConnectError
    }
}
