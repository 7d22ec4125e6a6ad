"""The centre's workbench in a real browser, for the office's people (issue 25): the
political-legal officer completes the month's index actions with a note (story 5) and a
department's clerk, signed in as a person of the department, reports and feeds back on the
summons addressed to it (story 3's whistle) and sees nothing else.

Headless Chromium (Debian's `chromium`) through Playwright, against the whole mesh (conftest's
`mesh` fixture, this module's own). Every step is checked on the page and through the API.
Screenshots of each page are written to $PINGAN_ARTIFACTS (default Tests/Interop/artifacts).
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from conftest import _run_psql
from mesh import PASSWORD, TOWN_A, VILLAGE_A, Mesh, _login
from test_dashboard import ARTIFACTS, browser, shot  # noqa: F401 - `browser` is the module's fixture

CHINA = timezone(timedelta(hours=8))


@pytest.fixture(scope="module")
def gateway(mesh: Mesh) -> str:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return mesh.url("gateway")


def sign_in(browser, gateway: str, user: str):  # noqa: F811 - `browser` is the fixture
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.goto(f"{gateway}/ui/login")
    page.get_by_label("用户名").fill(user)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    assert "/ui/login" not in page.url, page.url
    return context, page


def last_month() -> str:
    first = datetime.now(CHINA).date().replace(day=1)
    return (first - timedelta(days=1)).strftime("%Y-%m")


def test_the_political_legal_officer_completes_the_months_actions_with_a_note(browser, gateway, mesh: Mesh) -> None:  # noqa: F811
    month = last_month()
    # The grid of 小渡口一村 was registered before last month began (a fresh mesh has only
    # today's): a village with a grid that screened nothing scores 0 and is summoned.
    _run_psql(mesh.command_env["DATABASE_URL"], "UPDATE grid.grids SET created_at = created_at - interval '70 days'")

    # The city freezes last month from the page (or, if the scheduler froze it already, an
    # administrator recomputes it with a reason).
    context, page = sign_in(browser, gateway, "city-admin")
    try:
        page.goto(f"{gateway}/ui/index?month={month}")
        freeze = page.locator("#freeze")
        assert freeze.count() == 1, page.inner_text("main")
        shot(page, "index-city-freeze")
        if freeze.get_by_label("重新计算的理由").count():
            freeze.get_by_label("重新计算的理由").fill("网格登记日期更正后重新计算")
        freeze.get_by_role("button").click()
        page.wait_for_load_state()
        assert "已重新计算" in page.inner_text("main"), page.inner_text("main")
        assert "已定稿" in page.inner_text("main")
    finally:
        context.close()

    listed = mesh.ok("/pingan.index.v1.IndexService/ListActions", {"centreCode": TOWN_A, "month": month}, as_user="town-a").get("actions", [])
    due = [action for action in listed if action["divisionCode"] == VILLAGE_A and action.get("status") == "ACTION_STATUS_OPEN"]
    assert due, listed

    context, page = sign_in(browser, gateway, "town-a")
    try:
        page.goto(f"{gateway}/ui/index?month={month}")
        action = page.locator(f"#actions article[data-action='{due[0]['id']}']")
        assert "约谈" in action.inner_text() and "待办" in action.inner_text(), action.inner_text()
        # Freezing is the root centre's: the township, below the gateway's centre, is not offered it.
        assert page.locator("#freeze").count() == 0
        shot(page, "index-town-a-actions")

        # A rule the service refuses is shown beside its form, with what was typed kept.
        rule = page.locator("#rule")
        rule.get_by_label("不低于").fill("70")
        rule.get_by_role("button", name="保存调度规则").click()
        page.wait_for_load_state()
        assert "提醒谈话分数线须为 0 至 100 的数，且不高于经验交流分数线。" in page.locator("#rule").inner_text()
        assert page.locator("#rule").get_by_label("不低于").input_value() == "70"
        shot(page, "index-town-a-rule-refused")

        page.goto(f"{gateway}/ui/index?month={month}")
        action = page.locator(f"#actions article[data-action='{due[0]['id']}']")
        action.get_by_label("办理情况").fill("政法委员已约谈村主任，限期十五日整改")
        action.get_by_role("button", name=re.compile("^办结")).click()
        page.wait_for_load_state()
        assert "已办结该行动" in page.inner_text("main")
        done = page.locator(f"#actions article[data-action='{due[0]['id']}']")
        assert "已完成" in done.inner_text() and "政法委员已约谈村主任" in done.inner_text(), done.inner_text()
        assert done.get_by_role("button", name=re.compile("^办结")).count() == 0
        shot(page, "index-town-a-action-done")
    finally:
        context.close()

    after = mesh.ok("/pingan.index.v1.IndexService/ListActions", {"centreCode": TOWN_A, "month": month}, as_user="town-a")["actions"]
    completed = next(action for action in after if action["id"] == due[0]["id"])
    assert completed["status"] == "ACTION_STATUS_DONE" and completed["outcome"] == "政法委员已约谈村主任，限期十五日整改", completed
    assert completed["doneBy"] == "user:town-a", completed


def test_a_department_clerk_answers_its_summons_and_sees_no_other_case(browser, gateway, mesh: Mesh) -> None:  # noqa: F811
    # The police station's key, and a clerk who signs in for it.
    mesh.ok("/pingan.gateway.v1.AdminService/IssueApiKey", {"name": "xdk-police", "centreCode": TOWN_A, "roles": ["department"]}, as_user="town-a")
    mesh.ok("/pingan.gateway.v1.AdminService/CreateUser", {
        "username": "xdk-police-li", "centreCode": TOWN_A, "roles": ["department"], "password": PASSWORD, "departmentKey": "xdk-police",
    }, as_user="town-a")
    mesh.tokens["xdk-police-li"] = _login(mesh, "xdk-police-li")
    # The judicial office is summoned to the seed's case too, and alone to a second case.
    judicial = mesh.ok("/pingan.dispute.v1.DisputeService/RegisterDepartment",
                       {"centreCode": TOWN_A, "name": "小渡口司法所", "apiKeyName": "xdk-judicial"}, as_user="town-a")["department"]["id"]
    mesh.ok("/pingan.dispute.v1.DisputeService/SummonDepartments", {"caseId": mesh.records["case"], "departmentIds": [judicial]}, as_user="town-a")
    other = mesh.ok("/pingan.dispute.v1.DisputeService/IntakeCase", {
        "requestId": str(uuid.uuid4()), "villageCode": VILLAGE_A, "category": "INCIDENT_CATEGORY_LAND",
        "source": "CASE_SOURCE_WALK_IN", "description": "宅基地边界纠纷", "parties": [{"name": "丙"}, {"name": "丁"}],
    }, as_user="town-a")["case"]["id"]
    mesh.ok("/pingan.dispute.v1.DisputeService/SummonDepartments", {"caseId": other, "departmentIds": [judicial]}, as_user="town-a")

    context, page = sign_in(browser, gateway, "xdk-police-li")
    try:
        # A person acting for a department lands on its summons after signing in.
        page.wait_for_url(f"{gateway}/ui/department")
        summons = page.locator("#summons article")
        assert summons.count() == 1, page.inner_text("main")
        mine = page.locator(f"#summons article[data-summons='{mesh.records['summons']}']")
        assert "小渡口派出所" in page.locator("h1").inner_text()
        assert "报到期限" in mine.inner_text() and "24:00" in mine.inner_text(), mine.inner_text()
        assert "小渡口司法所" not in page.inner_text("main") and "宅基地" not in page.inner_text("main")
        shot(page, "department-summons")

        mine.get_by_role("button", name=re.compile("^报到")).click()
        page.wait_for_load_state()
        mine = page.locator(f"#summons article[data-summons='{mesh.records['summons']}']")
        assert "已报到" in page.inner_text("main") and "报到" in mine.inner_text()
        assert mine.get_by_role("button", name=re.compile("^报到")).count() == 0

        # Feedback of blanks is refused beside the summons, in words.
        mine.get_by_label("处理情况").fill("   ")
        mine.get_by_role("button", name=re.compile("^反馈")).click()
        page.wait_for_load_state()
        assert "请填写反馈内容，1 至 4000 字。" in page.locator(f"#summons article[data-summons='{mesh.records['summons']}']").inner_text()
        shot(page, "department-feedback-refused")

        mine = page.locator(f"#summons article[data-summons='{mesh.records['summons']}']")
        mine.get_by_label("处理情况").fill("已派民警上门调解，双方情绪稳定")
        mine.get_by_role("button", name=re.compile("^反馈")).click()
        page.wait_for_load_state()
        mine = page.locator(f"#summons article[data-summons='{mesh.records['summons']}']")
        assert "反馈：已派民警上门调解，双方情绪稳定" in mine.inner_text(), mine.inner_text()
        assert mine.locator("form").count() == 0
        shot(page, "department-fed-back")

        # The case it was summoned to opens; the one it was not reads as not found.
        page.locator(f"#summons article[data-summons='{mesh.records['summons']}'] h3 a").click()
        page.wait_for_url(re.compile(r"/ui/cases/"))
        assert "分手纠纷" in page.inner_text("main"), page.inner_text("main")
        shot(page, "department-case")
        response = page.goto(f"{gateway}/ui/cases/{other}")
        assert response.status == 404 and "未找到" in page.inner_text("main")
        shot(page, "department-other-case-not-found")
    finally:
        context.close()

    # Through the API: the summons is answered by the police station, and the clerk's own
    # listing holds only the case it was summoned to.
    file = mesh.ok("/pingan.dispute.v1.DisputeService/GetCase", {"caseId": mesh.records["case"]}, as_user="town-a")
    police = next(s for s in file["summons"] if s["id"] == mesh.records["summons"])
    assert police["reportedAt"] and police["feedback"] == "已派民警上门调解，双方情绪稳定", police
    listed = mesh.ok("/pingan.dispute.v1.DisputeService/ListCases", {"divisionCode": TOWN_A}, as_user="xdk-police-li").get("cases", [])
    assert [case["id"] for case in listed] == [mesh.records["case"]], listed
    status, _ = mesh.call("/pingan.dispute.v1.DisputeService/GetCase", {"caseId": other}, "xdk-police-li")
    assert status == 404
