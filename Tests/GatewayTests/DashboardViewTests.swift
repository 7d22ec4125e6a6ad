import Foundation
@testable import GatewayService
import PinganContracts
import PinganDomain
import Testing

/// The dashboard's views, rendered from fixed models: what a page shows comes from its model,
/// escaped, and actions are offered only to those who may take them. The pages against the
/// real mesh, in a real browser, are in Tests/Interop/test_dashboard.py.
@Suite("dashboard views")
struct DashboardViewTests {
    func today(canAcknowledge: Bool, village: String = "小渡口一村") -> TodayPage {
        let next = canAcknowledge ? TodayPage.step(after: .raised)?.0 : nil
        return TodayPage(
            code: "430723102000", name: "小渡口镇", level: "乡镇（街道）", trail: [], children: [], hasChildren: false,
            warnings: [.init(id: "w1", caseID: "c1", village: village, score: 65, status: "待签收", raisedAt: "2026-11-28 10:00",
                             age: "2 小时", escalation: "2 小时后升级至上级中心", escalates: true, waiting: true,
                             next: next, hasNext: next != nil)],
            warningCount: 1,
            cases: [.init(id: "c1", village: village, category: "邻里", rung: "第一级：谁发现谁受理", status: "办理中",
                          openedAt: "2026-11-28 10:00", overdue: true, deadline: "2026-11-30 24:00")],
            actions: [], due: [], csrf: "f00d"
        )
    }

    @Test func namesAreEscapedAndTheAcknowledgeButtonNeedsTheRole() {
        let page = today(canAcknowledge: true, village: "<script>alert(1)</script>").render()
        #expect(!page.contains("<script>"))
        #expect(page.contains("&lt;script&gt;"))
        #expect(page.contains("action=\"/ui/warnings/w1/acknowledge\"") && page.contains("value=\"f00d\""))
        #expect(page.contains("class=\"overdue\""))
        #expect(!today(canAcknowledge: false).render().contains("/acknowledge"))
    }

    @Test func aCountyRunningItsOwnMeshShowsUpToWhenItsFiguresGoAndWhenItFellSilent() throws {
        let now = try #require(Date(wireTimestamp: "2026-12-07T13:00:00Z"))
        func county(heard: TimeInterval, complete: TimeInterval?) -> Pingan_Dispute_V1_FederatedCounty {
            .with {
                $0.countyCode = "430723000000"
                $0.heardAt = now.addingTimeInterval(-heard).wireTimestamp
                $0.completeAsOf = complete.map { now.addingTimeInterval(-$0).wireTimestamp } ?? ""
            }
        }
        // Heard 8 s ago, complete to a minute ago: as it runs every day.
        let live = CountyCopies.row(county(heard: 8, complete: 61), name: "澧县", now: now)
        #expect(!live.stale && live.asOf == "2026-12-07 20:58" && live.heard.hasPrefix("2026-12-07 20:59"))
        // The link went down 25 minutes ago.
        let cut = CountyCopies.row(county(heard: 1500, complete: 1560), name: "澧县", now: now)
        #expect(cut.stale && cut.asOf == "2026-12-07 20:34" && cut.heard == "2026-12-07 20:35（25 分钟前）")
        // Calling, but with a backlog it has not worked through for ten minutes.
        #expect(CountyCopies.row(county(heard: 3, complete: 600), name: "澧县", now: now).stale)
        // Never yet said complete.
        let fresh = CountyCopies.row(county(heard: 3, complete: nil), name: "澧县", now: now)
        #expect(fresh.stale && fresh.asOf == "尚未同步")

        let page = CountyCopies(rows: [live, cut]).render()
        #expect(page.contains("id=\"county-copies\"") && page.contains("澧县：数据截至 2026-12-07 20:34"))
        #expect(page.components(separatedBy: "同步中断或滞后").count == 2)
        #expect(CountyCopies(rows: []).render().trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
    }

    @Test func aCentreWithMoreStepsDueThanThePageReadsIsToldWhereTheRestAre() {
        var page = today(canAcknowledge: false)
        #expect(!page.render().contains("id=\"due-more\""))
        page.dueMore = true
        #expect(page.render().contains("<p class=\"muted\" id=\"due-more\">本页只读最早到期的 500 项办理步骤；其余请进入下级中心查看。</p>"))
    }

    @Test func eachStepOfTheWarningLoopIsTheNextFormInTurn() {
        let steps = [Pingan_Risk_V1_WarningStatus.raised, .acknowledged, .handling, .fedBack, .evaluated, .closed].map { TodayPage.step(after: $0)?.0.action }
        #expect(steps == ["acknowledge", "assign", "feedback", "evaluate", "close", nil])
        #expect(TodayPage.step(after: .acknowledged)?.0.needsText == true && TodayPage.step(after: .raised)?.0.needsText == false)
    }

    @Test func aWarningSaysItsLevelAndHowOftenTheCaseWarned() {
        var page = today(canAcknowledge: true)
        #expect(!page.render().contains("class=\"level\""))
        var row = page.warnings[0]
        row.grade(.major, count: 2)
        page = TodayPage(code: page.code, name: page.name, level: page.level, trail: [], children: [], hasChildren: false,
                         warnings: [row], warningCount: 1, cases: page.cases, actions: [], due: [], csrf: page.csrf)
        let html = page.render()
        #expect(html.contains("<strong class=\"level\">重大风险</strong> · 待签收 · <span class=\"repeated\">已预警 2 次</span>"))
        row.grade(.serious, count: 1)
        #expect(row.level == "较大" && !row.hasRepeated && row.hasLevel)
        #expect([Pingan_Risk_V1_RiskLevel.general, .serious, .major, .unspecified].map(TodayPage.levelWords) == ["一般", "较大", "重大", ""])
    }

    @Test func evaluatingAndClosingAreOfferedToTheOwningCentreAndAbove() throws {
        let township = try DivisionCode(validating: "430722101000"), village = try DivisionCode(validating: "430722101201")
        let county = try DivisionCode(validating: "430722000000")
        #expect(TodayPage.mayTake("evaluate", at: township, owner: "430722101000"))
        #expect(TodayPage.mayTake("close", at: county, owner: "430722101000"))
        #expect(!TodayPage.mayTake("evaluate", at: village, owner: "430722101000"))
        #expect(!TodayPage.mayTake("close", at: village, owner: "430722101000"))
        #expect(TodayPage.mayTake("feedback", at: village, owner: "430722101000") && TodayPage.mayTake("acknowledge", at: village, owner: "430722101000"))
    }

    @Test func theExportIsTheRowsShownAndNoCellIsAFormula() {
        let csv = today(canAcknowledge: false, village: "=HYPERLINK(\"x\")").casesCSV()
        let lines = csv.split(separator: "\r\n")
        #expect(lines.count == 2)
        #expect(lines[1].hasPrefix("\"'=HYPERLINK(\"\"x\"\")\",邻里,"))
        #expect(lines[1].hasSuffix(",是"))
    }

    @Test func theTrendChartDrawsALinePerUnitAndEscapesNames() {
        let chart = TrendChart(months: ["2026-10", "2026-11"], trends: [
            .init(name: "甲村 & <乙>", scores: [70, 80]), .init(name: "丙村", scores: [nil, nil]),
        ]).svg
        #expect(chart.components(separatedBy: "<polyline").count == 2)
        #expect(chart.contains("甲村 &amp; &lt;乙&gt;") && !chart.contains("<乙>"))
        #expect(chart.components(separatedBy: "<circle").count == 3)
    }

    func casePage(reportsToken: String, timelineToken: String) -> CasePage {
        let olderReports = CasePage.link(case: "c1", "reports", reportsToken)
        let olderTimeline = CasePage.link(case: "c1", "timeline", timelineToken)
        var transfer = Pingan_Dispute_V1_CaseReport()
        transfer.violenceOccurred = true
        transfer.priorPoliceCalls = 1
        var worst = Pingan_Dispute_V1_Case()
        worst.violenceOccurred = true
        worst.threatOfViolence = true
        worst.threatOfSelfHarm = true
        worst.minorsInvolved = true
        return CasePage(
            id: "c1", village: "芭蕉社区", category: "邻里", status: "办理中", openedAt: "2026-04-07 09:00", description: "金、李两家多次争吵",
            currentRung: "尚未调解", facts: Labels.facts(of: worst), hasFacts: true, latestReport: "公安移交 · 2026-07-14 09:00",
            parties: [], revealed: false, canReveal: false, rungs: [], summons: [], agreement: "", hasAgreement: false, returnVisit: "",
            hasReturnVisit: false, timeline: [.init(at: "2026-07-14 09:00", kind: "incident_joined", note: "<b>x</b>", actor: "dispute-service")],
            reports: [.init(source: "公安移交", reportedAt: "2026-07-14 09:00", description: "金氏兄弟殴打李某乙", facts: Labels.facts(of: transfer),
                            hasFacts: true, opened: false, backfilled: false)],
            olderReports: olderReports, olderTimeline: olderTimeline,
            hasOlderReports: !olderReports.isEmpty, hasOlderTimeline: !olderTimeline.isEmpty,
            reportsPaged: false, timelinePaged: false, csrf: "f00d"
        )
    }

    @Test func theCasePageShowsTheWorstFactsAndAnEarlierLinkPerGrowingList() {
        let page = casePage(reportsToken: "MTc4|a+b/c=", timelineToken: "dGltZWxpbmV8NQ==").render()
        for fact in ["已发生暴力", "有自伤风险", "涉及未成年人"] { #expect(page.contains(fact), "\(fact)") }
        #expect(!page.contains("有暴力威胁"))  // the violence that happened says more
        #expect(page.contains("曾报警 1 次") && page.contains("公安移交"))
        // Each list's "更早" link carries its own token, escaped so the query reads back the same.
        #expect(page.contains("href=\"/ui/cases/c1?reports=MTc4%7Ca%2Bb%2Fc%3D#reports\">更早</a>"))
        #expect(page.contains("href=\"/ui/cases/c1?timeline=dGltZWxpbmV8NQ%3D%3D#timeline\">更早</a>"))
        #expect(!page.contains("<b>x</b>"))
        let last = casePage(reportsToken: "", timelineToken: "").render()
        #expect(!last.contains("更早"))
        #expect(!last.contains("id=\"erased\""))
        var erased = casePage(reportsToken: "", timelineToken: "")
        erased.erased = "本案已结满保存期限：当事人姓名、电话及各项记述已于 2029-03-06 09:00 删除，案件的事实、步骤和日期保留。"
        #expect(erased.render().contains("<p class=\"notice\" id=\"erased\">本案已结满保存期限"))
        var calm = Pingan_Dispute_V1_Case()
        calm.repeatIncident = true
        #expect(Labels.facts(of: calm).isEmpty)
    }
}
