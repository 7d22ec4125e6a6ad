@testable import DisputeService
import Foundation
import PinganConnect
import PinganContracts
import PinganTestSupport
import Testing

/// What an integrator finds of the departments it registered (issue 24): a second run
/// registering the same department gets the one it made, a name or key another department
/// holds names that department, and the centre's departments can be listed, page by page,
/// inside the caller's jurisdiction only.
@Suite("dispute: departments")
struct DepartmentTests {
    @Test func registeringAgainAnswersTheDepartmentAndAListFindsThemAll() async throws {
        try await withDispute { rpc, _ in
            let admin = try person(Place.townA, [.admin])
            func register(_ name: String, _ key: String) -> Pingan_Dispute_V1_RegisterDepartmentRequest {
                var request = Pingan_Dispute_V1_RegisterDepartmentRequest()
                request.centreCode = Place.townA
                request.name = name
                request.apiKeyName = key
                return request
            }
            let police = try await rpc.call(DisputeServiceMethods.registerDepartment, register("小渡口派出所", "xdk-police"), headers: [admin]).department
            let again = try await rpc.call(DisputeServiceMethods.registerDepartment, register("小渡口派出所", "xdk-police"), headers: [admin]).department
            #expect(again == police)
            await expectCode(.alreadyExists, containing: "department \(police.id)") {
                _ = try await rpc.call(DisputeServiceMethods.registerDepartment, register("小渡口派出所", "another-key"), headers: [admin])
            }
            await expectCode(.alreadyExists, containing: "department \(police.id)") {
                _ = try await rpc.call(DisputeServiceMethods.registerDepartment, register("小渡口司法所", "xdk-police"), headers: [admin])
            }
            let justice = try await rpc.call(DisputeServiceMethods.registerDepartment, register("小渡口司法所", "xdk-justice"), headers: [admin]).department

            var list = Pingan_Dispute_V1_ListDepartmentsRequest()
            list.centreCode = Place.townA
            list.pageSize = 1
            let staff = try person(Place.townA, [.staff])
            let first = try await rpc.call(DisputeServiceMethods.listDepartments, list, headers: [staff])
            #expect(first.departments.map(\.id) == [police.id] && !first.nextPageToken.isEmpty)
            list.pageToken = first.nextPageToken
            let second = try await rpc.call(DisputeServiceMethods.listDepartments, list, headers: [staff])
            #expect(second.departments.map(\.id) == [justice.id] && second.nextPageToken.isEmpty)
            list.pageToken = ""
            list.pageSize = 0
            list.centreCode = Place.lixian
            #expect(try await rpc.call(DisputeServiceMethods.listDepartments, list, headers: [try person(Place.lixian, [.leader])]).departments.count == 2)
            await expectCode(.permissionDenied, containing: "centre_code:") {
                _ = try await rpc.call(DisputeServiceMethods.listDepartments, list, headers: [try person(Place.townB, [.staff])])
            }
        }
    }
}
