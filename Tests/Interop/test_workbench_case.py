"""The case workbench in a real browser (headless Debian chromium through Playwright) against
the whole mesh: story 3 of ../shared/scenarios.md, the 3-2-1 ladder in 津市市 白衣镇, played by
the township's window clerk and mediator, from a police transfer taken in at the window to the
return visit; each step checked on the page and through the API. Then what the levels may not
do: a village cannot escalate over its township (the form is not offered, and a forged post is
refused with the reason), and a sibling township's user finds no such case.

Screenshots of every page are written to $PINGAN_ARTIFACTS (default Tests/Interop/artifacts).
"""

from __future__ import annotations

import re
import subprocess
import uuid

import pytest

from mesh import FOREIGN_TOWN, FOREIGN_VILLAGE, PASSWORD, Mesh, _bin_dir, _login
from test_dashboard import ARTIFACTS, browser, gateway, shot  # noqa: F401 - fixtures shared with the dashboard's tests

DISPUTE = "/pingan.dispute.v1.DisputeService"
VILLAGE_NAME = "白衣一村（生成）"
# A township of 津市市 beside 白衣镇.
SIBLING_TOWN = "430781001000"


def add_user(mesh: Mesh, name: str, centre: str, roles: str) -> None:
    subprocess.run([str(_bin_dir() / "gateway"), "add-user", name, centre, roles],
                   env={**mesh.env_for("gateway"), "PINGAN_PASSWORD": PASSWORD}, check=True, capture_output=True, timeout=60)
    mesh.tokens[name] = _login(mesh, name)


@pytest.fixture(scope="module")
def people(mesh: Mesh) -> dict[str, str]:
    """白衣镇's mediator is the seed's `foreign` user (every role at the township); a village
    centre's clerk of 白衣一村 and a clerk of the sibling 三洲驿街道 are added here."""
    add_user(mesh, "baiyi-village", FOREIGN_VILLAGE, "staff,mediator")
    add_user(mesh, "sanzhouyi", SIBLING_TOWN, "staff,mediator")
    department = mesh.ok(f"{DISPUTE}/RegisterDepartment",
                         {"centreCode": FOREIGN_TOWN, "name": "白衣派出所", "apiKeyName": "baiyi-police"}, as_user="foreign")
    return {"township": "foreign", "village": "baiyi-village", "sibling": "sanzhouyi", "department": department["department"]["id"]}


def sign_in(browser, gateway: str, user: str):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.goto(f"{gateway}/ui/login")
    page.get_by_label("用户名").fill(user)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/ui/$"))
    return context, page


def case_file(mesh: Mesh, case_id: str, user: str = "foreign") -> dict:
    return mesh.ok(f"{DISPUTE}/GetCase", {"caseId": case_id}, as_user=user)


def submit(page, form: str, button: str) -> None:
    page.locator(f"form#{form}").get_by_role("button", name=button).click()
    page.wait_for_load_state()


def start_rung(page, lead: str, rung: str | None = None, skip_reason: str = "") -> None:
    form = page.locator("form#start-rung")
    if rung:
        form.get_by_label("调解层级").select_option(rung)
    form.get_by_label("牵头人").fill(lead)
    form.get_by_label("参与人员（用顿号或逗号分隔）").fill("金某甲、李某乙")
    form.get_by_label("参与单位：站所、部门（用顿号或逗号分隔）").fill("白衣镇司法所")
    if skip_reason:
        form.get_by_label("跳级理由（跳过下一级时必填）").fill(skip_reason)
    submit(page, "start-rung", "开始调解")


def end_rung(page, outcome: str, note: str) -> None:
    form = page.locator("form#end-rung")
    form.get_by_label(outcome, exact=True).check()
    form.get_by_label("情况说明").fill(note)
    submit(page, "end-rung", "登记结果")


def test_story_3_the_ladder_is_climbed_in_the_browser_from_the_window_to_the_return_visit(browser, gateway, mesh: Mesh, people) -> None:
    context, page = sign_in(browser, gateway, people["township"])
    try:
        # 一站式接待: the police transfer a township's window takes in.
        page.get_by_role("link", name="一站式接待").click()
        page.wait_for_url(re.compile(r"/ui/intake$"))
        form = page.locator("form#intake")
        form.get_by_label("村（社区）").select_option(label=VILLAGE_NAME)
        form.get_by_label("来源").select_option(label="公安移交")
        form.get_by_label("纠纷类别").select_option(label="邻里")
        form.get_by_label("纠纷情况").fill("金、李两家因宅前排水多次争吵，昨晚发生推搡，派出所移交调解")
        form.get_by_label("当事人 1 姓名").fill("金某甲")
        form.get_by_label("当事人 1 电话").fill("138-0000-0001")
        form.get_by_label("当事人 2 姓名").fill("李某乙")
        form.get_by_label("已发生暴力").check()
        form.get_by_label("此前报警次数").fill("1")
        request_id = form.locator("input[name=request_id]").input_value()
        csrf = form.locator("input[name=csrf]").input_value()
        shot(page, "workbench-intake-baiyi")
        submit(page, "intake", "受理")
        page.wait_for_url(re.compile(r"/ui/cases/[0-9a-f-]+\?done=intake"))
        case_id = re.search(r"/ui/cases/([0-9a-f-]+)", page.url).group(1)
        assert "已受理" in page.inner_text("main")
        assert "已发生暴力" in page.locator("#summary").inner_text()
        timeline = page.locator("#timeline").inner_text()
        assert "立案" in timeline and "由公安移交立案" in timeline and "opened" not in timeline, timeline
        answer = case_file(mesh, case_id)["case"]
        assert answer["source"] == "CASE_SOURCE_POLICE_TRANSFER" and answer["violenceOccurred"] and answer["villageCode"] == FOREIGN_VILLAGE
        # The same form posted again (a double click) opens no second case.
        again = context.request.post(f"{gateway}/ui/intake", form={
            "csrf": csrf, "request_id": request_id, "village": FOREIGN_VILLAGE, "source": "3", "category": "2",
            "description": "金、李两家因宅前排水多次争吵，昨晚发生推搡，派出所移交调解", "party_name_0": "金某甲", "party_name_1": "李某乙",
        })
        assert again.ok and case_id in again.url, again.url
        listed = mesh.ok(f"{DISPUTE}/ListCases", {"divisionCode": FOREIGN_VILLAGE}, as_user="foreign")["cases"]
        assert [c["id"] for c in listed] == [case_id], listed

        # Rung 1, by whoever found it: it fails.
        start_rung(page, "王网格")
        rungs = page.locator("#rungs tbody tr")
        assert rungs.count() == 1 and "第一级" in rungs.first.inner_text() and "进行中" in rungs.first.inner_text()
        assert page.locator("#rungs td.deadline").first.inner_text().endswith("24:00")
        assert page.locator("#rungs td.calendar").first.inner_text() == "按法定工作日计算"
        attempt = case_file(mesh, case_id)["rungs"][0]
        assert attempt["rung"] == "RUNG_FINDER" and attempt["lead"] == "王网格" and attempt["participants"] == ["金某甲", "李某乙"]
        end_rung(page, "调解不成功", "双方各执一词，调解未成")
        assert case_file(mesh, case_id)["rungs"][0]["outcome"] == "RUNG_OUTCOME_FAILED"

        # Skipping rung 2 without a reason is refused beside the form, which keeps what was typed.
        start_rung(page, "镇包村干部", rung="3")
        assert page.url.endswith(f"/ui/cases/{case_id}/steps/start-rung")
        refusal = page.locator("form#start-rung .error").inner_text()
        assert "跳级理由" in refusal, refusal
        assert page.locator("form#start-rung").get_by_label("牵头人").input_value() == "镇包村干部"
        assert page.locator("form#start-rung").get_by_label("调解层级").input_value() == "3"
        shot(page, "workbench-refused-skip-baiyi")
        assert len(case_file(mesh, case_id)["rungs"]) == 1

        # Rung 2, led by the village party secretary, eases tension twice: then rung 3 opens.
        page.goto(f"{gateway}/ui/cases/{case_id}")
        for note in ("双方情绪缓和，约定再谈", "再次调解，仍未达成协议"):
            start_rung(page, "村支书 张书记")
            assert "第二级" in page.locator("#rungs tbody tr").last.inner_text()
            end_rung(page, "矛盾缓和，未达成协议", note)
        offered = page.locator("form#start-rung").get_by_label("调解层级")
        assert offered.input_value() == "3", offered.inner_text()
        assert "第三级：包村干部调解（下一级）" in offered.inner_text()
        start_rung(page, "镇包村干部 刘干部")
        outcomes = [a.get("outcome") for a in case_file(mesh, case_id)["rungs"]]
        assert outcomes == ["RUNG_OUTCOME_FAILED", "RUNG_OUTCOME_EASED", "RUNG_OUTCOME_EASED", None], outcomes

        # Settled at rung 3 with the agreement signed.
        form = page.locator("form#end-rung")
        form.get_by_label("调解成功，达成协议", exact=True).check()
        form.get_by_label("情况说明").fill("经包村干部调解，双方达成协议")
        form.get_by_label("协议内容").fill("金家三日内疏通排水沟，双方互不追究")
        form.get_by_label("签字人（用顿号或逗号分隔）").fill("金某甲、李某乙")
        shot(page, "workbench-case-mediator-signing-baiyi")
        submit(page, "end-rung", "登记结果")
        answer = case_file(mesh, case_id)
        assert answer["case"]["status"] == "CASE_STATUS_SETTLED", answer["case"]
        assert answer["agreement"]["terms"] == "金家三日内疏通排水沟，双方互不追究" and answer["agreement"]["signatories"] == ["金某甲", "李某乙"]
        assert "金家三日内疏通排水沟" in page.locator("#agreement").inner_text()
        assert "回访期限" in page.locator("#agreement").inner_text()

        # The return visit confirms it: the case closes.
        form = page.locator("form#return-visit")
        form.get_by_label("协议履行，纠纷已化解", exact=True).check()
        form.get_by_label("回访情况").fill("排水沟已疏通，两家关系缓和")
        submit(page, "return-visit", "登记回访")
        assert case_file(mesh, case_id)["case"]["status"] == "CASE_STATUS_CLOSED"
        assert "已回访结案" in page.locator("#summary").inner_text()
        assert page.locator("form#start-rung, form#end-rung, form#return-visit").count() == 0

        # The record reads as Chinese: headings, outcomes and who took each step.
        timeline = page.locator("#timeline").inner_text()
        for words in ("开始调解", "第三级：调解成功，达成协议", "第一级：调解不成功", "签订调解协议", "协议履行，纠纷已化解", "用户 foreign", "一站式接待"):
            assert words in timeline, (words, timeline)
        assert not re.search(r"rung_|user:|return_visit|agreement_signed", timeline), timeline
        shot(page, "workbench-case-mediator-baiyi")
    finally:
        context.close()


def open_case(mesh: Mesh, description: str, names: list[str]) -> str:
    return mesh.ok(f"{DISPUTE}/IntakeCase", {
        "requestId": str(uuid.uuid4()), "villageCode": FOREIGN_VILLAGE, "category": "INCIDENT_CATEGORY_LAND",
        "source": "CASE_SOURCE_WALK_IN", "description": description, "parties": [{"name": n} for n in names],
    }, as_user="foreign")["case"]["id"]


def test_a_village_cannot_escalate_over_its_township_and_may_ask_it(browser, gateway, mesh: Mesh, people) -> None:
    case_id = open_case(mesh, "承包地边界争议", ["赵某", "钱某"])
    context, page = sign_in(browser, gateway, people["village"])
    try:
        page.goto(f"{gateway}/ui/cases/{case_id}")
        assert page.locator("form#escalate").count() == 0
        assert page.locator("form#summon, form#major").count() == 0
        assert page.locator("form#request-escalation").count() == 1
        # A village runs its own two rungs, no more.
        assert page.locator("form#start-rung").get_by_label("调解层级").locator("option").all_inner_texts() == [
            "第一级：谁发现谁受理（下一级）", "第二级：村支书调解（跳级，须填写理由）"]
        shot(page, "workbench-case-village")

        # A forged post of the escalate form: refused, and the page says why.
        page.locator("form#request-escalation").get_by_label("提请理由").fill("村里调不动，请上级协调")
        page.evaluate("document.querySelector('form#request-escalation').action = document.querySelector('form#request-escalation').action.replace('request-escalation', 'escalate')")
        submit(page, "request-escalation", "提请白衣镇上报")
        assert page.url.endswith("/steps/escalate")
        refusal = page.locator("#refusal").inner_text()
        assert "只有统筹本案的白衣镇可以上报上级" in refusal and "不得越级上报" in refusal, refusal
        shot(page, "workbench-forged-escalate-village")
        assert case_file(mesh, case_id)["case"]["coordinatorCode"] == FOREIGN_TOWN

        # Asking is the village's way up: recorded on the case for the township to decide.
        page.goto(f"{gateway}/ui/cases/{case_id}")
        page.locator("form#request-escalation").get_by_label("提请理由").fill("村里调不动，请镇里上报县里")
        submit(page, "request-escalation", "提请白衣镇上报")
        assert "已提请统筹中心上报" in page.inner_text("main")
        timeline = page.locator("#timeline").inner_text()
        assert "提请上报" in timeline and "白衣一村（生成） 提请 白衣镇 上报上级" in timeline, timeline
        kinds = [e["kind"] for e in case_file(mesh, case_id)["timeline"]]
        assert "escalation_requested" in kinds and "escalated" not in kinds
    finally:
        context.close()


def test_the_township_summons_and_escalates_and_the_county_hands_back(browser, gateway, mesh: Mesh, people) -> None:
    case_id = open_case(mesh, "宅基地纠纷，多次协商未果", ["孙某", "周某"])
    context, page = sign_in(browser, gateway, people["township"])
    try:
        page.goto(f"{gateway}/ui/cases/{case_id}")
        page.locator("form#summon").get_by_label("白衣派出所").check()
        submit(page, "summon", "吹哨召集")
        summons = page.locator("#summons p.summons").inner_text()
        assert "白衣派出所" in summons and "报到期限" in summons and "反馈期限" in summons and "24:00" in summons, summons
        assert [s["departmentName"] for s in case_file(mesh, case_id)["summons"]] == ["白衣派出所"]
        # Summoned and not yet fed back: it is not offered again.
        assert page.locator("form#summon").count() == 0

        # A refused major-dispute record keeps what was typed.
        form = page.locator("form#major")
        form.get_by_label("参与部门（至少 3 个，用顿号或逗号分隔）").fill("派出所、司法所")
        form.get_by_label("群众代表人数（至少 50）").fill("50")
        submit(page, "major", "登记重大纠纷")
        assert "至少 3 个不同的部门" in page.locator("form#major .error").inner_text()
        assert page.locator("form#major").get_by_label("参与部门（至少 3 个，用顿号或逗号分隔）").input_value() == "派出所、司法所"

        page.goto(f"{gateway}/ui/cases/{case_id}")
        page.locator("form#escalate").get_by_label("上报理由").fill("涉及县直部门，请县综治中心统筹")
        submit(page, "escalate", "上报津市市")
        assert "已上报上级中心统筹" in page.inner_text("main")
        assert case_file(mesh, case_id)["case"]["coordinatorCode"] == "430781000000"
        assert "统筹中心：津市市" in page.locator("#summary").inner_text()
        # Now below the coordinator, the township asks rather than escalates, and cannot hand back.
        assert page.locator("form#escalate, form#hand-back, form#summon").count() == 0
        assert page.locator("form#request-escalation").count() == 1
        shot(page, "workbench-case-escalated-township")
        assert "上报上级中心统筹" in page.locator("#timeline").inner_text()
    finally:
        context.close()


def test_a_sibling_township_finds_no_such_case_nor_its_forms(browser, gateway, mesh: Mesh, people) -> None:
    case_id = open_case(mesh, "邻里噪音纠纷", ["吴某", "郑某"])
    context, page = sign_in(browser, gateway, people["sibling"])
    try:
        response = page.goto(f"{gateway}/ui/cases/{case_id}")
        assert response.status == 404 and "未找到" in page.inner_text("main")
        csrf = page.locator("header form input[name=csrf]").input_value()
        forged = context.request.post(f"{gateway}/ui/cases/{case_id}/steps/start-rung",
                                      form={"csrf": csrf, "rung": "1", "lead": "某人"})
        assert forged.status == 404 and "未找到" in forged.text()
        shot(page, "workbench-case-not-found-sibling")
        assert "rungs" not in case_file(mesh, case_id)
    finally:
        context.close()
