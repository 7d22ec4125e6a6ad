"""Story 1's grid worker on a phone, in a real browser against the whole mesh (conftest's
`mesh` fixture): headless Chromium (Debian's `chromium`) through Playwright at 390×844.

In 芭蕉社区 of 安福街道 (临澧县) a grid worker reports that the 金 and 李 families have
quarrelled again (neighbour, repeated, no threat of violence yet), is refused first for
naming no one and keeps what was typed, sees the receipt, records the day's screening with
nothing found; the street centre's mediator finds the case the report became, and the API
agrees with each page. Screenshots of every page go to $PINGAN_ARTIFACTS (default
Tests/Interop/artifacts); the README shows the phone report.

Who reports: a grid member is a record of grid-service and has no link to a gateway account,
so the centre's administrator gives the worker a link with their grid and member number
(`/ui/grid?grid=…&member=…`); the phone remembers both once a report is taken.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import _bin_dir
from mesh import PASSWORD, Mesh, _login

CHINA = timezone(timedelta(hours=8))
ARTIFACTS = Path(os.environ.get("PINGAN_ARTIFACTS", Path(__file__).parent / "artifacts"))
STREET = "430724001000"  # 安福街道, 临澧县
COMMUNITY = "430724001201"  # 芭蕉社区, generated under it
COMMUNITY_NAME = "芭蕉社区（生成）"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESCRIPTION = "金家与李家因宅基地边界多次争吵，今天又在门口吵起来，邻居劝开。"


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("Debian's chromium is not installed (deploy/scripts/test.sh installs it)")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
        launched = playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        yield launched
        launched.close()


def add_user(mesh: Mesh, name: str, centre: str, roles: str) -> None:
    """An account made as an operator makes one, with the gateway's `add-user` command."""
    subprocess.run([str(_bin_dir() / "gateway"), "add-user", name, centre, roles],
                   env={**mesh.env_for("gateway"), "PINGAN_PASSWORD": PASSWORD}, check=True, capture_output=True, timeout=60)
    mesh.tokens[name] = _login(mesh, name)


@pytest.fixture(scope="module")
def story(mesh: Mesh) -> dict[str, str]:
    """芭蕉社区 with a grid and its grid worker, set up by the city's administrator through the
    API; the worker's account (grid_worker only) and the street's mediator."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    mesh.ok("/pingan.grid.v1.DivisionService/ImportDivisions",
            {"csv": f"code,name,level,parent_code\n{COMMUNITY},{COMMUNITY_NAME},village,{STREET}\n"})
    grid = mesh.ok("/pingan.grid.v1.GridService/CreateGrid", {"villageCode": COMMUNITY, "name": "第一网格"})["grid"]["id"]
    member = mesh.ok("/pingan.grid.v1.GridService/AddGridMember",
                     {"gridId": grid, "name": "周晓梅", "role": "GRID_ROLE_GRID_WORKER"})["member"]["id"]
    add_user(mesh, "bajiao-grid", COMMUNITY, "grid_worker")
    add_user(mesh, "anfu-mediator", STREET, "staff,mediator")
    return {"grid": grid, "member": member}


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(browser, gateway: str, user: str, lands_on: str, **options):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **options)
    page = context.new_page()
    page.goto(f"{gateway}/ui/login")
    page.get_by_label("用户名").fill(user)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{gateway}{lands_on}")
    return context, page


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_grid_worker_reports_from_a_phone_and_records_nothing_found(browser, mesh: Mesh, story) -> None:
    gateway = mesh.url("gateway")
    # A grid worker's home is the grid pages: the day's work of a centre is not theirs.
    context, page = sign_in(browser, gateway, "bajiao-grid", "/ui/grid", **PHONE)
    try:
        assert fits_the_phone(page)
        assert page.get_by_role("link", name="网格上报").is_visible()
        # The link the administrator gives fills in the grid and the member number.
        page.goto(f"{gateway}/ui/grid?grid={story['grid']}&member={story['member']}")
        assert page.get_by_label("网格", exact=True).input_value() == story["grid"]
        assert COMMUNITY_NAME in page.get_by_label("网格", exact=True).inner_text()
        assert page.get_by_label("我的成员编号").input_value() == story["member"]

        # Named no one: the service refuses, the page says why, and what was typed is still there.
        page.get_by_label("纠纷类别").select_option(label="邻里")
        page.get_by_label("事情经过").fill(DESCRIPTION)
        page.get_by_label("反复发生（不是第一次）").check()
        with page.expect_navigation() as refused:
            page.get_by_role("button", name="提交上报").click()
        assert refused.value.status == 400
        assert page.get_by_role("alert").inner_text() == "请至少填写一位当事人的姓名。"
        assert page.get_by_label("事情经过").input_value() == DESCRIPTION
        assert page.get_by_label("反复发生（不是第一次）").is_checked()
        assert page.get_by_label("纠纷类别").input_value() == "2"
        assert fits_the_phone(page)
        shot(page, "grid-report-refused-phone")

        # The two families; one phone number; then the report.
        page.get_by_label("当事人 1 姓名").fill("金大明")
        page.get_by_label("当事人 1 电话（可不填）").fill("13800000001")
        page.get_by_label("当事人 2 姓名").fill("李小红")
        request_id = page.locator("input[name=request_id]").input_value()
        shot(page, "grid-report-phone")
        form = page.locator("form[action='/ui/grid/report']")
        fields = {name: form.locator(f"[name={name}]").input_value() for name in
                  ["csrf", "request_id", "grid", "member", "category", "description", "party1_name", "party1_phone", "party2_name"]}
        page.get_by_role("button", name="提交上报").click()
        page.wait_for_load_state()
        receipt = page.locator("#receipt").inner_text()
        assert "上报成功" in receipt and "邻里纠纷" in receipt and "2 人" in receipt and "反复发生" in receipt, receipt
        assert COMMUNITY_NAME in receipt and DESCRIPTION in receipt
        incident = page.locator("#receipt code.id").inner_text()
        assert re.fullmatch(r"[0-9a-f-]{36}", incident), incident
        # A grid worker may not read cases: the page says so instead of a link that would be refused.
        assert "网格员账号不能查看案件" in page.locator("#next").inner_text()
        assert fits_the_phone(page)
        shot(page, "grid-report-receipt-phone")

        # The same form sent again (a double tap, a retry) reports once: the same number back.
        again = page.request.post(f"{gateway}/ui/grid/report", form={**fields, "repeat_incident": "on"})
        assert again.ok and f'<code class="id">{incident}</code>' in again.text()
        assert fields["request_id"] == request_id

        # Today's screening: the grid is remembered now, folded into one line; nothing found is one tap.
        page.get_by_role("link", name="今日排查", exact=True).click()
        page.wait_for_url(f"{gateway}/ui/grid/screening")
        assert page.locator("details.identity").get_attribute("open") is None
        assert "第一网格" in page.locator("details.identity summary").inner_text()
        # By keyboard alone: the count, then Tab to "nothing found" and Enter.
        page.get_by_label("今日走访户数").focus()
        page.keyboard.type("23")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "未发现矛盾纠纷，提交"
        with page.expect_navigation():
            page.keyboard.press("Enter")
        today = datetime.now(CHINA).date()
        assert page.get_by_role("status").inner_text() == f"已记录 {today.isoformat()} 的排查：走访 23 户，未发现矛盾纠纷。"
        assert fits_the_phone(page)
        shot(page, "grid-screening-phone")
    finally:
        context.close()

    # The API agrees: one incident in 芭蕉社区 this month, and a screening that found nothing.
    month = today.strftime("%Y-%m")
    counts = mesh.ok("/pingan.grid.v1.GridService/CountIncidents", {"rootCode": STREET, "month": month}, as_user="anfu-mediator")
    assert [(c["villageCode"], c["incidents"]) for c in counts.get("counts", [])] == [(COMMUNITY, 1)], counts
    facts = mesh.ok("/pingan.grid.v1.GridService/ScreeningFacts", {"rootCode": STREET, "month": month}, as_user="anfu-mediator")
    village = next(f for f in facts["facts"] if f["villageCode"] == COMMUNITY)
    assert village["nothingFoundDays"] == 1 and village["householdsVisited"] == 23, village
    # The grid worker's own token may not list cases: the page said so honestly.
    status, _ = mesh.call("/pingan.dispute.v1.DisputeService/ListCases", {"divisionCode": COMMUNITY}, "bajiao-grid")
    assert status in (403, 404), status

    # The case the report became, as the street's mediator finds it (opened from the event, so polled).
    case = None
    deadline = time.monotonic() + 30
    while case is None and time.monotonic() < deadline:
        listed = mesh.ok("/pingan.dispute.v1.DisputeService/ListCases", {"divisionCode": STREET}, as_user="anfu-mediator")
        case = next((c for c in listed.get("cases", []) if c.get("incidentId") == incident), None)
        time.sleep(0.3)
    assert case is not None, f"no case opened from incident {incident}"
    assert case["category"] == "INCIDENT_CATEGORY_NEIGHBOUR" and case.get("repeatIncident") and not case.get("threatOfViolence"), case
    assert case["source"] == "CASE_SOURCE_GRID_REPORT" and len(case["parties"]) == 2
    assert all("金大明" != p["name"] and "*" in p["name"] for p in case["parties"]), case["parties"]
    # The grid worker follows their own report (ListMyReports): the case it opened, no parties.
    mine = mesh.ok("/pingan.dispute.v1.DisputeService/ListMyReports", {}, as_user="bajiao-grid")
    filed = [r for r in mine.get("reports", []) if r.get("incidentId") == incident]
    assert [(r["caseId"], r.get("openedCase")) for r in filed] == [(case["id"], True)], mine
    assert "金大明" not in json.dumps(mine, ensure_ascii=False)
    context, page = sign_in(browser, gateway, "bajiao-grid", "/ui/grid", **PHONE)
    try:
        shown = page.locator("#mine").inner_text()
        assert "我的上报" in shown and "邻里纠纷" in shown and "立案" in shown and "办理中" in shown, shown
        assert fits_the_phone(page)
    finally:
        context.close()

    context, page = sign_in(browser, gateway, "anfu-mediator", "/ui/")
    try:
        page.goto(f"{gateway}/ui/cases/{case['id']}")
        assert DESCRIPTION in page.inner_text("main")
        assert COMMUNITY_NAME in page.inner_text("main")
        shot(page, "grid-report-case-street")
    finally:
        context.close()


def test_the_site_root_and_its_icon(browser, mesh: Mesh, story) -> None:
    gateway = mesh.url("gateway")
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    try:
        # A browser pointed at the gateway lands on the dashboard, here its sign-in.
        page.goto(f"{gateway}/")
        assert page.url == f"{gateway}/ui/login"
        icon = page.request.get(f"{gateway}/favicon.ico")
        assert icon.status == 200 and icon.headers["content-type"] == "image/png" and icon.body()[:4] == b"\x89PNG"
    finally:
        context.close()
    context, page = sign_in(browser, gateway, "bajiao-grid", "/ui/grid", **PHONE)
    try:
        assert page.locator("link[rel=icon]").get_attribute("href") == "/favicon.ico"
        # Another grid's member number (a mistyped one): the service's answer, in words, input kept.
        page.goto(f"{gateway}/ui/grid?grid={story['grid']}&member={mesh.records['member']}")
        page.get_by_label("纠纷类别").select_option(label="土地")
        page.get_by_label("事情经过").fill("村民小组之间的地界纠纷")
        page.get_by_label("当事人 1 姓名").fill("张三")
        with page.expect_navigation() as refused:
            page.get_by_role("button", name="提交上报").click()
        assert refused.value.status == 400
        assert page.get_by_role("alert").inner_text() == "该成员编号不是所选网格的成员，请核对网格和编号。"
        assert page.get_by_label("事情经过").input_value() == "村民小组之间的地界纠纷"
        assert page.get_by_label("当事人 1 姓名").input_value() == "张三"
        # Nothing was remembered from a refused form, so the grid and number stay open to correct.
        assert page.locator("details.identity").get_attribute("open") is not None
        shot(page, "grid-report-wrong-member-phone")
    finally:
        context.close()
