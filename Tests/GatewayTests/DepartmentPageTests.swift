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

/// A person who signs in for a department (issue 25): the account names the department's
/// API key, the door gives their calls the key's identity (`apikey:<name>`, role
/// `department` alone) so dispute-service matches their summons as it does the system's, and
/// the dashboard's department page (`/ui/department`) shows the summons with their forms.
/// Against the gateway alone; the page against the whole mesh is in
/// Tests/Interop/test_workbench_office.py.
@Suite("department person and page")
struct DepartmentPageTests {
    static let password = "correct-horse-battery"
    typealias Browser = DashboardRouteTests.Browser

    func login(_ rpc: InProcessClient, _ username: String, _ password: String = Self.password) async throws -> String {
        try await rpc.call(AuthServiceMethods.login, .with { $0.username = username; $0.password = password }).token
    }

    @Test func anAdministratorCreatesAPersonOfADepartmentWhoseCallsCarryTheKeysIdentity() async throws {
        try await TestDatabase.with { database in
            let settings = GatewaySettings(
                service: try TestMesh.settings(databaseURL: database.url), centre: try DivisionCode(validating: TestMesh.root),
                tokenSecret: TestMesh.tokenSecret, bcryptCost: 4
            )
            try await GatewayApp.withAccounts(settings: settings) { accounts in
                try await accounts.saveUser(username: "town-a-admin", password: Self.password, centre: try DivisionCode(validating: Place.townA), roles: [.admin])
                try await accounts.saveUser(username: "town-b-admin", password: Self.password, centre: try DivisionCode(validating: Place.townB), roles: [.admin])
            }
            try await GatewayApp.build(settings: settings).test(.live) { client in
                let rpc = InProcessClient(client)
                let admin = [("Authorization", "Bearer \(try await login(rpc, "town-a-admin"))")]
                let issued = try await rpc.call(AdminServiceMethods.issueApiKey, .with {
                    $0.name = "xdk-police"; $0.centreCode = Place.townA; $0.roles = ["department"]
                }, headers: admin)
                _ = try await rpc.call(AdminServiceMethods.issueApiKey, .with { $0.name = "xdk-staff-key"; $0.centreCode = Place.townA; $0.roles = ["staff"] }, headers: admin)
                func create(_ name: String, centre: String = Place.townA, roles: [String] = ["department"], key: String) async throws -> Pingan_Gateway_V1_User {
                    try await rpc.call(AdminServiceMethods.createUser, .with {
                        $0.username = name; $0.centreCode = centre; $0.roles = roles; $0.password = Self.password; $0.departmentKey = key
                    }, headers: admin).user
                }

                // The role department needs the key, the key needs that role alone, and the key
                // must be a valid department key of the subtree at the person's centre.
                await expectCode(.invalidArgument, containing: "department_key") { _ = try await create("no-key", key: "") }
                await expectCode(.invalidArgument, containing: "roles") { _ = try await create("also-staff", roles: ["department", "staff"], key: "xdk-police") }
                await expectCode(.invalidArgument, containing: "roles") { _ = try await create("staff-only", roles: ["staff"], key: "xdk-police") }
                await expectCode(.notFound, containing: "department_key") { _ = try await create("ghost", key: "no-such-key") }
                await expectCode(.invalidArgument, containing: "not a department") { _ = try await create("wrong-kind", key: "xdk-staff-key") }
                await expectCode(.invalidArgument, containing: "same centre") { _ = try await create("elsewhere", centre: Place.villageA, key: "xdk-police") }
                let townB = [("Authorization", "Bearer \(try await login(rpc, "town-b-admin"))")]
                await expectCode(.notFound, containing: "department_key") {
                    _ = try await rpc.call(AdminServiceMethods.createUser, .with {
                        $0.username = "sibling"; $0.centreCode = Place.townB; $0.roles = ["department"]; $0.password = Self.password; $0.departmentKey = "xdk-police"
                    }, headers: townB)
                }

                let clerk = try await create("xdk-police-li", key: "xdk-police")
                #expect(clerk.departmentKey == "xdk-police" && clerk.roles == ["department"])
                #expect(try await rpc.call(AdminServiceMethods.listUsers, .with { _ in }, headers: admin).users.first { $0.username == "xdk-police-li" }?.departmentKey == "xdk-police")
                // The person stays a department's: no other role may be added.
                await expectCode(.invalidArgument, containing: "roles") {
                    _ = try await rpc.call(AdminServiceMethods.setUserRoles, .with { $0.username = "xdk-police-li"; $0.roles = ["department", "staff"] }, headers: admin)
                }

                // Signed in, the person's calls carry the department's identity, as its key's do:
                // the door lets them through (the dispute service is down here), and the access
                // log names the person and the department they acted as.
                let person = [("Authorization", "Bearer \(try await login(rpc, "xdk-police-li"))")]
                let list = Pingan_Dispute_V1_ListCasesRequest.with { $0.divisionCode = Place.townA }
                await expectCode(.unavailable) { _ = try await rpc.call(DisputeServiceMethods.listCases, list, headers: person) }
                await expectCode(.unavailable) { _ = try await rpc.call(DisputeServiceMethods.listCases, list, headers: [("X-Api-Key", issued.key)]) }
                let pool = database.pool()
                defer { Task { await pool.close() } }
                let method = DisputeServiceMethods.listCases.path
                let written = await eventually(timeout: .seconds(20)) {
                    try await pool.query("SELECT count(*) FROM gateway.access_log WHERE method = $1", [method])[0].decode(Int.self, at: 0) == 2
                }
                #expect(written)
                let subjects = try await pool.query("SELECT subject, centre_code FROM gateway.access_log WHERE method = $1 ORDER BY id", [method])
                    .map { "\(try $0.decode(String.self, at: 0)) @ \(try $0.decode(String.self, at: 1))" }
                #expect(subjects == ["user:xdk-police-li as apikey:xdk-police @ \(Place.townA)", "apikey:xdk-police @ \(Place.townA)"])

                // The nav offers the department page to the person and no one else; the page is
                // refused to a centre's administrator, and for the person it asks the dispute
                // service, down here, so it says so in the frame.
                var browser = Browser(client: client)
                let signedIn = try await browser.post("/ui/login", "username=xdk-police-li&password=\(Self.password)")
                let cookie = try #require(signedIn.headers[.setCookie])
                browser.cookie = String(cookie.dropFirst(Dashboard.cookie.count + 1).prefix { $0 != ";" })
                let down = try await browser.get("/ui/department")
                #expect(down.status == .serviceUnavailable && down.text.contains("href=\"/ui/department\">部门报到</a>"), "\(down.status) \(down.text)")
                var adminBrowser = Browser(client: client)
                let adminIn = try await adminBrowser.post("/ui/login", "username=town-a-admin&password=\(Self.password)")
                adminBrowser.cookie = String(try #require(adminIn.headers[.setCookie]).dropFirst(Dashboard.cookie.count + 1).prefix { $0 != ";" })
                let refused = try await adminBrowser.get("/ui/department")
                #expect(refused.status == .forbidden && refused.text.contains("本页面供部门人员") && !refused.text.contains("href=\"/ui/department\">部门报到"))
                let posted = try await adminBrowser.post("/ui/department/summons/s1/report", "csrf=nope")
                #expect(posted.status == .forbidden)
            }
        }
    }

    func row(_ id: String, reported: Bool, fedBack: Bool, overdue: Bool = false) -> DepartmentPage.SummonsRow {
        DepartmentPage.SummonsRow(
            id: id, caseID: "case-\(id)", village: "小渡口一村<script>", category: "婚恋家庭", caseStatus: "调解中", description: "分手纠纷",
            summonedBy: Place.townA, reportDue: "2026-12-02 24:00", reportOverdue: overdue && !reported, reported: reported,
            reportedAt: reported ? "2026-12-01 09:30" : "", feedbackDue: "2026-12-08 24:00", feedbackOverdue: false, fedBack: fedBack,
            fedBackAt: fedBack ? "2026-12-03 16:00" : "", feedback: fedBack ? "已上门调查" : "", beyondCalendar: false,
            mayReport: !reported, mayFeedBack: reported && !fedBack
        )
    }

    @Test func eachSummonsOffersTheFormItWaitsForAndARefusalKeepsTheFeedbackTyped() {
        var page = DepartmentPage(
            department: "小渡口派出所", rows: [row("a", reported: false, fedBack: false, overdue: true), row("b", reported: true, fedBack: false), row("c", reported: true, fedBack: true)],
            more: false, csrf: "token"
        )
        page.refusal = .init(summons: "b", message: DepartmentWords.refusal(ConnectError.invalidArgument(field: "feedback", "is required")) ?? "")
        page.keep("写了一半的<反馈>", for: "b")
        let html = page.render()
        #expect(html.contains("<h1>小渡口派出所 · 吹哨报到</h1>"))
        #expect(html.contains("action=\"/ui/department/summons/a/report\"") && !html.contains("/ui/department/summons/a/feedback"))
        #expect(html.contains("action=\"/ui/department/summons/b/feedback\"") && !html.contains("/ui/department/summons/b/report"))
        #expect(!html.contains("/ui/department/summons/c/"))
        #expect(html.contains("已于 2026-12-03 16:00 反馈") && html.contains("反馈：已上门调查"))
        #expect(html.contains("<span class=\"overdue-tag\">已逾期</span>"))
        // The refusal stands beside summons b, in words, with what was typed, escaped.
        let b = html.components(separatedBy: "data-summons=\"b\"")[1].components(separatedBy: "</article>")[0]
        #expect(b.contains("请填写反馈内容，1 至 4000 字。") && b.contains("写了一半的&lt;反馈&gt;</textarea>"))
        #expect(!html.contains("<script>") && html.contains("小渡口一村&lt;script&gt;"))
        #expect(html.contains("href=\"/ui/cases/case-a\""))
        #expect(DepartmentPage(department: "", rows: [], more: false, csrf: "t").render().contains("目前没有派给本部门的吹哨事项。"))
    }

    @Test func refusalsReadAsChinese() {
        #expect(DepartmentWords.refusal(ConnectError(.notFound, "summons x not found")) == "未找到该吹哨事项，或它不是派给本部门的。")
        #expect(DepartmentWords.refusal(ConnectError(.failedPrecondition, "not reported")) == "请先报到，再反馈处理情况。")
        #expect(DepartmentWords.refusal(ConnectError(.unavailable, "down")) == nil)
    }
}
