"""Stories 1, 2 and 4 of ../shared/scenarios.md played in a real browser (headless Debian
chromium through Playwright) against the whole mesh (conftest's `mesh` fixture, this module's
own), each step done on the page by the person who does it and checked on the page that shows
it and through the API:

1. 临澧县 安福街道: neighbours who keep quarrelling. A grid worker's report on a phone; the
   warning the street and the community see; the street's mediation, eased twice at each rung;
   the police transfer (the 金 brothers beat 李) taken in at the window, joining the case; the
   whistle to three departments, each reporting and feeding back on its own page; the street
   asks the county, the county hands the case back; the agreement and the return visit.
2. 汉寿县 蒋家嘴镇: a break-up and a threat of self-harm. The grid worker's report with the
   self-harm flag; the 重大 warning on the village's and the township's pages, taken through
   its loop; the joint police-judicial mediation, the agreement and the return visit.
4. 石门县 楚江街道: a major dispute handled by the 1350 method: recorded on the case page with
   its departments and resident representatives, the departments summoned and answering, the
   mediation with the representatives, the agreement and the return visit.

Setup that no story person does on these pages (the villages, grids and grid members; the
departments and the accounts of their clerks) is made through the API as an administrator,
as the other browser tests do. Steps the pages cannot do are marked `NOT IN THE BROWSER`.

Screenshots of every page are written to $PINGAN_ARTIFACTS (default Tests/Interop/artifacts).
"""

from __future__ import annotations

import re
import subprocess
import time
from datetime import datetime, timedelta, timezone

import pytest

from conftest import _bin_dir
from mesh import PASSWORD, Mesh, _login
from test_dashboard import ARTIFACTS, browser, shot  # noqa: F401 - `browser` is the module's fixture

CHINA = timezone(timedelta(hours=8))
DISPUTE = "/pingan.dispute.v1.DisputeService"
RISK = "/pingan.risk.v1.RiskService"
GRID = "/pingan.grid.v1.GridService"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}

# Story 1: 安福街道 of 临澧县, with 芭蕉社区 generated under it.
ANFU, LINLI = "430724001000", "430724000000"
BAJIAO, BAJIAO_NAME = "430724001201", "芭蕉社区（生成）"
# Story 2: 蒋家嘴镇 of 汉寿县, with 金架坝村 generated under it.
JIANGJIAZUI = "430722101000"
JINJIABA, JINJIABA_NAME = "430722101201", "金架坝村（生成）"
# Story 4: 楚江街道 of 石门县, with 宝峰社区 generated under it.
CHUJIANG = "430726001000"
BAOFENG, BAOFENG_NAME = "430726001201", "宝峰社区（生成）"

VILLAGES = f"""code,name,level,parent_code
{BAJIAO},{BAJIAO_NAME},village,{ANFU}
{JINJIABA},{JINJIABA_NAME},village,{JIANGJIAZUI}
{BAOFENG},{BAOFENG_NAME},village,{CHUJIANG}
"""


# ----------------------------------------------------------------------------- helpers


def add_user(mesh: Mesh, name: str, centre: str, roles: str) -> None:
    """An account made as an operator makes one, with the gateway's `add-user` command."""
    subprocess.run([str(_bin_dir() / "gateway"), "add-user", name, centre, roles],
                   env={**mesh.env_for("gateway"), "PINGAN_PASSWORD": PASSWORD}, check=True, capture_output=True, timeout=60)
    mesh.tokens[name] = _login(mesh, name)


def wait_for(what: str, probe, timeout: float = 30.0):
    """Polls `probe` (asynchronous work: an event turned into a case, a score into a warning)
    until it answers something truthy, for at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)


def sign_in(browser, gateway: str, user: str, **options):  # noqa: F811 - `browser` is the fixture
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **options)
    page = context.new_page()
    page.goto(f"{gateway}/ui/login")
    page.get_by_label("用户名").fill(user)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    assert "/ui/login" not in page.url, page.url
    return context, page


def submit(page, form: str, button: str) -> None:
    page.locator(f"form#{form}").get_by_role("button", name=button).click()
    page.wait_for_load_state()


def start_rung(page, lead: str, participants: str, bodies: str, rung: str | None = None, kind: str | None = None,
               skip_reason: str = "") -> None:
    form = page.locator("form#start-rung")
    if rung:
        form.get_by_label("调解层级").select_option(rung)
    if kind:
        form.get_by_label("调解类型（4+N）").select_option(label=kind)
    form.get_by_label("牵头人").fill(lead)
    form.get_by_label("参与人员（用顿号或逗号分隔）").fill(participants)
    form.get_by_label("参与单位：站所、部门（用顿号或逗号分隔）").fill(bodies)
    if skip_reason:
        form.get_by_label("跳级理由（跳过下一级时必填）").fill(skip_reason)
    submit(page, "start-rung", "开始调解")
    assert "已开始调解" in page.inner_text("main"), page.inner_text("main")


def end_rung(page, outcome: str, note: str, terms: str = "", signatories: str = "") -> None:
    form = page.locator("form#end-rung")
    form.get_by_label(outcome, exact=True).check()
    form.get_by_label("情况说明").fill(note)
    if terms:
        form.get_by_label("协议内容").fill(terms)
        form.get_by_label("签字人（用顿号或逗号分隔）").fill(signatories)
    submit(page, "end-rung", "登记结果")
    assert "已登记本级调解结果" in page.inner_text("main"), page.inner_text("main")


def return_visit(page, note: str) -> None:
    form = page.locator("form#return-visit")
    form.get_by_label("协议履行，纠纷已化解", exact=True).check()
    form.get_by_label("回访情况").fill(note)
    submit(page, "return-visit", "登记回访")
    assert "已回访结案" in page.locator("#summary").inner_text()


def warning_card(page, warning_id: str):
    return page.locator(f"article.warning[data-warning='{warning_id}']")


def warning_step(page, warning_id: str, button: str, label: str = "", text: str = "") -> None:
    """One step of the warning loop on the today page: the card's form, then the page again."""
    card = warning_card(page, warning_id)
    if label:
        card.get_by_label(label, exact=True).fill(text)
    card.get_by_role("button", name=re.compile(f"^{button}")).click()
    page.wait_for_load_state()


def get_case(mesh: Mesh, case_id: str, user: str) -> dict:
    return mesh.ok(f"{DISPUTE}/GetCase", {"caseId": case_id}, as_user=user)


def get_warning(mesh: Mesh, warning_id: str, user: str) -> dict:
    return mesh.ok(f"{RISK}/GetWarning", {"warningId": warning_id}, as_user=user)["warning"]


def case_of_incident(mesh: Mesh, centre: str, incident: str, user: str) -> dict:
    def probe():
        listed = mesh.ok(f"{DISPUTE}/ListCases", {"divisionCode": centre}, as_user=user).get("cases", [])
        return next((c for c in listed if c.get("incidentId") == incident), None)
    return wait_for(f"the case of incident {incident}", probe)


def warning_of_case(mesh: Mesh, centre: str, case_id: str, user: str) -> dict:
    def probe():
        listed = mesh.ok(f"{RISK}/ListWarnings", {"centreCode": centre}, as_user=user).get("warnings", [])
        return next((w for w in listed if w["caseId"] == case_id), None)
    return wait_for(f"a warning about case {case_id}", probe)


def grid_with_worker(mesh: Mesh, village: str, worker: str) -> tuple[str, str]:
    """A grid of `village` and its grid worker, as the centre's administrator sets them up."""
    grid = mesh.ok(f"{GRID}/CreateGrid", {"villageCode": village, "name": "第一网格"})["grid"]["id"]
    member = mesh.ok(f"{GRID}/AddGridMember", {"gridId": grid, "name": worker, "role": "GRID_ROLE_GRID_WORKER"})["member"]["id"]
    return grid, member


def department_with_clerk(mesh: Mesh, centre: str, name: str, key: str, clerk: str) -> str:
    """A department registered at `centre`, its API key and a clerk who signs in for it."""
    department = mesh.ok(f"{DISPUTE}/RegisterDepartment", {"centreCode": centre, "name": name, "apiKeyName": key})["department"]["id"]
    mesh.ok("/pingan.gateway.v1.AdminService/IssueApiKey", {"name": key, "centreCode": centre, "roles": ["department"]})
    mesh.ok("/pingan.gateway.v1.AdminService/CreateUser", {
        "username": clerk, "centreCode": centre, "roles": ["department"], "password": PASSWORD, "departmentKey": key,
    })
    mesh.tokens[clerk] = _login(mesh, clerk)
    return department


def grid_report(page, gateway: str, grid: str, member: str, category: str, description: str,
                parties: list[str], flags: list[str]) -> str:
    """The grid worker's report from the phone; returns the incident number on the receipt."""
    page.goto(f"{gateway}/ui/grid?grid={grid}&member={member}")
    page.get_by_label("纠纷类别").select_option(label=category)
    page.get_by_label("事情经过").fill(description)
    for number, name in enumerate(parties, start=1):
        page.get_by_label(f"当事人 {number} 姓名").fill(name)
    for flag in flags:
        page.get_by_label(flag).check()
    page.get_by_role("button", name="提交上报").click()
    page.wait_for_load_state()
    receipt = page.locator("#receipt").inner_text()
    assert "上报成功" in receipt and description in receipt, receipt
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    return page.locator("#receipt code.id").inner_text()


def department_answers(browser, gateway: str, clerk: str, feedback: str, artifact: str) -> None:  # noqa: F811
    """A department's clerk reports (报到) and feeds back (反馈) on the one summons on its page."""
    context, page = sign_in(browser, gateway, clerk)
    try:
        page.wait_for_url(f"{gateway}/ui/department")
        summons = page.locator("#summons article")
        assert summons.count() == 1, page.inner_text("main")
        summons.get_by_role("button", name=re.compile("^报到")).click()
        page.wait_for_load_state()
        assert "已于" in page.locator("#summons article dl").inner_text()
        page.locator("#summons article").get_by_label("处理情况").fill(feedback)
        page.locator("#summons article").get_by_role("button", name=re.compile("^反馈")).click()
        page.wait_for_load_state()
        assert f"反馈：{feedback}" in page.locator("#summons article").inner_text()
        shot(page, artifact)
    finally:
        context.close()


@pytest.fixture(scope="module")
def gateway(mesh: Mesh) -> str:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    mesh.ok("/pingan.grid.v1.DivisionService/ImportDivisions", {"csv": VILLAGES})
    return mesh.url("gateway")


# --------------------------------------------------------------------------- story 1


def test_story_1_neighbours_who_keep_quarrelling(browser, gateway, mesh: Mesh) -> None:  # noqa: F811
    grid, member = grid_with_worker(mesh, BAJIAO, "周晓梅")
    add_user(mesh, "s1-grid", BAJIAO, "grid_worker")
    add_user(mesh, "s1-street", ANFU, "staff,mediator,leader")
    add_user(mesh, "s1-community", BAJIAO, "staff,mediator")
    add_user(mesh, "s1-county", LINLI, "staff,mediator,leader")
    departments = [("安福派出所", "anfu-police", "s1-police"), ("安福司法所", "anfu-judicial", "s1-judicial"),
                   ("临澧县心理咨询中心", "linli-counselling", "s1-counselling")]
    for name, key, clerk in departments:
        department_with_clerk(mesh, ANFU, name, key, clerk)

    # 1. The grid worker reports from a phone: neighbour, repeated, no threat of violence yet.
    context, page = sign_in(browser, gateway, "s1-grid", **PHONE)
    try:
        incident = grid_report(page, gateway, grid, member, "邻里", "金家与李家因门前排水沟又一次争吵，邻居劝开，尚无暴力威胁。",
                               ["金大明", "李小红"], ["反复发生（不是第一次）"])
        shot(page, "story1-grid-report-phone")
    finally:
        context.close()
    case = case_of_incident(mesh, ANFU, incident, "s1-street")
    case_id = case["id"]
    assert case["category"] == "INCIDENT_CATEGORY_NEIGHBOUR" and case.get("repeatIncident") and not case.get("threatOfViolence"), case

    # 2. High risk: a warning to the street centre (score 60, 较大); the community sees it too and acts.
    warning = warning_of_case(mesh, ANFU, case_id, "s1-street")
    assert warning["centreCode"] == ANFU and warning["level"] == "RISK_LEVEL_SERIOUS" and warning["score"] >= 60, warning
    context, page = sign_in(browser, gateway, "s1-street")
    try:
        card = warning_card(page, warning["id"])
        assert BAJIAO_NAME in card.inner_text() and "较大风险" in card.inner_text() and "待签收" in card.inner_text(), card.inner_text()
        shot(page, "story1-today-street-warned")
    finally:
        context.close()
    context, page = sign_in(browser, gateway, "s1-community")
    try:
        assert page.locator("h1").inner_text().startswith(BAJIAO_NAME)
        warning_step(page, warning["id"], "签收")
        warning_step(page, warning["id"], "指派处置", "处置人（姓名或岗位）", "芭蕉社区书记 上门劝导")
        assert "处置中" in warning_card(page, warning["id"]).inner_text()
        shot(page, "story1-today-community-assigned")
    finally:
        context.close()
    answer = get_warning(mesh, warning["id"], "s1-street")
    assert answer["status"] == "WARNING_STATUS_HANDLING" and answer["assignee"] == "芭蕉社区书记 上门劝导", answer

    # 3. The street mediates several times with its stations, offices and community cadres: tension eases.
    context, page = sign_in(browser, gateway, "s1-street")
    try:
        page.goto(f"{gateway}/ui/cases/{case_id}")
        for note in ("双方同意不再在门口争吵", "排水沟问题未解决，但情绪缓和"):
            start_rung(page, "芭蕉社区网格员 周晓梅", "金大明、李小红", "芭蕉社区居委会")
            end_rung(page, "矛盾缓和，未达成协议", note)
        assert "第二级：村支书调解（下一级）" in page.locator("form#start-rung").get_by_label("调解层级").inner_text()
        start_rung(page, "芭蕉社区书记", "金大明、李小红", "安福街道司法所、安福街道城管站")
        end_rung(page, "矛盾缓和，未达成协议", "司法所讲解相邻关系法律规定，双方暂时和解")
        assert "办理中" in page.locator("#summary").inner_text()
        shot(page, "story1-case-street-eased")
    finally:
        context.close()
    rungs = get_case(mesh, case_id, "s1-street")["rungs"]
    assert [(r["rung"], r["outcome"]) for r in rungs] == [("RUNG_FINDER", "RUNG_OUTCOME_EASED")] * 2 + [
        ("RUNG_VILLAGE_SECRETARY", "RUNG_OUTCOME_EASED")], rungs
    assert rungs[2]["bodies"] == ["安福街道司法所", "安福街道城管站"], rungs[2]

    # 4. Months later the 金 brothers beat 李: the police transfer, taken in at the street's window,
    # names the same parties and joins the case; the risk is scored again and the warning escalates.
    context, page = sign_in(browser, gateway, "s1-street")
    try:
        page.get_by_role("link", name="一站式接待").click()
        page.wait_for_url(re.compile(r"/ui/intake$"))
        form = page.locator("form#intake")
        form.get_by_label("村（社区）").select_option(label=BAJIAO_NAME)
        form.get_by_label("来源").select_option(label="公安移交")
        form.get_by_label("纠纷类别").select_option(label="邻里")
        form.get_by_label("纠纷情况").fill("金大明、金二明兄弟因排水沟纠纷殴打李小红，李小红报警，派出所移交")
        form.get_by_label("当事人 1 姓名").fill("金大明")
        form.get_by_label("当事人 2 姓名").fill("金二明")
        form.get_by_label("当事人 3 姓名").fill("李小红")
        form.get_by_label("已发生暴力").check()
        form.get_by_label("多次发生").check()
        form.get_by_label("此前报警次数").fill("1")
        shot(page, "story1-intake-police-transfer")
        submit(page, "intake", "受理")
        page.wait_for_url(re.compile(rf"/ui/cases/{case_id}\?done=joined"))
        assert "本次接待已并入该案件" in page.inner_text("main")
        assert "已发生暴力" in page.locator("#summary").inner_text()
        reports = page.locator("#reports ol > li")
        assert reports.count() == 2, page.locator("#reports").inner_text()
        assert "公安移交" in reports.first.inner_text() and "网格上报" in reports.nth(1).inner_text()
        shot(page, "story1-case-joined")
    finally:
        context.close()
    file = get_case(mesh, case_id, "s1-street")["case"]
    assert file["violenceOccurred"] and file["incidents"] == 2 and file["latestSource"] == "CASE_SOURCE_POLICE_TRANSFER", file
    listed = mesh.ok(f"{DISPUTE}/ListCases", {"divisionCode": BAJIAO}, as_user="s1-street")["cases"]
    assert [c["id"] for c in listed] == [case_id], listed
    escalated = wait_for("the warning regrouped at 重大", lambda: (
        lambda w: w if w["level"] == "RISK_LEVEL_MAJOR" and w["count"] >= 2 else None)(get_warning(mesh, warning["id"], "s1-street")))
    assert escalated["score"] > warning["score"], escalated

    # 5. The street blows the whistle and asks the county for support.
    context, page = sign_in(browser, gateway, "s1-street")
    try:
        card = warning_card(page, warning["id"])
        assert "重大风险" in card.inner_text() and "已预警 2 次" in card.inner_text(), card.inner_text()
        shot(page, "story1-today-street-escalated-warning")
        page.goto(f"{gateway}/ui/cases/{case_id}")
        for name, _, _ in departments:
            page.locator("form#summon").get_by_label(name).check()
        submit(page, "summon", "吹哨召集")
        summons = page.locator("#summons p.summons")
        assert summons.count() == 3 and all("报到期限" in t and "反馈期限" in t for t in summons.all_inner_texts())
        page.locator("form#escalate").get_by_label("上报理由").fill("已发生殴打，需县级统筹公安、司法和心理服务资源")
        submit(page, "escalate", "上报临澧县")
        assert "已上报上级中心统筹" in page.inner_text("main")
        assert "统筹中心：临澧县" in page.locator("#summary").inner_text()
        shot(page, "story1-case-street-escalated")
    finally:
        context.close()
    file = get_case(mesh, case_id, "s1-street")
    assert file["case"]["coordinatorCode"] == LINLI
    assert sorted(s["departmentName"] for s in file["summons"]) == sorted(d[0] for d in departments)

    # Each department reports and feeds back on its own page.
    for (name, _, clerk), feedback in zip(departments, ["民警已对金氏兄弟训诫并调查取证", "司法所已出具调解意见书",
                                                        "心理咨询师已上门为李小红做心理疏导"]):
        department_answers(browser, gateway, clerk, feedback, f"story1-department-{clerk}")
    answered = get_case(mesh, case_id, "s1-street")["summons"]
    assert all(s.get("reportedAt") and s.get("fedBackAt") for s in answered), answered

    # The county coordinates and hands the case back.
    context, page = sign_in(browser, gateway, "s1-county")
    try:
        page.locator(f"#cases a[href='/ui/cases/{case_id}']").click()
        page.wait_for_url(re.compile(r"/ui/cases/"))
        assert "统筹中心：临澧县" in page.locator("#summary").inner_text()
        assert all("已反馈" in t for t in page.locator("#summons p.summons").all_inner_texts())
        page.locator("form#hand-back").get_by_label("交回说明").fill("县里已协调派出所、司法所和心理咨询中心，交回安福街道继续调解")
        submit(page, "hand-back", "交回下级中心")
        assert "已交回下级中心" in page.inner_text("main")
        assert "统筹中心：安福街道" in page.locator("#summary").inner_text()
        shot(page, "story1-case-county-handed-back")
    finally:
        context.close()
    assert get_case(mesh, case_id, "s1-street")["case"]["coordinatorCode"] == ANFU

    # 6. Months of coordination and home visits: the reconciliation agreement, then the return visit.
    context, page = sign_in(browser, gateway, "s1-street")
    try:
        page.goto(f"{gateway}/ui/cases/{case_id}")
        start_rung(page, "芭蕉社区书记", "金大明、金二明、李小红", "安福派出所、安福司法所")
        end_rung(page, "矛盾缓和，未达成协议", "入户走访，金家同意赔偿医药费，细节待商")
        assert "第三级：包村干部调解（下一级）" in page.locator("form#start-rung").get_by_label("调解层级").inner_text()
        start_rung(page, "安福街道包村干部", "金大明、金二明、李小红", "安福派出所、安福司法所、临澧县心理咨询中心")
        end_rung(page, "调解成功，达成协议", "多次上门协调后双方和解", terms="金家赔偿李小红医药费并修通排水沟，双方和好",
                 signatories="金大明、金二明、李小红")
        assert "金家赔偿李小红医药费" in page.locator("#agreement").inner_text()
        assert "回访期限" in page.locator("#agreement").inner_text()
        shot(page, "story1-case-agreement")
        return_visit(page, "排水沟已修通，两家往来正常")
        timeline = page.locator("#timeline").inner_text()
        for words in ("上报上级中心", "交回", "签订调解协议", "协议履行，纠纷已化解"):
            assert words in timeline, (words, timeline)
        shot(page, "story1-case-closed")
    finally:
        context.close()
    file = get_case(mesh, case_id, "s1-street")
    assert file["case"]["status"] == "CASE_STATUS_CLOSED", file["case"]
    assert file["agreement"]["signatories"] == ["金大明", "金二明", "李小红"]
    assert file["returnVisit"]["outcome"] == "RETURN_VISIT_OUTCOME_CONFIRMED", file["returnVisit"]


# --------------------------------------------------------------------------- story 2


def test_story_2_a_break_up_and_a_threat_of_self_harm(browser, gateway, mesh: Mesh) -> None:  # noqa: F811
    grid, member = grid_with_worker(mesh, JINJIABA, "陈网格")
    add_user(mesh, "s2-grid", JINJIABA, "grid_worker")
    add_user(mesh, "s2-village", JINJIABA, "staff,mediator")
    add_user(mesh, "s2-township", JIANGJIAZUI, "staff,mediator,leader")

    # 1. On a door-to-door screening visit the grid worker learns of the break-up and the threat.
    context, page = sign_in(browser, gateway, "s2-grid", **PHONE)
    try:
        incident = grid_report(page, gateway, grid, member, "婚恋家庭", "黄某某与女友刘某某分手后因恋爱期间财物发生纠纷，刘某某称要轻生。",
                               ["黄某某", "刘某某"], ["有人扬言自伤、轻生"])
        shot(page, "story2-grid-report-phone")
        page.get_by_role("link", name="今日排查", exact=True).click()
        page.wait_for_url(f"{gateway}/ui/grid/screening")
        page.get_by_label("今日走访户数").fill("15")
        page.get_by_label("发现矛盾纠纷（起）").fill("1")
        page.get_by_role("button", name="按发现的起数提交").click()
        page.wait_for_load_state()
        assert "走访 15 户" in page.get_by_role("status").inner_text(), page.inner_text("main")
        shot(page, "story2-grid-screening-phone")
    finally:
        context.close()
    month = datetime.now(CHINA).strftime("%Y-%m")
    facts = mesh.ok(f"{GRID}/ScreeningFacts", {"rootCode": JIANGJIAZUI, "month": month}, as_user="s2-township")["facts"]
    village = next(f for f in facts if f["villageCode"] == JINJIABA)
    assert village["householdsVisited"] == 15, village

    case = case_of_incident(mesh, JIANGJIAZUI, incident, "s2-township")
    case_id = case["id"]
    assert case["category"] == "INCIDENT_CATEGORY_MARRIAGE_FAMILY" and case["threatOfSelfHarm"], case

    # 2. Urgent on its own: a 重大 warning, seen by the village and the township at once.
    warning = warning_of_case(mesh, JIANGJIAZUI, case_id, "s2-township")
    assert warning["level"] == "RISK_LEVEL_MAJOR" and warning["centreCode"] == JIANGJIAZUI, warning
    context, page = sign_in(browser, gateway, "s2-township")
    try:
        card = warning_card(page, warning["id"])
        assert "重大风险" in card.inner_text() and JINJIABA_NAME in card.inner_text() and "待签收" in card.inner_text(), card.inner_text()
        shot(page, "story2-today-township-warned")
    finally:
        context.close()
    context, page = sign_in(browser, gateway, "s2-village")
    try:
        card = warning_card(page, warning["id"])
        assert "重大风险" in card.inner_text(), card.inner_text()
        # The village steps in first: it signs for the warning.
        warning_step(page, warning["id"], "签收")
        assert "已签收" in warning_card(page, warning["id"]).inner_text()
        shot(page, "story2-today-village-acknowledged")
    finally:
        context.close()
    assert get_warning(mesh, warning["id"], "s2-township")["status"] == "WARNING_STATUS_ACKNOWLEDGED"

    # 3. The township assigns someone to look after 刘, and starts the joint police-judicial mediation.
    context, page = sign_in(browser, gateway, "s2-township")
    try:
        warning_step(page, warning["id"], "指派处置", "处置人（姓名或岗位）", "金架坝村妇联主席 专人看护刘某某")
        assert "处置中" in warning_card(page, warning["id"]).inner_text()
        warning_card(page, warning["id"]).get_by_role("link").click()
        page.wait_for_url(re.compile(r"/ui/cases/"))
        assert "有自伤风险" in page.locator("#summary").inner_text()
        start_rung(page, "蒋家嘴镇政法委员", "黄某某、刘某某", "蒋家嘴派出所、蒋家嘴司法所", rung="4", kind="司法调解",
                   skip_reason="有轻生言行，情况紧急，由政法委员牵头警司联调")
        row = page.locator("#rungs tbody tr").last.inner_text()
        assert "第四级" in row and "蒋家嘴派出所、蒋家嘴司法所" in row and "进行中" in row, row
        shot(page, "story2-case-joint-mediation")

        # 4. The settlement agreement.
        end_rung(page, "调解成功，达成协议", "警司联调后双方就财物返还达成一致，刘某某情绪稳定",
                 terms="黄某某分两期返还刘某某恋爱期间借款两万元，双方互不纠缠", signatories="黄某某、刘某某")
        assert "已调解，待回访" in page.locator("#summary").inner_text()
    finally:
        context.close()
    file = get_case(mesh, case_id, "s2-township")
    attempt = file["rungs"][-1]
    assert attempt["rung"] == "RUNG_POLITICAL_LEGAL" and attempt["kind"] == "MEDIATION_KIND_JUDICIAL", attempt
    assert attempt["bodies"] == ["蒋家嘴派出所", "蒋家嘴司法所"] and attempt["lead"] == "蒋家嘴镇政法委员", attempt
    assert any("由政法委员牵头警司联调" in e.get("note", "") for e in file["timeline"]), file["timeline"]
    assert file["case"]["status"] == "CASE_STATUS_SETTLED" and file["agreement"]["signatories"] == ["黄某某", "刘某某"]
    assert get_warning(mesh, warning["id"], "s2-township")["assignee"] == "金架坝村妇联主席 专人看护刘某某"

    # The warning's loop: the village feeds back, the township evaluates and closes.
    context, page = sign_in(browser, gateway, "s2-village")
    try:
        warning_step(page, warning["id"], "反馈处置情况", "处置情况", "妇联主席每日探望，刘某某情绪稳定，已达成协议")
        assert "已反馈" in warning_card(page, warning["id"]).inner_text()
        # Evaluating and closing are the owning township's: not offered to the village.
        assert warning_card(page, warning["id"]).get_by_role("button", name=re.compile("^跟踪问效")).count() == 0
    finally:
        context.close()
    context, page = sign_in(browser, gateway, "s2-township")
    try:
        warning_step(page, warning["id"], "跟踪问效", "问效结论", "一周后回访，刘某某已恢复正常生活")
        assert "已问效" in warning_card(page, warning["id"]).inner_text()
        warning_step(page, warning["id"], "关闭预警", "处置结果", "协议履行中，轻生风险解除")
        assert warning_card(page, warning["id"]).count() == 0
        shot(page, "story2-today-township-closed")

        # The return visit.
        page.goto(f"{gateway}/ui/cases/{case_id}")
        return_visit(page, "黄某某已按期返还第一期款项，刘某某情绪稳定")
        shot(page, "story2-case-closed")
    finally:
        context.close()
    answer = get_warning(mesh, warning["id"], "s2-township")
    assert answer["status"] == "WARNING_STATUS_CLOSED" and answer["outcome"] == "协议履行中，轻生风险解除", answer
    assert get_case(mesh, case_id, "s2-township")["case"]["status"] == "CASE_STATUS_CLOSED"


# --------------------------------------------------------------------------- story 4


def test_story_4_a_major_dispute_by_the_1350_method(browser, gateway, mesh: Mesh) -> None:  # noqa: F811
    add_user(mesh, "s4-street", CHUJIANG, "staff,mediator,leader")
    departments = [("楚江派出所", "chujiang-police", "s4-police"), ("楚江司法所", "chujiang-judicial", "s4-judicial"),
                   ("楚江街道征拆办", "chujiang-demolition", "s4-demolition")]
    for name, key, clerk in departments:
        department_with_clerk(mesh, CHUJIANG, name, key, clerk)
    major_departments = ["楚江派出所", "楚江司法所", "楚江街道征拆办", "石门县住建局"]

    context, page = sign_in(browser, gateway, "s4-street")
    try:
        # The dispute comes to the street's window.
        page.get_by_role("link", name="一站式接待").click()
        page.wait_for_url(re.compile(r"/ui/intake$"))
        form = page.locator("form#intake")
        form.get_by_label("村（社区）").select_option(label=BAOFENG_NAME)
        form.get_by_label("来源").select_option(label="来访")
        form.get_by_label("纠纷类别").select_option(label="征拆补偿")
        form.get_by_label("纠纷情况").fill("宝峰社区棚改项目六十余户对征收补偿标准有异议，集体来访")
        for number, name in enumerate(["覃某甲", "覃某乙", "向某丙", "向某丁", "唐某戊", "唐某己"], start=1):
            form.get_by_label(f"当事人 {number} 姓名").fill(name)
        submit(page, "intake", "受理")
        page.wait_for_url(re.compile(r"/ui/cases/[0-9a-f-]+\?done=intake"))
        case_id = re.search(r"/ui/cases/([0-9a-f-]+)", page.url).group(1)

        # Marked 1350: one major dispute, its departments, fifty resident representatives.
        form = page.locator("form#major")
        form.get_by_label("参与部门（至少 3 个，用顿号或逗号分隔）").fill("、".join(major_departments))
        form.get_by_label("群众代表人数（至少 50）").fill("50")
        submit(page, "major", "登记重大纠纷")
        assert "已按重大纠纷（1350工作法）登记" in page.inner_text("main")
        major = page.locator("#summary p.major").inner_text()
        assert "、".join(major_departments) in major and "群众代表 50 名" in major, major

        # The departments summoned.
        for name, _, _ in departments:
            page.locator("form#summon").get_by_label(name).check()
        submit(page, "summon", "吹哨召集")
        assert page.locator("#summons p.summons").count() == 3
        shot(page, "story4-case-major-summoned")
        page.goto(f"{gateway}/ui/")
        due = page.locator("#due").inner_text()
        assert all(f"{name} 报到" in due for name, _, _ in departments), due
        shot(page, "story4-today-street-due")
    finally:
        context.close()
    file = get_case(mesh, case_id, "s4-street")
    assert file["case"]["major"] and file["case"]["majorDepartments"] == major_departments, file["case"]
    assert file["case"]["residentRepresentatives"] == 50
    assert sorted(s["departmentName"] for s in file["summons"]) == sorted(d[0] for d in departments)

    # Each department reports and feeds back.
    for (_, _, clerk), feedback in zip(departments, ["已派民警维持现场秩序", "已解读征收补偿法律政策", "已复核补偿测算表"]):
        department_answers(browser, gateway, clerk, feedback, f"story4-department-{clerk}")

    # The mediation where the residents' representatives speak and judge, then the agreement and the return visit.
    context, page = sign_in(browser, gateway, "s4-street")
    try:
        page.goto(f"{gateway}/ui/cases/{case_id}")
        assert all("已反馈" in t for t in page.locator("#summons p.summons").all_inner_texts())
        start_rung(page, "楚江街道党工委书记", "覃某甲、向某丙、唐某戊、群众代表50名", "、".join(major_departments), rung="5",
                   kind="行政调解", skip_reason="重大纠纷，按1350工作法由街道主要领导牵头、部门和群众代表参与")
        end_rung(page, "调解成功，达成协议", "五十名群众代表参与评议，群众的事群众说，群众的理群众评",
                 terms="按复核后的标准补偿，三十日内兑付", signatories="覃某甲、向某丙、唐某戊")
        return_visit(page, "补偿款已兑付，住户满意")
        assert "按重大纠纷（1350工作法）办理" in page.locator("#summary").inner_text()
        shot(page, "story4-case-closed")
    finally:
        context.close()
    file = get_case(mesh, case_id, "s4-street")
    assert file["case"]["status"] == "CASE_STATUS_CLOSED" and file["rungs"][-1]["rung"] == "RUNG_TOWNSHIP_LEADERS", file["rungs"]
    assert all(s.get("fedBackAt") for s in file["summons"]), file["summons"]
