import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganTestSupport
import Testing

/// Accounts through the real gateway executable: the first administrator made by
/// `gateway add-user` (Mesh.startAll) makes the rest through `AdminService`, and what it
/// changes applies at the door, with the services behind it answering.
@Suite("account administration through the gateway", .serialized)
struct AccountAdminTests {
    @Test func theFirstAdministratorMakesAUserWhoWorksUntilDisabled() async throws {
        try await withMesh { mesh, _, _ in
            let created = try await mesh.call(AdminServiceMethods.createUser, .with {
                $0.username = "town-a-new"; $0.centreCode = Place.townA; $0.roles = ["staff"]; $0.password = Mesh.password
            }, as: "city-admin").user
            #expect(created.centreCode == Place.townA && !created.disabled)
            mesh.tokens["town-a-new"] = try await mesh.login("town-a-new")
            let listed = try await mesh.call(DisputeServiceMethods.listCases, .with { $0.divisionCode = Place.townA }, as: "town-a-new")
            #expect(listed.cases.isEmpty)

            // A township administrator made by the city cannot reach the county above.
            _ = try await mesh.call(AdminServiceMethods.createUser, .with {
                $0.username = "town-a-chief"; $0.centreCode = Place.townA; $0.roles = ["admin"]; $0.password = Mesh.password
            }, as: "city-admin")
            mesh.tokens["town-a-chief"] = try await mesh.login("town-a-chief")
            await expectCode(.permissionDenied) {
                _ = try await mesh.call(AdminServiceMethods.createUser, .with {
                    $0.username = "county-new"; $0.centreCode = Place.lixian; $0.roles = ["staff"]; $0.password = Mesh.password
                }, as: "town-a-chief")
            }
            await expectCode(.notFound) { _ = try await mesh.call(AdminServiceMethods.disableUser, .with { $0.username = "town-b" }, as: "town-a-chief") }

            _ = try await mesh.call(AdminServiceMethods.disableUser, .with { $0.username = "town-a-new" }, as: "town-a-chief")
            await expectCode(.unauthenticated) {
                _ = try await mesh.call(DisputeServiceMethods.listCases, .with { $0.divisionCode = Place.townA }, as: "town-a-new")
            }
            await expectCode(.unauthenticated, containing: "disabled") { _ = try await mesh.login("town-a-new") }
            let audited = try await mesh.count("SELECT count(*) FROM gateway.admin_audit")
            #expect(audited == 3)
        }
    }
}
