import Foundation
import HTTPTypes
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

/// The grid worker's pages (`/ui/grid`), the site's root and its icon: the views on their own,
/// and the routes against the gateway with a stand-in grid-service that answers as the real
/// one does (its refusals by field), so a refusal's way back to the form is seen end to end.
/// The pages against the whole mesh, in a phone-sized browser, are in
/// Tests/Interop/test_workbench_grid.py.
@Suite("dashboard grid pages")
struct GridPageTests {
    static let password = "correct-horse-battery"
    static let grid = "5f0c7a52-3d7e-4d8a-9d1e-0b9a7c1e2f01"
    static let member = "8b2d4e61-1c3f-4a7b-8e9d-2f4a6c8e0b12"
    typealias Browser = DashboardRouteTests.Browser

    // MARK: the views

    @Test func aBlankReportFormLabelsEveryControlAndCarriesAFreshRequestID() throws {
        let grids = [GridPage.Choice(id: Self.grid, label: "小渡口一村 · 第一网格")]
        let first = GridPage.ReportView(form: .blank(nil), grids: grids, remembered: nil, refusal: nil, seesCases: false, csrf: "c").render()
        let second = GridPage.ReportView(form: .blank(nil), grids: grids, remembered: nil, refusal: nil, seesCases: false, csrf: "c").render()
        let id = { (html: String) in html.range(of: #"name="request_id" value="[0-9a-f-]{36}""#, options: .regularExpression).map { String(html[$0]) } }
        #expect(try #require(id(first)) != (try #require(id(second))))
        // Every control that is not hidden has a label: by `for`, or by wrapping it.
        for control in ["grid", "member", "category", "description", "party1-name", "party1-phone", "party3-name", "police"] {
            #expect(first.contains("id=\"\(control)\"") && first.contains("for=\"\(control)\""), "\(control)")
        }
        #expect(first.contains("<label class=\"check\"><input type=\"checkbox\" name=\"party2_minor\"> 当事人 2 是未成年人</label>"))
        #expect(first.contains("<label class=\"check\"><input type=\"checkbox\" name=\"threat_of_self_harm\"> 有人扬言自伤、轻生</label>"))
        // Categories in Chinese; a new worker's grid and member fields are open; a grid worker is told they cannot see cases.
        #expect(first.contains(">邻里</option>") && first.contains(">婚恋家庭</option>") && !first.contains("NEIGHBOUR"))
        #expect(first.contains("<details class=\"identity\" open>") && first.contains("小渡口一村 · 第一网格"))
        #expect(first.contains("网格员账号不能查看案件") && !first.contains("role=\"alert\""))
    }

    @Test func aRefusedReportIsDrawnAsTypedWithTheReasonAboveItAndEveryValueEscaped() throws {
        var form = ReportForm(fields: [
            "grid": Self.grid, "member": Self.member, "category": "2", "description": "金家和李家<script>又吵</script>\"",
            "party1_name": "", "party2_name": "李<b>四", "party2_phone": "139-0000", "party2_minor": "on",
            "threat_of_violence": "on", "prior_police_calls": "3", "request_id": "r-1",
        ])
        form.requestID = "r-2"
        let remembered = GridIdentity(grid: Self.grid, member: Self.member)
        let html = GridPage.ReportView(
            form: form, grids: [GridPage.Choice(id: Self.grid, label: "一<村>")], remembered: remembered,
            refusal: "请填写第 2 位当事人的姓名（1 至 50 个字）。", seesCases: false, csrf: "c"
        ).render()
        #expect(html.contains("金家和李家&lt;script&gt;又吵&lt;/script&gt;&quot;</textarea>") && !html.contains("<script>"))
        #expect(html.contains("value=\"李&lt;b&gt;四\"") && html.contains("value=\"139-0000\""))
        #expect(html.contains("name=\"party2_minor\" checked") && !html.contains("name=\"party1_minor\" checked"))
        #expect(html.contains("name=\"threat_of_violence\" checked") && !html.contains("name=\"repeat_incident\" checked"))
        #expect(html.contains("<option value=\"2\" selected>邻里</option>") && html.contains("value=\"3\" type=\"number\""))
        #expect(html.contains("<option value=\"\(Self.grid)\" selected>一&lt;村&gt;</option>") && html.contains("name=\"request_id\" value=\"r-2\""))
        // The reason is above the form it answers, and the remembered grid is opened to be checked.
        let reason = try #require(html.range(of: "<p class=\"error\" role=\"alert\" id=\"report-error\">请填写第 2 位当事人的姓名"))
        let form2 = try #require(html.range(of: "action=\"/ui/grid/report\""))
        #expect(reason.lowerBound < form2.lowerBound && html.contains("<details class=\"identity\" open>"))
    }

    @Test func aRememberedGridIsFoldedAndAScreeningOffersNothingFoundInOneTap() throws {
        let identity = GridIdentity(grid: Self.grid, member: Self.member)
        let today = try #require(Day(parsing: "2026-03-09"))
        let html = GridPage.ScreeningView(
            form: .blank(identity, today: today), grids: [GridPage.Choice(id: Self.grid, label: "一村 · 第一网格")], remembered: identity,
            today: today, refusal: nil, notice: "已记录 2026-03-09 的排查：走访 0 户，未发现矛盾纠纷。", csrf: "c"
        ).render()
        #expect(html.contains("<details class=\"identity\">") && html.contains("网格：一村 · 第一网格 · 成员编号尾号 0b12（点此更改）"))
        #expect(html.contains("value=\"2026-03-09\" min=\"2026-03-02\" max=\"2026-03-09\""))
        #expect(html.contains("<button type=\"submit\" name=\"result\" value=\"none\">未发现矛盾纠纷，提交</button>"))
        #expect(html.contains("role=\"status\" id=\"screening-done\">已记录 2026-03-09 的排查"))
    }

    @Test func myReportsShowWhatBecameOfEachReportInChinese() throws {
        let grids = [GridPage.Choice(id: Self.grid, label: "小渡口一村 · 第一网格")]
        let opened = Pingan_Dispute_V1_MyReport.with {
            $0.id = UUID().wire; $0.caseID = "c-1"; $0.reportedAt = "2026-04-07T01:00:00Z"; $0.category = .neighbour
            $0.openedCase = true; $0.caseStatus = .open; $0.currentRung = .villageSecretary; $0.coordinatorCode = Place.townA
        }
        let joined = Pingan_Dispute_V1_MyReport.with {
            $0.id = UUID().wire; $0.caseID = "c-2"; $0.reportedAt = "2026-04-06T01:00:00Z"; $0.category = .marriageFamily
            $0.openedCase = false; $0.caseStatus = .settled; $0.coordinatorCode = Place.townA
        }
        let mine = GridPage.MyReports(offered: true, rows: [GridPage.row(of: opened, centre: "小渡口镇<综治>"), GridPage.row(of: joined, centre: "小渡口镇")])
        let html = GridPage.ReportView(form: .blank(nil), grids: grids, remembered: nil, refusal: nil, seesCases: false, csrf: "c", mine: mine).render()
        let section = try #require(html.range(of: "<section id=\"mine\"").map { String(html[$0.lowerBound...]) })
        #expect(section.contains("<h2 id=\"mine-title\">我的上报</h2>"))
        // Newest first, each with its time, category, and what became of it, in words.
        let first = try #require(section.range(of: "<dd>邻里纠纷</dd>")), second = try #require(section.range(of: "<dd>婚恋家庭纠纷</dd>"))
        #expect(first.lowerBound < second.lowerBound)
        #expect(section.contains("<dd>\(Labels.time(opened.reportedAt))</dd>") && section.contains("<dd>立案</dd>") && section.contains("<dd>并入案件</dd>"))
        #expect(section.contains("<dd>第二级：村支书调解</dd>") && section.contains("<dd>尚未调解</dd>"))
        #expect(section.contains("<dd>办理中</dd>") && section.contains("<dd>已调解，待回访</dd>") && section.contains("小渡口镇&lt;综治&gt;"))
        #expect(!section.contains("NEIGHBOUR") && !section.contains("OPEN"))
        // The worker is pointed to it instead of being told they cannot follow their reports.
        #expect(html.contains("见下方“我的上报”") && !html.contains("请凭事件编号询问"))

        // Nothing yet, dispute-service unreadable, and someone who may not list reports.
        let none = GridPage.ReportView(form: .blank(nil), grids: grids, remembered: nil, refusal: nil, seesCases: false, csrf: "c",
                                       mine: GridPage.MyReports(offered: true, rows: [])).render()
        #expect(none.contains("您还没有上报过事件") && !none.contains("<ol class=\"mine\">"))
        let down = GridPage.ReportView(form: .blank(nil), grids: grids, remembered: nil, refusal: nil, seesCases: false, csrf: "c",
                                       mine: GridPage.MyReports(offered: true, rows: nil)).render()
        #expect(down.contains("暂时无法读取您上报的事件") && !down.contains("您还没有上报过事件"))
        let other = GridPage.ReportView(form: .blank(nil), grids: grids, remembered: nil, refusal: nil, seesCases: false, csrf: "c").render()
        #expect(!other.contains("id=\"mine\""))
    }

    // MARK: the form and its words

    @Test func aFormSendsOnlyTheRowsTypedInAndTheRefusalNamesTheRowOnTheForm() throws {
        let form = ReportForm(fields: [
            "grid": " \(Self.grid) ", "member": Self.member, "category": "1", "description": "分手后的财物纠纷",
            "party1_name": "黄某", "party2_name": "", "party3_name": "", "party3_phone": "12a", "prior_police_calls": "两次",
            "threat_of_self_harm": "on",
        ])
        #expect(form.filledRows == [1, 3])
        let request = form.request
        #expect(request.gridID == Self.grid && request.category == .marriageFamily && request.threatOfSelfHarm && !request.threatOfViolence)
        #expect(request.parties.map(\.name) == ["黄某", ""] && request.parties[1].phone == "12a")
        // Text that is not a number goes as one the service refuses, so its refusal names the field.
        #expect(request.priorPoliceCalls == -1 && ReportForm(fields: [:]).request.priorPoliceCalls == 0)
        #expect(GridLabels.refusal(.invalidArgument(field: "parties[1].phone", "must be up to 20 digits"), rows: form.filledRows)
            == "第 3 位当事人的电话须为 11 位手机号，或带区号的固定电话。")
        #expect(GridLabels.refusal(.invalidArgument(field: "parties", "at least one person is required")) == "请至少填写一位当事人的姓名。")
        #expect(GridLabels.refusal(.invalidArgument(field: "reporter_member_id", "is not a member of grid x"))?.contains("不是所选网格的成员") == true)
        #expect(GridLabels.refusal(ConnectError(.notFound, "grid x")) == "所选网格不存在，或不在您的辖区内。")
        #expect(GridLabels.refusal(ConnectError(
            .failedPrecondition, "430723102201 lies in county 澧县, which runs its own platform and keeps the grids under it: record this there"
        )) == "所选网格属于澧县，该县已独立运行本县平台，网格的上报和排查请到该县平台办理。")
        #expect(GridLabels.refusal(ConnectError(.unauthenticated, "expired")) == nil)
        // "Nothing found" records none whatever the count field says.
        let screening = ScreeningForm(fields: ["grid": Self.grid, "member": Self.member, "day": "2026-03-09", "households": "12", "disputes": "4", "result": "none"])
        #expect(screening.request.disputesFound == 0 && screening.request.householdsVisited == 12)
    }

    @Test func thePhoneRemembersTheGridForTheAccountThatSetIt() {
        let identity = GridIdentity(grid: Self.grid, member: Self.member)
        let cookie = identity.setCookie(for: "user:wang.xm", secure: true)
        #expect(cookie.hasSuffix("; Path=/ui/grid; Max-Age=31536000; HttpOnly; SameSite=Strict; Secure"))
        let value = String(cookie.prefix { $0 != ";" })
        #expect(GridIdentity(cookieHeader: "a=1; \(value)", subject: "user:wang.xm") == identity)
        #expect(GridIdentity(cookieHeader: value, subject: "user:li.si") == nil)
        #expect(GridIdentity(cookieHeader: "\(GridIdentity.cookie)=x|\(Self.member)|user:wang.xm", subject: "user:wang.xm") == nil)
    }

    // MARK: the routes

    func signIn(_ client: any TestClientProtocol, _ username: String) async throws -> (Browser, String) {
        var browser = Browser(client: client)
        let signedIn = try await browser.post("/ui/login", "username=\(username)&password=\(Self.password)")
        let cookie = try #require(signedIn.headers[.setCookie])
        let token = String(cookie.dropFirst(Dashboard.cookie.count + 1).prefix { $0 != ";" })
        browser.cookie = token
        return (browser, Dashboard.csrf(for: token))
    }

    @Test func theRootSendsABrowserToTheDashboardAndTheIconIsServed() async throws {
        try await TestDatabase.with { database in
            let settings = GatewaySettings(
                service: try TestMesh.settings(databaseURL: database.url), centre: try DivisionCode(validating: Place.lixian),
                tokenSecret: TestMesh.tokenSecret, bcryptCost: 4
            )
            try await GatewayApp.build(settings: settings).test(.router) { client in
                let browser = Browser(client: client)
                let root = try await browser.get("/")
                #expect(root.status == .seeOther && root.location == "/ui/")
                #expect(try await browser.ask(.head, "/").location == "/ui/")
                let icon = try await browser.get("/favicon.ico")
                #expect(icon.status == .ok && icon.headers[.contentType] == "image/png")
                let bytes = try await client.executeRequest(uri: "/favicon.ico", method: .get, headers: [:], body: ByteBuffer()).body
                #expect(Array(bytes.readableBytesView) == SiteRoot.icon && SiteRoot.icon.starts(with: [0x89, 0x50, 0x4e, 0x47]))
                // A POST to / is still a Connect call (no such method), not a page.
                let post = try await client.executeRequest(uri: "/", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: "{}"))
                #expect(post.status != .seeOther && post.headers[.location] == nil)
                // Other addresses outside /ui/ stay what they were.
                #expect(try await browser.get("/favicon.png").status == .notFound)
            }
        }
    }

    @Test func aGridWorkerIsSentToTheGridPagesAndARefusedReportComesBackAsTyped() async throws {
        let fake = FakeGridService()
        try await withLiveServer({ onRunning in fake.application(onRunning) }) { port in
            try await TestDatabase.with { database in
                let settings = GatewaySettings(
                    service: try TestMesh.settings(databaseURL: database.url, peers: [.grid: "http://127.0.0.1:\(port)"]),
                    centre: try DivisionCode(validating: Place.lixian), tokenSecret: TestMesh.tokenSecret, bcryptCost: 4
                )
                try await GatewayApp.withAccounts(settings: settings) { accounts in
                    try await accounts.saveUser(username: "wang.xm", password: Self.password, centre: try DivisionCode(validating: Place.villageA), roles: [.gridWorker])
                    try await accounts.saveUser(username: "town-a-mediator", password: Self.password, centre: try DivisionCode(validating: Place.townA), roles: [.mediator])
                }
                try await GatewayApp.build(settings: settings).test(.router) { client in
                    var (worker, csrf) = try await signIn(client, "wang.xm")
                    // Home is the grid pages; the nav and the frame's icon are there.
                    #expect(try await worker.get("/ui/").location == "/ui/grid")
                    let page = try await worker.get("/ui/grid?grid=\(Self.grid)&member=\(Self.member)")
                    #expect(page.status == .ok && page.text.contains("<h1>上报矛盾纠纷</h1>") && page.text.contains("href=\"/ui/grid\">网格上报</a>"))
                    #expect(page.text.contains("<link rel=\"icon\" href=\"/favicon.ico\"") && page.text.contains("小渡口一村（生成） · 第一网格"))
                    #expect(page.text.contains("<option value=\"\(Self.grid)\" selected>") && page.text.contains("value=\"\(Self.member)\""))
                    let requestID = try #require(page.text.range(of: #"(?<=name="request_id" value=")[0-9a-f-]{36}"#, options: .regularExpression).map { String(page.text[$0]) })

                    // No party: the service's refusal, in words, above the form as typed, with a new key.
                    let typed = "csrf=\(csrf)&request_id=\(requestID)&grid=\(Self.grid)&member=\(Self.member)&category=2"
                        + "&description=%E9%87%91%E6%9D%8E%E4%B8%A4%E5%AE%B6%E5%8F%88%E5%90%B5%3Cb%3E&party1_name=&repeat_incident=on&prior_police_calls=2"
                    let refused = try await worker.post("/ui/grid/report", typed)
                    #expect(refused.status == .badRequest && refused.text.contains("请至少填写一位当事人的姓名。"))
                    #expect(refused.text.contains(">金李两家又吵&lt;b&gt;</textarea>") && refused.text.contains("name=\"repeat_incident\" checked"))
                    #expect(refused.text.contains("<option value=\"2\" selected>邻里</option>") && refused.text.contains("value=\"2\" type=\"number\""))
                    #expect(!refused.text.contains(requestID) && refused.headers[.setCookie] == nil)

                    // Reported: the receipt, and the phone remembers the grid. The same form sent again reports once.
                    let report = typed.replacingOccurrences(of: "party1_name=", with: "party1_name=%E9%87%91%E6%9F%90&party1_minor=on")
                    let taken = try await worker.post("/ui/grid/report", report)
                    #expect(taken.status == .ok && taken.text.contains("<h1>已上报</h1>") && taken.text.contains("邻里纠纷"))
                    #expect(taken.text.contains("反复发生") && taken.text.contains("此前报警 2 次") && taken.text.contains("涉及未成年人"))
                    let cookie = try #require(taken.headers[.setCookie])
                    #expect(cookie.hasPrefix("\(GridIdentity.cookie)=\(Self.grid)|\(Self.member)|user:wang.xm;"))
                    let again = try await worker.post("/ui/grid/report", report)
                    let number = { (text: String) in text.range(of: #"(?<=<code class="id">)[0-9a-f-]{36}"#, options: .regularExpression).map { String(text[$0]) } }
                    #expect(try #require(number(taken.text)) == (try #require(number(again.text))))
                    #expect(await fake.reports() == 1)

                    // With the cookie, the grid is folded into one line; the screening records "nothing found".
                    worker.cookie = (worker.cookie ?? "") + "; " + String(cookie.prefix { $0 != ";" })
                    #expect(try await worker.get("/ui/grid/screening").text.contains("<details class=\"identity\">"))
                    let day = Day(containing: Date()).description
                    let screened = try await worker.post("/ui/grid/screening", "csrf=\(csrf)&grid=\(Self.grid)&member=\(Self.member)&day=\(day)&households=5&disputes=3&result=none")
                    #expect(screened.status == .ok && screened.text.contains("已记录 \(day) 的排查：走访 5 户，未发现矛盾纠纷。"))
                    let wrongDay = try await worker.post("/ui/grid/screening", "csrf=\(csrf)&grid=\(Self.grid)&member=\(Self.member)&day=2001-01-01&households=7&result=none")
                    #expect(wrongDay.status == .badRequest && wrongDay.text.contains("排查日期只能是今天或之前 7 天内") && wrongDay.text.contains("value=\"7\""))
                    // A form without the session's token is refused before anything is sent.
                    #expect(try await worker.post("/ui/grid/report", report.replacingOccurrences(of: "csrf=\(csrf)", with: "csrf=x")).status == .forbidden)
                    #expect(await fake.reports() == 1)

                    // A mediator may not report: the page is not offered, and their home is still the day's work.
                    (worker, csrf) = try await signIn(client, "town-a-mediator")
                    let mediator = try await worker.get("/ui/grid")
                    #expect(mediator.status == .forbidden && !mediator.text.contains("href=\"/ui/grid\">网格上报"))
                    #expect(try await worker.get("/ui/").location == nil)
                }
            }
        }
    }
}

/// grid-service as the pages meet it: its grids, a village's name (alone or several at once), and reports and screenings
/// checked as the real service checks the fields these tests send (Shared/Access's rules).
actor FakeGridService {
    private var incidents: [String: Pingan_Grid_V1_Incident] = [:]

    func reports() -> Int { incidents.count }

    nonisolated func application(_ onRunning: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
        let router = Router()
        router.post("pingan.grid.v1.DivisionService/GetDivision") { request, _ in
            let asked = try await Self.decode(Pingan_Grid_V1_GetDivisionRequest.self, request)
            return try Self.answer(Pingan_Grid_V1_GetDivisionResponse.with { $0.division.code = asked.code; $0.division.name = "小渡口一村（生成）" })
        }
        router.post("pingan.grid.v1.DivisionService/BatchGetDivisions") { request, _ in
            let asked = try await Self.decode(Pingan_Grid_V1_BatchGetDivisionsRequest.self, request)
            return try Self.answer(Pingan_Grid_V1_BatchGetDivisionsResponse.with {
                $0.divisions = asked.codes.map { code in .with { $0.code = code; $0.name = "小渡口一村（生成）" } }
            })
        }
        router.post("pingan.grid.v1.GridService/ListGrids") { _, _ in
            try Self.answer(Pingan_Grid_V1_ListGridsResponse.with {
                $0.grids = [.with { $0.id = GridPageTests.grid; $0.villageCode = Place.villageA; $0.name = "第一网格" }]
            })
        }
        router.post("pingan.grid.v1.GridService/ReportIncident") { request, _ in
            let report = try await Self.decode(Pingan_Grid_V1_ReportIncidentRequest.self, request)
            do {
                let incident = try await self.report(report)
                return try Self.answer(Pingan_Grid_V1_ReportIncidentResponse.with { $0.incident = incident })
            } catch let error as ConnectError {
                return Self.refuse(error)
            }
        }
        router.post("pingan.grid.v1.GridService/RecordScreening") { request, _ in
            let screening = try await Self.decode(Pingan_Grid_V1_RecordScreeningRequest.self, request)
            guard screening.day == Day(containing: Date()).description else { return Self.refuse(.invalidArgument(field: "day", "too old")) }
            return try Self.answer(Pingan_Grid_V1_RecordScreeningResponse.with {
                $0.screening = .with {
                    $0.day = screening.day; $0.gridID = screening.gridID; $0.householdsVisited = screening.householdsVisited
                    $0.disputesFound = screening.disputesFound
                }
            })
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                           onServerRunning: { await onRunning($0.localAddress?.port ?? 0) })
    }

    private func report(_ request: Pingan_Grid_V1_ReportIncidentRequest) throws -> Pingan_Grid_V1_Incident {
        try ReportFields.parties(request.parties)
        _ = try ReportFields.category(request.category)
        if let earlier = incidents[request.requestID] { return earlier }
        let incident = Pingan_Grid_V1_Incident.with {
            $0.id = UUID().uuidString.lowercased(); $0.gridID = request.gridID; $0.category = request.category
            $0.description_p = request.description_p; $0.partyCount = Int32(request.parties.count)
            $0.threatOfViolence = request.threatOfViolence; $0.threatOfSelfHarm = request.threatOfSelfHarm
            $0.repeatIncident = request.repeatIncident; $0.priorPoliceCalls = request.priorPoliceCalls
            $0.reportedAt = Date().wireTimestamp
        }
        incidents[request.requestID] = incident
        return incident
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
