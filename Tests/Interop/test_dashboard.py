"""The centre dashboard in a real browser: headless Chromium (Debian's `chromium`) driven by
Playwright, against the whole mesh (conftest's `mesh` fixture: six executables, one fresh
database, a self-harm case with a warning and an open rung in 小渡口一村 of 小渡口镇).

Screenshots of every page visited are written to $PINGAN_ARTIFACTS (default
Tests/Interop/artifacts); the README shows them.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from mesh import PASSWORD, TOWN_A, Mesh

CHINA = timezone(timedelta(hours=8))
ARTIFACTS = Path(os.environ.get("PINGAN_ARTIFACTS", Path(__file__).parent / "artifacts"))
VILLAGE_A_NAME = "小渡口一村（生成）"


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


@pytest.fixture(scope="module")
def gateway(mesh: Mesh) -> str:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return mesh.url("gateway")


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(browser, gateway: str, user: str, **context_options):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", accept_downloads=True, **context_options)
    page = context.new_page()
    page.goto(f"{gateway}/ui/")
    assert page.url.endswith("/ui/login"), page.url
    page.get_by_label("用户名").fill(user)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{gateway}/ui/")
    return context, page


def test_a_township_acknowledges_its_villages_warning_and_sees_the_rung_deadline(browser, gateway, mesh: Mesh) -> None:
    context, page = sign_in(browser, gateway, "town-a")
    try:
        shot(page, "login-then-today-town-a")
        # The summoned police station has not reported yet: the page says until when.
        assert "小渡口派出所 报到" in page.locator("#due").inner_text()
        # The case is listed at the rung it is on.
        listed = page.locator(f"#cases tr:has(a[href='/ui/cases/{mesh.records['case']}'])").inner_text()
        assert "第一级" in listed and "24:00" in listed, listed
        warning = page.locator(f"article.warning[data-warning='{mesh.records['warning']}']")
        assert VILLAGE_A_NAME in warning.inner_text()
        assert "待签收" in warning.inner_text()
        # The escalation clock runs until someone acknowledges.
        assert re.search(r"(分钟|小时|天)后升级至上级中心", warning.inner_text()), warning.inner_text()
        warning.get_by_role("button", name=re.compile("^签收")).click()
        page.wait_for_load_state()
        acknowledged = page.locator(f"article.warning[data-warning='{mesh.records['warning']}']")
        assert "已签收" in acknowledged.inner_text()
        assert acknowledged.get_by_role("button", name=re.compile("^签收")).count() == 0
        shot(page, "today-town-a-acknowledged")
        # The risk service agrees: the warning is acknowledged.
        status, answer = mesh.call("/pingan.risk.v1.RiskService/GetWarning", {"warningId": mesh.records["warning"]}, "town-a")
        assert status == 200 and answer["warning"]["status"] == "WARNING_STATUS_ACKNOWLEDGED", answer

        acknowledged.get_by_role("link").click()
        page.wait_for_url(re.compile(r"/ui/cases/"))
        deadline = page.locator("#rungs td.deadline").first.inner_text()
        assert re.match(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", deadline), deadline
        # The deadline is the end of a working day in China time, as centres write it.
        assert deadline.endswith("24:00"), deadline
        assert "第一级" in page.locator("#rungs").inner_text()
        # Parties are masked; a mediator may reveal them, and is told the read is recorded.
        parties = page.locator("#summary ul.parties").inner_text()
        assert "甲" not in parties and "乙" not in parties and "*" in parties, parties
        shot(page, "case-town-a")
        page.get_by_role("button", name=re.compile("查看当事人完整信息")).click()
        page.wait_for_load_state()
        assert "已记入个人信息查阅记录" in page.content()
        revealed = page.locator("#summary ul.parties").inner_text()
        assert "甲" in revealed and "乙" in revealed, revealed
    finally:
        context.close()


def test_a_sibling_township_does_not_see_it_and_its_address_says_not_found(browser, gateway, mesh: Mesh) -> None:
    context, page = sign_in(browser, gateway, "town-b")
    try:
        assert VILLAGE_A_NAME not in page.locator("#warnings").inner_text()
        assert page.locator(f"article.warning[data-warning='{mesh.records['warning']}']").count() == 0
        response = page.goto(f"{gateway}/ui/cases/{mesh.records['case']}")
        assert response.status == 404
        assert "未找到" in page.inner_text("main")
        # Another centre's page by address: the same answer, nothing about what is there.
        response = page.goto(f"{gateway}/ui/?centre={TOWN_A}")
        assert response.status == 404 and "未找到" in page.inner_text("main")
        shot(page, "case-not-found-town-b")
    finally:
        context.close()


def test_the_warning_is_taken_through_its_loop_to_closed_from_the_page(browser, gateway, mesh: Mesh) -> None:
    """After 签收: 指派, 反馈, 问效 and 关闭, each the next form in turn, each with what it needs."""
    context, page = sign_in(browser, gateway, "town-a")
    try:
        card = page.locator(f"article.warning[data-warning='{mesh.records['warning']}']")
        # An empty answer is refused by the service, by field, and the page says so.
        card.get_by_label("处置人（姓名或岗位）", exact=True).fill("   ")
        card.get_by_role("button", name=re.compile("^指派处置")).click()
        page.wait_for_load_state()
        assert "assignee" in page.inner_text("main"), page.inner_text("main")
        page.goto(f"{gateway}/ui/")
        for label, button, text, status in [
            ("处置人（姓名或岗位）", "指派处置", "小渡口镇综治办 李明", "处置中"),
            ("处置情况", "反馈处置情况", "已上门劝导，双方同意调解", "已反馈"),
            ("问效结论", "跟踪问效", "一周后回访，情绪稳定", "已问效"),
        ]:
            card = page.locator(f"article.warning[data-warning='{mesh.records['warning']}']")
            card.get_by_label(label, exact=True).fill(text)
            card.get_by_role("button", name=re.compile(f"^{button}")).click()
            page.wait_for_load_state()
            assert status in page.locator(f"article.warning[data-warning='{mesh.records['warning']}']").inner_text()
        card = page.locator(f"article.warning[data-warning='{mesh.records['warning']}']")
        card.get_by_label("处置结果", exact=True).fill("矛盾化解，风险解除")
        card.get_by_role("button", name=re.compile("^关闭预警")).click()
        page.wait_for_load_state()
        assert page.locator(f"article.warning[data-warning='{mesh.records['warning']}']").count() == 0
        status, answer = mesh.call("/pingan.risk.v1.RiskService/GetWarning", {"warningId": mesh.records["warning"]}, "town-a")
        assert answer["warning"]["status"] == "WARNING_STATUS_CLOSED" and answer["warning"]["outcome"] == "矛盾化解，风险解除", answer
    finally:
        context.close()


def test_the_index_page_shows_the_ranking_and_the_chart_and_the_export_has_the_rows_shown(browser, gateway, mesh: Mesh) -> None:
    # A week of screening in 小渡口一村, then the month computed by the city.
    today = datetime.now(CHINA).date()
    for back in range(min(5, today.day)):
        mesh.ok("/pingan.grid.v1.GridService/RecordScreening", {
            "gridId": mesh.records["grid"], "reporterMemberId": mesh.records["member"],
            "day": (today - timedelta(days=back)).isoformat(), "householdsVisited": 12, "disputesFound": 1 if back == 0 else 0,
        }, as_user="town-a")
    month = today.strftime("%Y-%m")
    mesh.ok("/pingan.index.v1.IndexService/ComputeMonthlyIndex", {"month": month}, as_user="city-admin")

    context, page = sign_in(browser, gateway, "town-a")
    try:
        page.goto(f"{gateway}/ui/index")
        rows = page.locator("#ranking tbody tr")
        assert rows.count() == 1, page.inner_text("main")
        assert VILLAGE_A_NAME in rows.first.inner_text()
        assert re.search(r"\d+\.\d", rows.first.inner_text()), rows.first.inner_text()
        assert page.locator("#trend svg polyline.trend").count() == 1
        assert page.locator("#trend svg circle").count() >= 1
        assert VILLAGE_A_NAME in page.locator("#trend svg").inner_html()
        shot(page, "index-town-a")
        with page.expect_download() as ranking:
            page.get_by_role("link", name="下载排名（CSV）").click()
        assert VILLAGE_A_NAME in Path(ranking.value.path()).read_text(encoding="utf-8-sig")

        page.goto(f"{gateway}/ui/")
        shown = page.locator("#cases tbody tr")
        with page.expect_download() as download:
            page.get_by_role("link", name="导出本表（CSV）").click()
        text = Path(download.value.path()).read_text(encoding="utf-8-sig")
        lines = list(csv.reader(io.StringIO(text)))
        assert lines[0][:6] == ["村（社区）", "类别", "调解层级", "本级期限", "状态", "受理时间"]
        assert len(lines) - 1 == shown.count() >= 1
        for number, line in enumerate(lines[1:]):
            cells = shown.nth(number).locator("td")
            for column in (0, 3, 4, 5):
                assert line[column] == cells.nth(column).inner_text().strip(), (column, line)
    finally:
        context.close()


def test_a_phone_sized_screen_works(browser, gateway, mesh: Mesh) -> None:
    context, page = sign_in(browser, gateway, "town-a", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        # Nothing wider than the screen: no sideways scrolling on a grid worker's phone.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert page.locator("#warnings").is_visible() and page.locator("#cases").is_visible()
        # Table rows become labelled blocks.
        first = page.locator("#cases tbody td").first
        assert page.evaluate("cell => getComputedStyle(cell, '::before').content", first.element_handle()).strip('"').startswith("村")
        shot(page, "today-town-a-phone")
        page.locator("#cases tbody a").first.click()
        page.wait_for_url(re.compile(r"/ui/cases/"))
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shot(page, "case-town-a-phone")
    finally:
        context.close()


def test_keyboard_alone_signs_in(browser, gateway, mesh: Mesh) -> None:
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    try:
        page.goto(f"{gateway}/ui/login")
        page.keyboard.press("Tab")
        page.keyboard.type("town-a")
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{gateway}/ui/")
        assert page.locator("h1").inner_text().endswith("今日工作")
    finally:
        context.close()
