import Foundation
import Hummingbird
import HummingbirdTesting
@testable import GatewayService
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain
import PinganTestSupport
import Testing

/// The dashboard's account page, `/ui/admin`, against the gateway alone over real HTTP: it
/// shows to administrators only, lists their subtree, and its forms change accounts through
/// `AdminService`, with refusals in words beside the form.
@Suite("dashboard account page")
struct AdminPageTests {
    static let password = "correct-horse-battery"
    typealias Browser = DashboardRouteTests.Browser

    func signIn(_ client: any TestClientProtocol, _ username: String) async throws -> (Browser, String) {
        var browser = Browser(client: client)
        let signedIn = try await browser.post("/ui/login", "username=\(username)&password=\(Self.password)")
        let cookie = try #require(signedIn.headers[.setCookie])
        let token = String(cookie.dropFirst(Dashboard.cookie.count + 1).prefix { $0 != ";" })
        browser.cookie = token
        return (browser, Dashboard.csrf(for: token))
    }

    @Test func thePageShowsToAdministratorsOnlyAndItsFormsChangeAccounts() async throws {
        try await TestDatabase.with { database in
            let settings = GatewaySettings(
                service: try TestMesh.settings(databaseURL: database.url), centre: try DivisionCode(validating: Place.lixian),
                tokenSecret: TestMesh.tokenSecret, bcryptCost: 4
            )
            try await GatewayApp.withAccounts(settings: settings) { accounts in
                try await accounts.saveUser(username: "town-a-admin", password: Self.password, centre: try DivisionCode(validating: Place.townA), roles: [.admin])
                try await accounts.saveUser(username: "town-a-staff", password: Self.password, centre: try DivisionCode(validating: Place.townA), roles: [.staff])
                try await accounts.saveUser(username: "town-b-staff", password: Self.password, centre: try DivisionCode(validating: Place.townB), roles: [.staff])
            }
            try await GatewayApp.build(settings: settings).test(.live) { client in
                // Staff are told the page is not theirs, and the nav does not offer it.
                let (staff, staffCSRF) = try await signIn(client, "town-a-staff")
                let refused = try await staff.get("/ui/admin")
                #expect(refused.status == .forbidden && refused.text.contains("只有本中心的管理员可以管理账号。") && !refused.text.contains("href=\"/ui/admin\""))
                let staffPost = try await staff.post("/ui/admin/users", "csrf=\(staffCSRF)&username=sneaky&centre=\(Place.townA)&password=sneaky-password&role_admin=on")
                #expect(staffPost.status == .forbidden)

                // An administrator sees the subtree's users and keys, and the nav offers the page.
                let (admin, csrf) = try await signIn(client, "town-a-admin")
                let page = try await admin.get("/ui/admin")
                #expect(page.status == .ok && page.text.contains("<h1>账号管理</h1>") && page.text.contains("href=\"/ui/admin\""))
                #expect(page.text.contains("data-user=\"town-a-staff\"") && !page.text.contains("town-b-staff"))
                // Its own row offers no disable.
                #expect(page.text.contains("/ui/admin/users/town-a-staff/disable") && !page.text.contains("/ui/admin/users/town-a-admin/disable"))

                // Creating a user: back to the page saying so, and the user signs in.
                let created = try await admin.post("/ui/admin/users", "csrf=\(csrf)&username=wang.xm&centre=\(Place.villageA)&password=first-password-1&role_staff=on&role_grid_worker=on")
                #expect(created.status == .seeOther && created.location == "/ui/admin?done=created")
                #expect(try await admin.get("/ui/admin?done=created").text.contains("已创建用户。"))
                let rpc = InProcessClient(client)
                let signedIn = try await rpc.call(AuthServiceMethods.login, .with { $0.username = "wang.xm"; $0.password = "first-password-1" })
                #expect(signedIn.centreCode == Place.villageA && signedIn.roles == ["grid_worker", "staff"])

                // Refusals, in words, beside the form.
                let sibling = try await admin.post("/ui/admin/users", "csrf=\(csrf)&username=li.si&centre=\(Place.townB)&password=first-password-1&role_staff=on")
                #expect(sibling.status == .forbidden && sibling.text.contains("所选中心不在本中心的辖区内"))
                let short = try await admin.post("/ui/admin/users", "csrf=\(csrf)&username=li.si&centre=\(Place.townA)&password=short&role_staff=on")
                #expect(short.status == .badRequest && short.text.contains("密码长度须为 10 至 72 个字节"))
                let noRoles = try await admin.post("/ui/admin/users", "csrf=\(csrf)&username=li.si&centre=\(Place.townA)&password=first-password-1")
                #expect(noRoles.status == .badRequest && noRoles.text.contains("请至少选择一个角色。"))
                let taken = try await admin.post("/ui/admin/users", "csrf=\(csrf)&username=wang.xm&centre=\(Place.townA)&password=first-password-1&role_staff=on")
                #expect(taken.status == .conflict && taken.text.contains("该用户名已被使用"))
                let elsewhere = try await admin.post("/ui/admin/users/town-b-staff/disable", "csrf=\(csrf)")
                #expect(elsewhere.status == .notFound && elsewhere.text.contains("未找到该账号，或它不在本中心的辖区内。"))

                // Disable, reset a password, enable.
                let disabled = try await admin.post("/ui/admin/users/wang.xm/disable", "csrf=\(csrf)")
                #expect(disabled.location == "/ui/admin?done=disabled", "\(disabled.status) \(disabled.text)")
                await expectCode(.unauthenticated, containing: "disabled") {
                    _ = try await rpc.call(AuthServiceMethods.login, .with { $0.username = "wang.xm"; $0.password = "first-password-1" })
                }
                #expect(try await admin.get("/ui/admin").text.contains("/ui/admin/users/wang.xm/enable"))
                #expect(try await admin.post("/ui/admin/users/wang.xm/password", "csrf=\(csrf)&password=second-password-2").location == "/ui/admin?done=password")
                #expect(try await admin.post("/ui/admin/users/wang.xm/enable", "csrf=\(csrf)").location == "/ui/admin?done=enabled")
                _ = try await rpc.call(AuthServiceMethods.login, .with { $0.username = "wang.xm"; $0.password = "second-password-2" })

                // A key is shown once, on the answer to its form; revoking it is at once.
                let issued = try await admin.post("/ui/admin/keys", "csrf=\(csrf)&name=xdk-police&centre=\(Place.townA)&role_department=on")
                #expect(issued.status == .ok && issued.text.contains("密钥只显示这一次"))
                let key = try #require(issued.text.range(of: "pk_[0-9a-f]{64}", options: .regularExpression).map { String(issued.text[$0]) })
                #expect(!(try await admin.get("/ui/admin").text.contains(key)))
                await expectCode(.unavailable) {
                    _ = try await rpc.call(DisputeServiceMethods.listCases, .with { $0.divisionCode = Place.townA }, headers: [("X-Api-Key", key)])
                }
                #expect(try await admin.post("/ui/admin/keys/xdk-police/revoke", "csrf=\(csrf)").location == "/ui/admin?done=revoked")
                await expectCode(.unauthenticated) {
                    _ = try await rpc.call(DisputeServiceMethods.listCases, .with { $0.divisionCode = Place.townA }, headers: [("X-Api-Key", key)])
                }
                #expect(try await admin.get("/ui/admin").text.contains("已吊销"))

                // A form without the session's token is refused before anything is done.
                let forged = try await admin.post("/ui/admin/users", "csrf=x&username=forged&centre=\(Place.townA)&password=forged-password&role_admin=on")
                #expect(forged.status == .forbidden && forged.text.contains("请从页面提交表单。"))
            }
        }
    }

    /// The view on its own: a refusal sits beside its form, and every value is escaped.
    @Test func theViewPutsARefusalBesideItsFormAndEscapesValues() throws {
        var page = AdminPage(
            centre: Place.townA,
            users: [AdminPage.UserRow(username: "a<b", centre: Place.townA, roles: "工作人员", created: "", disabled: true, own: false)],
            moreUsers: false, keys: [], moreKeys: false, roleOptions: [AdminPage.RoleOption(value: "staff", label: "工作人员")], csrf: "c"
        )
        page.refusal = AdminPage.Refusal(form: "issue-key", message: "该密钥名称已被使用，请换一个。")
        let html = page.render()
        #expect(html.contains("a&lt;b") && !html.contains("a<b"))
        let create = try #require(html.range(of: "id=\"create-user\""))
        let keys = try #require(html.range(of: "id=\"keys\""))
        let issue = try #require(html.range(of: "id=\"issue-key\""))
        #expect(!html[create.lowerBound..<keys.lowerBound].contains("class=\"error\""))
        #expect(html[issue.lowerBound...].contains("<p class=\"error\" role=\"alert\">该密钥名称已被使用，请换一个。</p>"))
        #expect(html.contains("没有密钥。") && html.contains("/ui/admin/users/a&lt;b/enable"))
    }
}
