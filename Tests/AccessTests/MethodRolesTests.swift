import Foundation
import PinganAccess
import PinganContracts
import PinganTestSupport
import Testing

/// The roles table is the one the services enforce, covers every method of the contracts,
/// and is the one `docs/integrating.md` prints.
@Suite("who may call what")
struct MethodRolesTests {
    @Test func everyMethodOfTheContractsHasARuleAndTheIntegratorsPagePrintsTheTable() throws {
        let contracts = Set(MethodTable.byPath.keys)
        #expect(Set(MethodRoles.rules.keys) == contracts)
        let page = try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/integrating.md"), encoding: .utf8)
        #expect(page.contains(MethodRoles.markdown()), "docs/integrating.md must contain MethodRoles.markdown(), regenerate its roles table")
    }
}

import DisputeService
import GridService
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import IndexService
import NotifyService
import RiskService

extension MethodRolesTests {
    /// Generated from the table: every method that needs roles, called by someone holding
    /// every other role, is refused for the role before anything else is looked at.
    @Test func everyServiceRefusesCallersWithoutTheTablesRoles() async throws {
        let everyone: Set<Role> = [.staff, .gridWorker, .mediator, .leader, .admin, .department]
        try await TestDatabase.with { database in
            let service = try TestMesh.settings(databaseURL: database.url)
            try await GridApp.build(settings: service).test(.router) { grid in
                try await DisputeApp.build(settings: DisputeSettings(service: service)).test(.router) { dispute in
                    try await RiskApp.build(settings: RiskSettings(service: service)).test(.router) { risk in
                        try await IndexApp.build(settings: IndexSettings(service: service)).test(.router) { index in
                            try await NotifyApp.build(settings: NotifySettings(service: service)).test(.router) { notify in
                                let clients: [MeshService: any TestClientProtocol] = [.grid: grid, .dispute: dispute, .risk: risk, .index: index, .notify: notify]
                                var checked = 0
                                for (path, rule) in MethodRoles.rules.sorted(by: { $0.key < $1.key }) {
                                    guard case .anyOf(let roles) = rule, let owner = MethodTable.byPath[path]?.owner, let client = clients[owner] else { continue }
                                    let others = everyone.subtracting(roles)
                                    guard !others.isEmpty else { continue }
                                    let (name, value) = try TestMesh.principal(centre: TestMesh.root, roles: others)
                                    let response = try await client.executeRequest(
                                        uri: path, method: .post,
                                        headers: [.contentType: "application/json", HTTPField.Name(name)!: value], body: ByteBuffer(string: "{}")
                                    )
                                    let body = String(buffer: response.body)
                                    #expect(response.status == .forbidden && body.contains("this needs one of the roles"), "\(path) as \(others.map(\.rawValue).sorted()): \(body)")
                                    checked += 1
                                }
                                #expect(checked >= 40)
                            }
                        }
                    }
                }
            }
        }
    }
}
