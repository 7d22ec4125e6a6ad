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
