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
import Testing

/// The case workbench on the dashboard, from fixed cases: which forms each role at each
/// level is offered (dispute-service's table of case actions, read from the case), a refusal
/// said in Chinese beside its form with what was typed kept, the record in Chinese, and
/// everything escaped. The same steps against the whole mesh, in a browser, are in
/// Tests/Interop/test_workbench_case.py.
@Suite("case workbench")
struct CaseWorkbenchTests {
    static let village = "430781103201", township = "430781103000", county = "430781000000", sibling = "430781102000"

    static func principal(_ centre: String, _ roles: [String]) throws -> Principal {
        Principal(subject: "user:t", centre: try DivisionCode(validating: centre), roles: Set(roles.map(Role.init(rawValue:))), expiresAt: .distantFuture)
    }

    static func attempt(_ rung: Pingan_Dispute_V1_Rung, _ outcome: Pingan_Dispute_V1_RungOutcome?) -> Pingan_Dispute_V1_RungAttempt {
        .with {
            $0.id = "a-\(rung.rawValue)-\(outcome?.rawValue ?? 0)"
            $0.rung = rung
            $0.startedAt = "2026-07-01T01:00:00Z"
            if let outcome { $0.outcome = outcome; $0.endedAt = "2026-07-02T01:00:00Z" }
        }
    }

    static func file(
        status: Pingan_Dispute_V1_CaseStatus = .open, coordinator: String = township, rungs: [Pingan_Dispute_V1_RungAttempt] = []
    ) -> Pingan_Dispute_V1_GetCaseResponse {
        .with {
            $0.case = .with {
                $0.id = "c1"; $0.villageCode = village; $0.coordinatorCode = coordinator; $0.status = status; $0.category = .neighbour
            }
            $0.rungs = rungs
            if status == .settled { $0.returnVisit = .with { $0.id = "v1"; $0.deadline.dueAt = "2026-07-20T16:00:00Z" } }
        }
    }

    static let departments: [Pingan_Dispute_V1_Department] = [
        .with { $0.id = "d1"; $0.name = "白衣派出所"; $0.centreCode = township; $0.apiKeyName = "by-police" },
    ]

    static func names(_ code: String) -> String {
        [village: "白衣一村", township: "白衣镇", county: "津市市"][code] ?? code
    }

    static func forms(
        _ file: Pingan_Dispute_V1_GetCaseResponse, _ centre: String, _ roles: [String] = ["staff", "mediator"],
        typed: [String: String] = [:], refusal: CaseForms.Refusal? = nil
    ) throws -> CaseForms {
        CaseForms.offered(on: file, to: try principal(centre, roles), departments: departments, typed: typed, refusal: refusal,
                          today: "2026-07-15", place: names)
    }

    /// The steps a set of forms offers, by the last part of their addresses.
    static func steps(_ forms: CaseForms) -> Set<String> {
        var steps = Set(forms.reasoned.map(\.step))
        if forms.startRungForm != nil { steps.insert("start-rung") }
        if forms.endRungForm != nil { steps.insert("end-rung") }
        if forms.returnVisitForm != nil { steps.insert("return-visit") }
        if forms.summonForm != nil { steps.insert("summon") }
        if forms.majorForm != nil { steps.insert("major") }
        if forms.reclassifyForm != nil { steps.insert("reclassify") }
        return steps
    }

    static func page(forms: CaseForms, timeline: [CasePage.Line] = []) -> CasePage {
        var page = CasePage(
            id: "c1", village: "白衣一村", category: "邻里", status: "办理中", openedAt: "2026-07-01 09:00", description: "两家多次争吵",
            currentRung: "尚未调解", facts: [], hasFacts: false, latestReport: "公安移交 · 2026-07-01 09:00", parties: [], revealed: false,
            canReveal: false, rungs: [], summons: [], agreement: "", hasAgreement: false, returnVisit: "", hasReturnVisit: false,
            timeline: timeline, reports: [], olderReports: "", olderTimeline: "", hasOlderReports: false, hasOlderTimeline: false,
            reportsPaged: false, timelinePaged: false, csrf: "f00d"
        )
        page.forms = forms
        page.coordinator = "白衣镇"
        return page
    }

    // MARK: Forms per role and level

    @Test func theTownshipCoordinatingTheCaseIsOfferedEveryStepItTakesAndNoRequest() throws {
        let forms = try Self.forms(Self.file(), Self.township)
        #expect(Self.steps(forms) == ["start-rung", "summon", "escalate", "major", "reclassify", "resolve"])
        let rungs = try #require(forms.startRungForm).rungs
        #expect(rungs.map(\.value) == ["1", "2", "3", "4", "5"])
        #expect(rungs[0].label.hasSuffix("（下一级）") && rungs[0].selected && rungs[2].label.hasSuffix("（跳级，须填写理由）"))
        #expect(forms.reasoned.first { $0.step == "escalate" }?.button == "上报津市市")
    }

    @Test func aVillageRunsItsOwnRungsAndAsksItsTownshipToEscalateButNeverGoesOverIt() throws {
        let forms = try Self.forms(Self.file(), Self.village)
        #expect(Self.steps(forms) == ["start-rung", "request-escalation", "reclassify", "resolve"])
        #expect(try #require(forms.startRungForm).rungs.map(\.value) == ["1", "2"])
        #expect(forms.reasoned.first?.explain.contains("不得越级上报") == true)
        // Once the village's rungs failed, the ladder is the township's: no rung is offered, and the page says why.
        let climbed = try Self.forms(Self.file(rungs: [Self.attempt(.finder, .failed), Self.attempt(.villageSecretary, .failed)]), Self.village)
        #expect(climbed.startRungForm == nil && climbed.hasLadderHint && climbed.ladderHint.contains("第三级"))
        #expect(climbed.ladderHint.contains("乡镇（街道）"))
    }

    @Test func aCentreAboveTheCoordinatorOnlyReadsUntilTheCaseIsEscalatedToIt() throws {
        #expect(Self.steps(try Self.forms(Self.file(), Self.county)) == ["resolve"])
        let escalated = try Self.forms(Self.file(coordinator: Self.county), Self.county)
        #expect(Self.steps(escalated) == ["start-rung", "summon", "escalate", "hand-back", "major", "reclassify", "resolve"])
        // The township below the county that coordinates now asks, it does not escalate.
        #expect(Self.steps(try Self.forms(Self.file(coordinator: Self.county), Self.township)).contains("request-escalation"))
    }

    @Test func rolesNarrowTheFormsAsTheMethodTableDoes() throws {
        #expect(Self.steps(try Self.forms(Self.file(), Self.township, ["grid_worker"])) == ["start-rung"])
        #expect(Self.steps(try Self.forms(Self.file(), Self.township, ["leader"])) == ["escalate"])
        #expect(Self.steps(try Self.forms(Self.file(), Self.township, ["admin"])).isEmpty)
    }

    @Test func theLadderOffersTheNextRungAsTheServiceClimbsIt() throws {
        let eased = Self.attempt(.finder, .eased)
        #expect(LadderOffer.next(after: []) == 1)
        #expect(LadderOffer.next(after: [eased]) == 1)
        #expect(LadderOffer.next(after: [eased, Self.attempt(.finder, .eased)]) == 2)
        #expect(LadderOffer.next(after: [Self.attempt(.finder, .failed)]) == 2)
        // A settlement the return visit found unsettled: the same rung, its eased count starting again.
        #expect(LadderOffer.next(after: [eased, Self.attempt(.finder, .settled), Self.attempt(.finder, .eased)]) == 1)
        #expect(LadderOffer.next(after: [Self.attempt(.townshipLeaders, .failed)]) == nil)
        let exhausted = try Self.forms(Self.file(rungs: [Self.attempt(.townshipLeaders, .failed)]), Self.township)
        #expect(exhausted.startRungForm == nil && exhausted.ladderHint.contains("上报上级中心"))
        let once = try #require(try Self.forms(Self.file(rungs: [eased]), Self.township).startRungForm)
        #expect(once.rungs.first?.value == "1" && once.hint.contains("已缓和 1 次"))
    }

    @Test func anOpenRungIsEndedAndASettledCaseVisitedNotStartedAgain() throws {
        let open = try Self.forms(Self.file(rungs: [Self.attempt(.townshipCadre, nil)]), Self.township)
        #expect(open.startRungForm == nil && open.endRungForm?.attemptID == "a-3-0" && open.endRungForm?.signedOn == "2026-07-15")
        // A village may not end the township's rung.
        #expect(try Self.forms(Self.file(rungs: [Self.attempt(.townshipCadre, nil)]), Self.village).endRungForm == nil)
        let settled = try Self.forms(Self.file(status: .settled, rungs: [Self.attempt(.townshipCadre, .settled)]), Self.village)
        #expect(Self.steps(settled) == ["return-visit", "reclassify"])
        #expect(Self.steps(try Self.forms(Self.file(status: .closed), Self.township)) == ["major", "reclassify"])
    }

    @Test func aFormNotOfferedIsNotDrawnEvenWhenThePageShowsWhatItWouldRecord() throws {
        // The case page names the return visit and the 1350 record as text; a person offered
        // neither form must not get one through the template reaching past the forms.
        var page = Self.page(forms: try Self.forms(Self.file(status: .closed), Self.county))
        page.major = "按重大纠纷（1350工作法）办理"
        let html = CasePage(
            id: page.id, village: page.village, category: page.category, status: "已回访结案", openedAt: page.openedAt, description: page.description,
            currentRung: page.currentRung, facts: [], hasFacts: false, latestReport: page.latestReport, parties: [], revealed: false, canReveal: false,
            rungs: [], summons: [], agreement: "协议", hasAgreement: true, returnVisit: "已于 2026-07-20 10:00 回访", hasReturnVisit: true,
            timeline: [], reports: [], olderReports: "", olderTimeline: "", hasOlderReports: false, hasOlderTimeline: false,
            reportsPaged: false, timelinePaged: false, csrf: "f00d", major: page.major, forms: page.forms
        ).render()
        #expect(html.contains("已于 2026-07-20 10:00 回访") && html.contains("按重大纠纷（1350工作法）办理"))
        for form in CaseForms.steps { #expect(!html.contains("id=\"\(form)\""), "\(form)") }
    }

    // MARK: Refusals

    @Test func aRefusalIsSaidInChineseBesideItsFormWhichKeepsWhatWasTyped() throws {
        let error = ConnectError.invalidArgument(field: "skip_reason", "rung 1 has not failed: it eased tension 1 time(s) without a settlement, and opens rung 2 once an attempt at it fails or 2 ease it; starting rung 3 now skips it, so record why")
        let message = try #require(CaseRefusals.message(error, place: Self.names))
        #expect(message.contains("已缓和 1 次") && message.contains("跳级理由"))
        let typed = ["rung": "3", "kind": "4", "lead": "李\"<干部>", "participants": "金某、李某", "bodies": "派出所", "skip_reason": ""]
        let forms = try Self.forms(Self.file(rungs: [Self.attempt(.finder, .eased)]), Self.township, typed: typed,
                                   refusal: .init(form: "start-rung", message: message))
        let start = try #require(forms.startRungForm)
        #expect(start.hasError && start.lead == "李\"<干部>" && start.rungs.first { $0.selected }?.value == "3")
        #expect(start.kinds.first { $0.selected }?.label == "司法调解")
        #expect(!forms.hasOtherError && forms.reasoned.allSatisfy { !$0.hasError })
        let html = Self.page(forms: forms).render()
        let form = try #require(html.range(of: "id=\"start-rung\"").map { String(html[$0.lowerBound...]) })
        #expect(form.contains("role=\"alert\">下一级尚未失败"))
        #expect(form.contains("value=\"李&quot;&lt;干部&gt;\"") && !html.contains("<干部>"))
        #expect(form.contains("value=\"金某、李某\""))
    }

    @Test func aForgedStepThePageDoesNotOfferIsRefusedOnTopWithTheReason() throws {
        let error = ConnectError(.permissionDenied, "only the coordinating centre \(Self.township) may escalate this case; ask it with RequestEscalation")
        let message = try #require(CaseRefusals.message(error, place: Self.names))
        #expect(message == "只有统筹本案的白衣镇可以上报上级（不得越级上报）；本中心可以提请它上报。")
        let forms = try Self.forms(Self.file(), Self.village, typed: ["text": "x"], refusal: .init(form: "escalate", message: message))
        #expect(!Self.steps(forms).contains("escalate") && forms.otherError == message)
        let html = Self.page(forms: forms).render()
        #expect(html.contains("id=\"refusal\">只有统筹本案的白衣镇可以上报上级"))
        #expect(CaseRefusals.status(error) == .forbidden)
    }

    @Test func everyRefusalTheServiceGivesReadsAsChineseAndNotFoundIsThePagesToAnswer() {
        let refusals: [(ConnectError, String)] = [
            (ConnectError(.permissionDenied, "rung: rung 3 is run by the township centre or above"), "第三级调解由乡镇（街道）中心或上级中心开展"),
            (ConnectError(.failedPrecondition, "rung: rung 1 cannot start now; the next is rung 2 (a rung opens only when the one below failed)"), "下一步是第二级"),
            (ConnectError(.failedPrecondition, "the case is settled; only an open case is mediated"), "已调解成功"),
            (ConnectError(.permissionDenied, "only the coordinating centre \(Self.township) may summon departments on this case"), "只有统筹本案的白衣镇可以召集部门"),
            (ConnectError(.alreadyExists, "department_ids: 白衣派出所 is already summoned to this case"), "白衣派出所 已被召集"),
            (ConnectError.invalidArgument(field: "resident_representatives", "a major dispute (1350) needs at least 50"), "至少 50 名群众代表"),
            (ConnectError.invalidArgument(field: "agreement.signatories", "at least one signatory is required"), "签字人"),
            (ConnectError(.failedPrecondition, "the case was not escalated; there is nothing to hand back"), "无需交回"),
            (ConnectError(.aborted, "case x kept changing while this step was decided; try again"), "重新提交"),
        ]
        for (error, words) in refusals {
            let message = CaseRefusals.message(error, place: Self.names) ?? ""
            #expect(message.contains(words), "\(error) → \(message)")
            #expect(message.range(of: "[A-Za-z]{4,}", options: .regularExpression) == nil, "\(message)")
        }
        #expect(CaseRefusals.message(ConnectError(.notFound, "case c1 not found"), place: Self.names) == nil)
        #expect(CaseRefusals.message(ConnectError(.unavailable, "down"), place: Self.names) == nil)
    }

    // MARK: The record in Chinese

    @Test func everyTimelineLineDisputeServiceWritesReadsAsChineseWithPlacesNamed() {
        let lines: [(String, String, String)] = [
            ("opened", "opened from a policeTransfer report", "由公安移交立案"),
            ("opened", "opened from incident 5f0c3a4e-0000-4000-8000-000000000001", "由网格上报的事件立案"),
            ("incident_joined", "a policeTransfer report between the same parties: 金某殴打李某", "公安移交：金某殴打李某"),
            ("rung_started", "rung 1, primary mediation by whoever found it (谁发现、谁受理): led by 王网格", "第一级调解，牵头人：王网格"),
            ("rung_started", "rung 4, deep mediation by the township political-legal officer with the safety office, police station and judicial office: led by 政法委员; skipped rung(s) 1, 2, 3: 已动刀", "跳过第一级、第二级、第三级，理由：已动刀"),
            ("rung_ended", "rung 2 eased: 双方情绪缓和", "第二级：矛盾缓和，未达成协议。双方情绪缓和"),
            ("rung_ended", "rung 3 settled: 达成协议", "第三级：调解成功，达成协议"),
            ("agreement_signed", "signed on 2026-07-15 by 金某、李某: 赔偿医药费", "2026-07-15 由 金某、李某 签订：赔偿医药费"),
            ("return_visit", "confirmed: 协议已履行", "协议履行，纠纷已化解。协议已履行"),
            ("summoned", "summoned 白衣派出所、司法所: report by 2026-07-16 00:00, feed back by 2026-07-22 00:00", "召集 白衣派出所、司法所，报到期限 2026-07-16 00:00"),
            ("summons_reported", "白衣派出所 reported late", "白衣派出所 已报到（超过期限）"),
            ("summons_feedback", "白衣派出所 (late): 已出警", "白衣派出所（超过期限）：已出警"),
            ("escalated", "\(Self.township) asked \(Self.county) to coordinate: 需要县级协调", "白衣镇 提请 津市市 统筹。理由：需要县级协调"),
            ("escalation_requested", "\(Self.village) asked \(Self.township) to escalate: 村里调不动", "白衣一村 提请 白衣镇 上报上级"),
            ("handed_back", "\(Self.county) handed the case back to \(Self.township): 协调完毕", "津市市 将案件交回 白衣镇：协调完毕"),
            ("major_dispute", "handled as a major dispute with 派出所、司法所、信访办 and 50 resident representatives", "群众代表 50 名"),
            ("reclassified", "category neighbour → land: 实为宅基地纠纷", "由「邻里」更正为「土地」：实为宅基地纠纷"),
            ("overdue", "rung 2 is past its deadline", "第二级调解已超过期限"),
            ("overdue", "return visit is past its deadline", "回访已超过期限"),
            ("overdue", "白衣派出所 has not reported to the summons by its deadline", "白衣派出所 未在期限内报到"),
            ("personal_data_erased", "结案满 1095 天，当事人姓名、电话及各项记述已按保存期限删除", "结案满 1095 天"),
        ]
        for (kind, note, words) in lines {
            let said = CaseWords.note(kind: kind, note, place: Self.names)
            #expect(said.contains(words), "\(kind): \(said)")
            #expect(CaseWords.heading(kind) != "其他记录", "\(kind)")
            #expect(said.range(of: "(rung|asked|report|signed|summoned|category|handled)", options: .regularExpression) == nil, "\(said)")
        }
        // A line the page cannot read keeps its note, under a Chinese heading.
        #expect(CaseWords.note(kind: "something_new", "as written", place: Self.names) == "as written" && CaseWords.heading("something_new") == "其他记录")
    }

    @Test func theActorIsAPersonOrADepartmentNotARawPrincipal() {
        #expect(CaseWords.actor("user:baiyi-mediator") == "用户 baiyi-mediator")
        #expect(CaseWords.actor("apikey:by-police") == "部门系统 by-police")
        #expect(CaseWords.actor("apikey:by-police", departments: ["by-police": "白衣派出所"]) == "白衣派出所（部门系统）")
        #expect(CaseWords.actor("dispute-service") == "系统" && CaseWords.actor("intake") == "一站式接待")
    }

    @Test func aDeadlineSaysWhetherItCountedOnTheOfficialCalendar() {
        #expect(CasePage.calendarNote(.with { $0.beyondCalendar = false }) == "按法定工作日计算")
        #expect(CasePage.calendarNote(.with { $0.beyondCalendar = true }).contains("超出已载入的官方日历"))
    }

    @Test func theTimelineIsEscapedAndHeadedInChinese() throws {
        let line = CasePage.Line(at: "2026-07-15 09:00", kind: CaseWords.heading("resolved"),
                                 note: CaseWords.note(kind: "resolved", "<script>alert(1)</script>", place: Self.names), actor: CaseWords.actor("user:a<b"))
        let html = Self.page(forms: try Self.forms(Self.file(), Self.township), timeline: [line]).render()
        #expect(html.contains("<strong>办结（未经调解协议）</strong>") && html.contains("&lt;script&gt;") && !html.contains("<script>"))
        #expect(html.contains("用户 a&lt;b"))
        // Every form control has its label.
        let ids = html.matches(of: /<(?:input|select|textarea) id="([^"]+)"/).map { String($0.1) }
        #expect(!ids.isEmpty)
        for id in ids { #expect(html.contains("for=\"\(id)\""), "\(id)") }
        #expect(html.contains("action=\"/ui/cases/c1/steps/escalate\"") && html.contains("name=\"csrf\" value=\"f00d\""))
    }

    // MARK: Intake

    @Test func theIntakeFormKeepsItsRequestIDAndSendsOnlyNamedParties() throws {
        let form = [
            "request_id": "0b6c2f7e-3c7a-4f59-9a39-0d4b1b0f0a11", "village": Self.village, "category": "2", "source": "3",
            "description": "金氏兄弟殴打李某", "party_name_0": " 金某 ", "party_phone_0": "138-0000-0000", "party_name_1": "",
            "party_name_2": "李某", "party_minor_2": "on", "violence_occurred": "on", "prior_police_calls": "1",
        ]
        let request = IntakePage.request(from: form)
        #expect(request.parties.map(\.name) == ["金某", "李某"] && request.parties[1].minor && !request.parties[0].minor)
        #expect(request.source == .policeTransfer && request.category == .neighbour && request.violenceOccurred && !request.threatOfViolence)
        #expect(request.requestID == form["request_id"] && request.priorPoliceCalls == 1)
        #expect(CaseRefusals.message(ConnectError.invalidArgument(field: "parties", "1 to 20 people are required"), place: Self.names) == "请至少填写一名当事人（最多 20 人）。")
    }

    @Test func theIntakePageLabelsEveryControlAndKeepsWhatWasTyped() {
        let page = IntakePage(
            centreName: "白衣镇", villages: [.init(value: Self.village, label: "白衣一村<生成>", selected: true)], hasVillages: true,
            narrower: [], hasNarrower: false, requestID: "rid-1", categories: [], sources: [.init(value: "3", label: "公安移交", selected: true)],
            description: "打架\"了\"", parties: [.init(index: 0, number: 1, name: "金某", phone: "", minor: true)],
            threatOfViolence: false, threatOfSelfHarm: false, violenceOccurred: true, repeatIncident: false, priorPoliceCalls: "1", csrf: "f00d",
            error: "请填写纠纷情况（1 至 2000 字）。", hasError: true
        )
        let html = page.render()
        #expect(html.contains("name=\"request_id\" value=\"rid-1\"") && html.contains("白衣一村&lt;生成&gt;"))
        #expect(html.contains("打架&quot;了&quot;") && html.contains("role=\"alert\">请填写纠纷情况"))
        #expect(html.contains("name=\"violence_occurred\" checked") && html.contains("name=\"party_minor_0\" checked"))
        for id in html.matches(of: /<(?:input|select|textarea) id="([^"]+)"/).map({ String($0.1) }) {
            #expect(html.contains("for=\"\(id)\""), "\(id)")
        }
    }

    // MARK: Routes

    /// The workbench's addresses, answered by the gateway alone (no service reachable): each
    /// step's form needs the session's token, an unknown step is no page, and a step the
    /// service could not be asked about says so rather than pretending it was refused.
    @Test func theStepsAndTheWindowAreFormsOfTheSignedInPersonOnly() async throws {
        try await TestDatabase.with { database in
            let settings = GatewaySettings(
                service: try TestMesh.settings(databaseURL: database.url), centre: try DivisionCode(validating: Place.lixian),
                tokenSecret: TestMesh.tokenSecret, bcryptCost: 4
            )
            try await GatewayApp.withAccounts(settings: settings) { accounts in
                try await accounts.saveUser(username: "window", password: "correct-horse-battery", centre: try DivisionCode(validating: Place.townA), roles: [.staff, .mediator])
                try await accounts.saveUser(username: "gridder", password: "correct-horse-battery", centre: try DivisionCode(validating: Place.townA), roles: [.gridWorker])
            }
            try await GatewayApp.build(settings: settings).test(.router) { client in
                var browser = DashboardRouteTests.Browser(client: client)
                #expect(try await browser.post("/ui/cases/c1/steps/escalate", "csrf=x&text=y").location == "/ui/login")
                #expect(try await browser.get("/ui/intake").location == "/ui/login")
                func signIn(_ user: String) async throws -> String {
                    let answer = try await browser.post("/ui/login", "username=\(user)&password=correct-horse-battery")
                    let cookie = try #require(answer.headers[.setCookie])
                    return String(cookie.dropFirst(Dashboard.cookie.count + 1).prefix { $0 != ";" })
                }
                browser.cookie = try await signIn("window")
                let csrf = Dashboard.csrf(for: try #require(browser.cookie))
                let forged = try await browser.post("/ui/cases/c1/steps/escalate", "csrf=\(csrf.dropLast())&text=y")
                #expect(forged.status == .forbidden && forged.text.contains("请从页面提交表单。"))
                let unknown = try await browser.post("/ui/cases/c1/steps/bogus", "csrf=\(csrf)")
                #expect(unknown.status == .notFound && unknown.text.contains("没有这个页面。"))
                for step in CaseForms.steps {
                    let answer = try await browser.post("/ui/cases/c1/steps/\(step)", "csrf=\(csrf)&text=y")
                    #expect(answer.status == .serviceUnavailable && answer.text.contains("服务暂时不可用"), "\(step)")
                }
                let intake = try await browser.post("/ui/intake", "csrf=\(csrf)&request_id=\(UUID().uuidString)&village=\(Place.villageA)")
                #expect(intake.status == .serviceUnavailable)
                // The window is for centre staff and mediators: a grid worker reports from the grid page.
                browser.cookie = try await signIn("gridder")
                let refused = try await browser.get("/ui/intake")
                #expect(refused.status == .forbidden && refused.text.contains("您的账号不受理案件") && !refused.text.contains("href=\"/ui/intake\""))
            }
        }
    }
}
