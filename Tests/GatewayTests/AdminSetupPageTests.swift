import Foundation
import Hummingbird
import HummingbirdTesting
@testable import GatewayService
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain
import PinganTestSupport
import SwiftProtobuf
import Testing

/// The centre administrator's set-up page (issue 25, `/ui/admin/setup`): departments and grid
/// members in the browser. Against the gateway with fake dispute- and grid-services.
@Suite("dashboard set-up page: departments and grid members")
struct AdminSetupPageTests {
    static let password = "correct-horse-battery"
    static let grid = "6f1c9a52-3c2e-4b1e-9d3f-1a2b3c4d5e6f"

    func signIn(_ client: any TestClientProtocol, _ username: String) async throws -> (DashboardRouteTests.Browser, String) {
        try await AdminPageTests().signIn(client, username)
    }

    func withGateway(_ body: @escaping @Sendable (any TestClientProtocol, FakeSetupServices) async throws -> Void) async throws {
        let fake = FakeSetupServices()
        try await withLiveServer({ onRunning in fake.application(onRunning) }) { port in
            try await TestDatabase.with { database in
                let settings = GatewaySettings(
                    service: try TestMesh.settings(
                        databaseURL: database.url, peers: [.dispute: "http://127.0.0.1:\(port)", .grid: "http://127.0.0.1:\(port)"]
                    ),
                    centre: try DivisionCode(validating: Place.lixian), tokenSecret: TestMesh.tokenSecret, bcryptCost: 4
                )
                try await GatewayApp.withAccounts(settings: settings) { accounts in
                    try await accounts.saveUser(username: "town-a-admin", password: Self.password, centre: try DivisionCode(validating: Place.townA), roles: [.admin])
                    try await accounts.saveUser(username: "town-a-staff", password: Self.password, centre: try DivisionCode(validating: Place.townA), roles: [.staff])
                }
                try await GatewayApp.build(settings: settings).test(.live) { client in try await body(client, fake) }
            }
        }
    }

    @Test func thePageIsTheAdministratorsAndARefusedRegisterKeepsWhatWasTyped() async throws {
        try await withGateway { client, fake in
            let (staff, staffCSRF) = try await signIn(client, "town-a-staff")
            let refused = try await staff.get("/ui/admin/setup")
            #expect(refused.status == .forbidden && refused.text.contains("只有本中心的管理员可以登记部门和网格成员。"))
            #expect(try await staff.post("/ui/admin/setup/departments", "csrf=\(staffCSRF)&centre=\(Place.townA)&name=police&api_key=k").status == .forbidden)
            #expect(await fake.registered() == 0)

            let (admin, csrf) = try await signIn(client, "town-a-admin")
            #expect(try await admin.get("/ui/admin").text.contains("href=\"/ui/admin/setup\""))
            _ = try await admin.post("/ui/admin/keys", "csrf=\(csrf)&name=xdk-police&centre=\(Place.townA)&role_department=on")
            let page = try await admin.get("/ui/admin/setup")
            #expect(page.status == .ok && page.text.contains("<h1>部门与网格成员</h1>") && page.text.contains("还没有登记部门。"))
            #expect(page.text.contains("<option value=\"xdk-police\">xdk-police（\(Place.townA)）</option>"))
            #expect(page.text.contains("<option value=\"\(Self.grid)\">东门网格（\(Place.villageA)）</option>"))

            // Refused: the reason beside the form, the centre and name as typed.
            let refusal = try await admin.post("/ui/admin/setup/departments", "csrf=\(csrf)&page_centre=\(Place.townA)&centre=\(Place.townA)&name=xdk-police-station&api_key=")
            #expect(refusal.status == .badRequest && refusal.text.contains("id=\"department-error\">请选择部门系统所用的密钥"))
            #expect(refusal.text.contains("value=\"xdk-police-station\"") && refusal.text.contains("value=\"\(Place.townA)\""))

            // Registered: back to the page saying so, the department listed.
            let done = try await admin.post("/ui/admin/setup/departments", "csrf=\(csrf)&page_centre=\(Place.townA)&centre=\(Place.townA)&name=xdk-police-station&api_key=xdk-police")
            #expect(done.status == .seeOther && done.location == "/ui/admin/setup?centre=\(Place.townA)&done=registered")
            let listed = try await admin.get(try #require(done.location))
            #expect(listed.text.contains("已登记部门。") && listed.text.contains("<td>xdk-police-station</td>"))
            #expect(try await admin.post("/ui/admin/setup/departments", "csrf=x&centre=\(Place.townA)&name=a&api_key=b").status == .forbidden)
        }
    }

    @Test func anAddedMembersIdAndLinkAreShown() async throws {
        try await withGateway { client, fake in
            let (admin, csrf) = try await signIn(client, "town-a-admin")
            // Refused: the role missing, the grid and name kept.
            let refusal = try await admin.post("/ui/admin/setup/members", "csrf=\(csrf)&page_centre=\(Place.townA)&grid=\(Self.grid)&name=wang-xm&role=")
            #expect(refusal.status == .badRequest && refusal.text.contains("id=\"member-error\">请选择成员的角色。"))
            #expect(refusal.text.contains("<option value=\"\(Self.grid)\" selected>") && refusal.text.contains("value=\"wang-xm\""))

            let added = try await admin.post("/ui/admin/setup/members", "csrf=\(csrf)&page_centre=\(Place.townA)&grid=\(Self.grid)&name=wang-xm&role=grid_worker")
            let member = try #require(await fake.members().first)
            #expect(added.status == .ok && added.text.contains("id=\"member-added\"") && added.text.contains(member.id))
            #expect(added.text.contains("href=\"/ui/grid?grid=\(Self.grid)&amp;member=\(member.id)\""))
            #expect(member.role == .gridWorker && member.name == "wang-xm")
            // The answer lists the grid's members with the new one, its link there too.
            #expect(added.text.contains("<tr data-member=\"\(member.id)\"><td class=\"nowrap\">w******</td><td class=\"nowrap\">网格员</td>"))
            // Both selects keep the grid for the next member: the list's and the add form's.
            #expect(added.text.components(separatedBy: "<option value=\"\(Self.grid)\" selected>").count == 3)
        }
    }

    /// A lost link is found again: the grid's members, each with its link, chosen by a form
    /// that also narrows the grids to a village; a grid that is not there is said so.
    @Test func aGridsMembersAreListedWithTheirLinks() async throws {
        try await withGateway { client, _ in
            let (admin, csrf) = try await signIn(client, "town-a-admin")
            let empty = try await admin.get("/ui/admin/setup?centre=\(Place.townA)&grid=\(Self.grid)")
            #expect(empty.status == .ok && empty.text.contains("该网格还没有成员。") && !empty.text.contains("id=\"grid-members\""))
            for name in ["王小明", "李秀英"] {
                _ = try await admin.post("/ui/admin/setup/members", "csrf=\(csrf)&page_centre=\(Place.townA)&grid=\(Self.grid)&name=\(name)&role=grid_worker")
            }
            let page = try await admin.get("/ui/admin/setup?centre=\(Place.townA)&grid=\(Self.grid)")
            let rows = page.text.components(separatedBy: "<tr data-member=").dropFirst()
            #expect(rows.count == 2 && rows.first?.contains("<td class=\"nowrap\">王**</td><td class=\"nowrap\">网格员</td>") == true && rows.last?.contains(">李**</td>") == true)
            #expect(rows.allSatisfy { $0.contains("href=\"/ui/grid?grid=\(Self.grid)&amp;member=") })
            // Both selects keep the grid chosen: the list's and the add form's.
            #expect(page.text.components(separatedBy: "<option value=\"\(Self.grid)\" selected>").count == 3)

            let missing = try await admin.get("/ui/admin/setup?centre=\(Place.townA)&grid=6f1c9a52-0000-4b1e-9d3f-1a2b3c4d5e6f")
            #expect(missing.status == .ok && missing.text.contains("id=\"members-error\">未找到所选网格") && !missing.text.contains("该网格还没有成员。"))
        }
    }

    /// The view alone: both sections with sample data, values escaped.
    @Test func theViewRendersBothSections() {
        var page = SetupPage(
            centre: Place.townA,
            departments: [.init(id: "d1", centre: Place.townA, name: "派出所<b>", apiKey: "xdk-police")], moreDepartments: true,
            keys: [.init(name: "xdk-police", centre: Place.townA)],
            grids: [.init(id: "g1", label: "东门网格")], moreGrids: false, csrf: "c"
        )
        page.added = .init(id: "m1", name: "王小明", grid: "g1", link: SetupPage.link(grid: "g1", member: "m1"))
        page.shownGrid = "g1"
        page.members = [.init(id: "m2", name: "李**", role: "治调主任", link: SetupPage.link(grid: "g1", member: "m2"))]
        let html = page.render()
        #expect(html.contains("<td>派出所&lt;b&gt;</td>") && html.contains("只列出前 200 个部门"))
        #expect(html.contains("<option value=\"g1\">东门网格</option>") && html.contains("<option value=\"grid_worker\">网格员</option>"))
        #expect(html.contains("/ui/grid?grid=g1&amp;member=m1") && html.contains("成员编号：<code class=\"id\">m1</code>"))
        #expect(html.contains("<tr data-member=\"m2\"><td class=\"nowrap\">李**</td><td class=\"nowrap\">治调主任</td><td><code class=\"id\">m2</code></td><td><a href=\"/ui/grid?grid=g1&amp;member=m2\">"))
        #expect(!html.contains("id=\"department-error\"") && !html.contains("id=\"member-error\"") && !html.contains("id=\"members-error\""))
    }
}

/// dispute- and grid-service as the set-up page meets them: departments and members kept in
/// memory, one grid, a missing key or role refused as the real services refuse them.
actor FakeSetupServices {
    private var departments: [Pingan_Dispute_V1_Department] = []
    private var added: [Pingan_Grid_V1_GridMember] = []

    func registered() -> Int { departments.count }
    func members() -> [Pingan_Grid_V1_GridMember] { added }

    nonisolated func application(_ onRunning: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
        let router = Router()
        router.post("pingan.dispute.v1.DisputeService/ListDepartments") { _, _ in
            try Self.answer(await self.departmentList())
        }
        router.post("pingan.dispute.v1.DisputeService/RegisterDepartment") { request, _ in
            let asked = try await Self.decode(Pingan_Dispute_V1_RegisterDepartmentRequest.self, request)
            guard !asked.apiKeyName.isEmpty else { return Self.refuse(.invalidArgument(field: "api_key_name", "is required")) }
            return try Self.answer(await self.register(asked))
        }
        router.post("pingan.grid.v1.GridService/ListGrids") { _, _ in
            try Self.answer(Pingan_Grid_V1_ListGridsResponse.with {
                $0.grids = [.with { $0.id = AdminSetupPageTests.grid; $0.villageCode = Place.villageA; $0.name = "东门网格" }]
            })
        }
        router.post("pingan.grid.v1.GridService/ListGridMembers") { request, _ in
            let asked = try await Self.decode(Pingan_Grid_V1_ListGridMembersRequest.self, request)
            guard asked.gridID == AdminSetupPageTests.grid else { return Self.refuse(ConnectError(.notFound, "grid \(asked.gridID) not found")) }
            return try Self.answer(await self.memberList())
        }
        router.post("pingan.grid.v1.GridService/AddGridMember") { request, _ in
            let asked = try await Self.decode(Pingan_Grid_V1_AddGridMemberRequest.self, request)
            guard asked.role != .unspecified else { return Self.refuse(.invalidArgument(field: "role", "is required")) }
            return try Self.answer(await self.add(asked))
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                           onServerRunning: { await onRunning($0.localAddress?.port ?? 0) })
    }

    /// The members added, masked as grid-service masks them.
    private func memberList() -> Pingan_Grid_V1_ListGridMembersResponse {
        .with { $0.members = added.map { member in var member = member; member.name = Masking.name(member.name); return member } }
    }

    private func departmentList() -> Pingan_Dispute_V1_ListDepartmentsResponse { .with { $0.departments = departments } }

    private func register(_ request: Pingan_Dispute_V1_RegisterDepartmentRequest) -> Pingan_Dispute_V1_RegisterDepartmentResponse {
        let department = Pingan_Dispute_V1_Department.with {
            $0.id = UUID().uuidString.lowercased(); $0.centreCode = request.centreCode; $0.name = request.name; $0.apiKeyName = request.apiKeyName
        }
        departments.append(department)
        return .with { $0.department = department }
    }

    private func add(_ request: Pingan_Grid_V1_AddGridMemberRequest) -> Pingan_Grid_V1_AddGridMemberResponse {
        let member = Pingan_Grid_V1_GridMember.with {
            $0.id = UUID().uuidString.lowercased(); $0.gridID = request.gridID; $0.name = request.name; $0.role = request.role
        }
        added.append(member)
        return .with { $0.member = member }
    }

    private static func decode<M: SwiftProtobuf.Message>(_ type: M.Type, _ request: Request) async throws -> M {
        let body = try await request.body.collect(upTo: 1 << 20)
        return try M(serializedBytes: Array(body.readableBytesView))
    }

    private static func answer(_ message: some SwiftProtobuf.Message) throws -> Response {
        let bytes: [UInt8] = try message.serializedBytes()
        return Response(status: .ok, headers: [.contentType: "application/proto"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    private static func refuse(_ error: ConnectError) -> Response {
        Response(status: .badRequest, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: error.jsonBody)))
    }
}
