@testable import GatewayService
import PinganContracts
import Testing

/// The social-risk topic page (`/ui/topics`), rendered from fixed models: the incidents table
/// adds a village's category up by week, a cluster lists its member cases, titles are
/// escaped, and the forms are offered to staff only.
@Suite("topic page")
struct TopicPageTests {
    static let weeks = ["2026-11-23", "2026-11-30", "2026-12-07"]

    func page(mayEdit: Bool, title: String = "白衣镇土地征收") -> TopicPage {
        let counts: [Pingan_Risk_V1_IncidentCount] = [
            .with { $0.villageCode = "430781103201"; $0.category = .land; $0.week = "2026-11-30"; $0.count = 4 },
            .with { $0.villageCode = "430781103201"; $0.category = .land; $0.week = "2026-12-07"; $0.count = 2 },
            .with { $0.villageCode = "430781103202"; $0.category = .neighbour; $0.week = "2026-11-23"; $0.count = 1 },
            // A week the page does not show is left out, not put in another column.
            .with { $0.villageCode = "430781103202"; $0.category = .neighbour; $0.week = "2026-11-16"; $0.count = 9 },
        ]
        return TopicPage(
            centre: "430781103000", weeks: Self.weeks, rows: TopicPage.rows(counts, weeks: Self.weeks),
            clusters: [.with {
                $0.id = "w1"; $0.rule = "land-village-14d"; $0.rulesVersion = "2026.12-1"; $0.status = .raised
                $0.villageCode = "430781103201"; $0.centreCode = "430781103000"; $0.memberCaseIds = ["c1", "c2", "c3", "c4", "c5", "c6"]
            }],
            topics: [.with { $0.id = "t1"; $0.title = title; $0.centreCode = "430781103000"; $0.caseIds = ["c1"]; $0.openedAt = "2026-12-01T01:00:00Z" }],
            mayEdit: mayEdit, csrf: "f00d"
        )
    }

    @Test func incidentsAddUpByVillageCategoryAndWeekBusiestFirst() {
        let rows = page(mayEdit: false).rows
        #expect(rows.map(\.village) == ["430781103201", "430781103202"])
        #expect(rows.map(\.counts) == [[0, 4, 2], [1, 0, 0]])
        #expect(rows.map(\.category) == [.land, .neighbour])
    }

    @Test func aClusterListsItsMemberCasesAndItsRulesVersion() {
        let html = page(mayEdit: false).render()
        #expect(html.contains("land-village-14d（规则版本 2026.12-1）") && html.contains("关联案件 6 起"))
        #expect((1...6).allSatisfy { html.contains("href=\"/ui/cases/c\($0)\"") })
    }

    @Test func titlesAreEscapedAndTheFormsAreForStaff() {
        let staff = page(mayEdit: true, title: "<script>alert(1)</script>").render()
        #expect(!staff.contains("<script>") && staff.contains("&lt;script&gt;"))
        #expect(staff.contains("action=\"/ui/topics/t1/attach\"") && staff.contains("action=\"/ui/topics?centre=430781103000\"") && staff.contains("value=\"f00d\""))
        let reader = page(mayEdit: false).render()
        #expect(!reader.contains("/attach") && !reader.contains("method=\"post\""))
    }
}
