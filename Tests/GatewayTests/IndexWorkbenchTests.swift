import Foundation
@testable import GatewayService
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain
import PinganTestSupport
import Testing

/// The index owner's workbench on `/ui/index` (issue 25): the actions due with a form to
/// complete each with a note, the centre's threshold rule shown to all and set by its leader
/// or administrator, and the freezing of a month for those who compute the index; each
/// refusal beside its form, in words, with what was typed kept. The page against the whole
/// mesh is in Tests/Interop/test_workbench_office.py.
@Suite("index workbench")
struct IndexWorkbenchTests {
    static let november = Month(year: 2026, month: 11)
    /// 2026-12-03 10:00 China time: November has ended, December runs.
    static let now = Date(timeIntervalSince1970: 1_796_263_200)

    func principal(_ roles: Set<Role>, at centre: String = Place.townA) throws -> Principal {
        Principal(subject: "user:zhang", centre: try DivisionCode(validating: centre), roles: roles, expiresAt: Self.now.addingTimeInterval(3600))
    }

    func action(_ id: String, status: Pingan_Index_V1_ActionStatus, due: String = "2026-12-10") -> Pingan_Index_V1_IndexAction {
        .with {
            $0.id = id; $0.month = "2026-11"; $0.divisionCode = Place.villageA; $0.divisionName = "小渡口一村<b>"; $0.centreCode = Place.townA
            $0.kind = .summons; $0.owner = "党委书记"; $0.dueOn = due; $0.status = status; $0.score = 0
            if status == .done { $0.outcome = "已约谈村主任"; $0.doneBy = "user:zhang"; $0.doneAt = "2026-12-02T08:00:00Z" }
        }
    }

    func workbench(mayComplete: Bool, maySetRule: Bool, freeze: IndexWorkbench.Freeze?) -> IndexWorkbench {
        var rule = Pingan_Index_V1_ThresholdRule.with {
            $0.centreCode = Place.townA; $0.shareAt = 98; $0.remindBelow = 80; $0.summonBelow = 60
            $0.shareDays = 30; $0.remindDays = 15; $0.summonDays = 7
            $0.shareOwner = "被评单位负责人"; $0.remindOwner = "政法委员"; $0.summonOwner = "党委书记"
        }
        rule.isDefault = true
        return IndexWorkbench(
            centre: Place.townA, month: "2026-11", csrf: "token",
            actions: [
                IndexWorkbench.row(of: action("open-1", status: .open, due: "2026-12-01"), today: "2026-12-03"),
                IndexWorkbench.row(of: action("done-1", status: .done), today: "2026-12-03"),
            ],
            rule: IndexWorkbench.RuleForm(rule), mayComplete: mayComplete, maySetRule: maySetRule, freeze: freeze
        )
    }

    @Test func openActionsOfferACompleteFormAndDoneOnesShowWhatWasDone() {
        let html = workbench(mayComplete: true, maySetRule: false, freeze: nil).render()
        #expect(html.contains("action=\"/ui/index/actions/open-1/complete\"") && !html.contains("/ui/index/actions/done-1/complete"))
        let open = html.components(separatedBy: "data-action=\"open-1\"")[1].components(separatedBy: "</article>")[0]
        #expect(open.contains("约谈") && open.contains("党委书记") && open.contains("2026-12-01") && open.contains("已逾期") && open.contains("待办"))
        #expect(open.contains("<label for=\"note-open-1\">办理情况</label>") && open.contains("name=\"csrf\" value=\"token\""))
        let done = html.components(separatedBy: "data-action=\"done-1\"")[1].components(separatedBy: "</article>")[0]
        #expect(done.contains("已完成") && done.contains("办理情况：已约谈村主任（zhang，") && !done.contains("已逾期"))
        #expect(html.contains("小渡口一村&lt;b&gt;") && !html.contains("小渡口一村<b>"))
        // Someone who may not complete sees the actions without forms.
        #expect(!workbench(mayComplete: false, maySetRule: false, freeze: nil).render().contains("/complete\""))
    }

    @Test func theRuleIsReadByAllAndItsFormIsForThoseWhoMaySetIt() {
        let read = workbench(mayComplete: true, maySetRule: false, freeze: nil).render()
        #expect(read.contains("（默认规则）") && read.contains("98 分及以上") && read.contains("低于 80 分") && read.contains("低于 60 分") && read.contains("政法委员"))
        #expect(!read.contains("action=\"/ui/index/rule\""))
        var set = workbench(mayComplete: true, maySetRule: true, freeze: nil)
        #expect(set.render().contains("action=\"/ui/index/rule\"") && set.render().contains("name=\"share_at\" value=\"98\""))
        // A refused rule keeps what was typed, with the reason beside the form.
        set.rule = IndexWorkbench.RuleForm(form: ["share_at": "70", "remind_below": "80", "summon_below": "60", "share_days": "30",
                                                  "remind_days": "15", "summon_days": "7", "share_owner": "村书记", "remind_owner": "政法委员", "summon_owner": "党委书记"])
        set.refusal = .init(form: "rule", message: IndexWords.refusal(ConnectError.invalidArgument(field: "rule.remind_below", "must not be above share_at (70)"), form: "rule") ?? "")
        let refused = set.render()
        let section = refused.components(separatedBy: "id=\"rule\"")[1].components(separatedBy: "</section>")[0]
        #expect(section.contains("提醒谈话分数线须为 0 至 100 的数，且不高于经验交流分数线。") && section.contains("name=\"share_at\" value=\"70\"") && section.contains("value=\"村书记\""))
    }

    @Test func aRuleThatIsNotANumberIsRefusedNamingTheField() {
        let typed = IndexWorkbench.RuleForm(form: ["share_at": "九十八", "remind_below": "80", "summon_below": "60", "share_days": "30", "remind_days": "15", "summon_days": "7"])
        #expect(throws: ConnectError.self) { try typed.rule(centre: Place.townA) }
        do {
            _ = try typed.rule(centre: Place.townA)
        } catch {
            #expect(error.message.hasPrefix("rule.share_at") && IndexWords.refusal(error, form: "rule")?.hasPrefix("经验交流分数线") == true)
        }
        let good = IndexWorkbench.RuleForm(form: ["share_at": "95.5", "remind_below": "80", "summon_below": "60", "share_days": "30", "remind_days": "15",
                                                  "summon_days": "7", "share_owner": "a", "remind_owner": "b", "summon_owner": "c"])
        let rule = try? good.rule(centre: Place.townA)
        #expect(rule?.shareAt == 95.5 && rule?.summonDays == 7 && rule?.centreCode == Place.townA)
    }

    @Test func freezingIsOfferedToThoseWhoComputeAtTheirOwnCentreAndARecomputationToAdministratorsWithAReason() throws {
        let townA = try DivisionCode(validating: Place.townA)
        let december = Self.november.adding(months: 1)
        let leader = try principal([.leader])
        #expect(IndexWorkbench.freeze(month: Self.november, frozen: false, now: Self.now, principal: leader, centre: townA, gatewayCentre: townA)?.label == "定稿 2026-11")
        #expect(IndexWorkbench.freeze(month: december, frozen: false, now: Self.now, principal: leader, centre: townA, gatewayCentre: townA)?.label == "重新计算本月")
        #expect(IndexWorkbench.freeze(month: december.adding(months: 1), frozen: false, now: Self.now, principal: leader, centre: townA, gatewayCentre: townA) == nil)
        // A frozen month: an administrator, with a reason; a leader is not offered it.
        #expect(IndexWorkbench.freeze(month: Self.november, frozen: true, now: Self.now, principal: leader, centre: townA, gatewayCentre: townA) == nil)
        #expect(IndexWorkbench.freeze(month: Self.november, frozen: true, now: Self.now, principal: try principal([.admin]), centre: townA, gatewayCentre: townA)?.needsReason == true)
        // Staff do not compute; nor does anyone for a centre below their own.
        #expect(IndexWorkbench.freeze(month: Self.november, frozen: false, now: Self.now, principal: try principal([.staff]), centre: townA, gatewayCentre: townA) == nil)
        // Nor anyone at a centre below the gateway's, which cannot be the deployment's root.
        let lixian = try DivisionCode(validating: Place.lixian)
        #expect(IndexWorkbench.freeze(month: Self.november, frozen: false, now: Self.now, principal: leader, centre: townA, gatewayCentre: lixian) == nil)
        #expect(IndexWorkbench.freeze(month: Self.november, frozen: false, now: Self.now, principal: try principal([.leader], at: Place.lixian), centre: lixian, gatewayCentre: lixian) != nil)
        let county = try principal([.leader, .admin], at: Place.lixian)
        #expect(IndexWorkbench.freeze(month: Self.november, frozen: false, now: Self.now, principal: county, centre: townA, gatewayCentre: try DivisionCode(validating: Place.lixian)) == nil)

        var bench = workbench(mayComplete: true, maySetRule: true, freeze: IndexWorkbench.freeze(month: Self.november, frozen: true, now: Self.now, principal: try principal([.admin]), centre: townA, gatewayCentre: townA))
        bench.refusal = .init(form: "freeze", message: IndexWords.refusal(ConnectError(.permissionDenied, "the index is computed for the whole deployment, by its root centre"), form: "freeze") ?? "")
        let html = bench.render(reason: "补录了<调查>数据")
        let section = html.components(separatedBy: "id=\"freeze\"")[1].components(separatedBy: "</section>")[0]
        #expect(section.contains("治理指数由根中心（全市）统一计算") && section.contains("补录了&lt;调查&gt;数据</textarea>") && section.contains("重新计算 2026-11"))
    }

    @Test func refusalsOfTheFormsReadAsChinese() {
        #expect(IndexWords.refusal(ConnectError.invalidArgument(field: "outcome", "is required"), form: "action") == "请填写办理情况，1 至 500 字。")
        #expect(IndexWords.refusal(ConnectError(.failedPrecondition, "action x is done, not open"), form: "action") == "该行动已完成或已撤回，不能再办结。")
        #expect(IndexWords.refusal(ConnectError(.notFound, "action x not found"), form: "action") == "未找到该行动，或它不在本中心的辖区内。")
        #expect(IndexWords.refusal(ConnectError(.permissionDenied, "2026-11 is frozen (version 1); only an administrator"), form: "freeze")?.contains("已定稿") == true)
        #expect(IndexWords.refusal(ConnectError.invalidArgument(field: "reason", "say why"), form: "freeze")?.contains("说明理由") == true)
        #expect(IndexWords.refusal(ConnectError(.unavailable, "down"), form: "rule") == nil)
    }
}
