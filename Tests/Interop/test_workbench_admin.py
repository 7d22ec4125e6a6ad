"""The centre administrator's workbench in a real browser (issue 25): the township's
administrator subscribes a webhook on the subscriptions page, presses 发送测试推送 and sees
it delivered, signed, to a receiver of the test's own, then pauses and resumes it; a refused subscription keeps what was
typed; and a department's clerk lands on the department's page after signing in.

Headless Chromium (Debian's `chromium`) through Playwright, against the whole mesh (conftest's
`mesh` fixture, this module's own). Screenshots go to $PINGAN_ARTIFACTS (default
Tests/Interop/artifacts).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import json
import re
import threading
import time

import pytest

from mesh import PASSWORD, TOWN_A, Mesh
from test_dashboard import ARTIFACTS, browser, shot  # noqa: F401 - `browser` is the module's fixture
from test_workbench_office import sign_in

SECRET = "whsec_" + base64.b64encode(b"workbench-admin-test-secret-32by").decode()


class Receiver(http.server.ThreadingHTTPServer):
    """Keeps every POST it is sent (headers by lowercased name, and the raw body); answers 200."""

    def __init__(self, port: int) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        received = self.received

        class Hook(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server name
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        super().__init__(("127.0.0.1", port), Hook)


@pytest.fixture(scope="module")
def receiver(mesh: Mesh):
    server = Receiver(mesh.receiver_port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def gateway(mesh: Mesh) -> str:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return mesh.url("gateway")


def signed(headers: dict[str, str], body: bytes) -> bool:
    key = base64.b64decode(SECRET[len("whsec_"):])
    message = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = "v1," + base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(expected, given) for given in headers["webhook-signature"].split(" "))


def test_the_township_admin_subscribes_a_webhook_and_its_test_push_arrives(browser, gateway, mesh: Mesh, receiver: Receiver) -> None:  # noqa: F811
    hook = f"http://127.0.0.1:{mesh.receiver_port}/hook"
    context, page = sign_in(browser, gateway, "town-a")
    try:
        page.goto(f"{gateway}/ui/admin")
        page.get_by_role("link", name="推送订阅").click()
        page.wait_for_url(re.compile(r"/ui/admin/subscriptions$"))
        form = page.locator("#subscribe")

        # A private address is refused beside the form, with the address and types kept.
        form.get_by_label("接收地址（URL）").fill("http://10.1.2.3/hook")
        form.get_by_label("签名密钥（仅 Webhook）").fill(SECRET)
        form.get_by_label("逾期提醒").check()
        form.get_by_role("button", name="添加订阅").click()
        page.wait_for_load_state()
        form = page.locator("#subscribe")
        assert "接收地址须为可从外网访问的 http 或 https 地址" in form.inner_text(), form.inner_text()
        assert form.get_by_label("接收地址（URL）").input_value() == "http://10.1.2.3/hook"
        assert form.get_by_label("逾期提醒").is_checked()
        shot(page, "admin-subscriptions-refused")

        form.get_by_label("接收地址（URL）").fill(hook)
        form.get_by_label("签名密钥（仅 Webhook）").fill(SECRET)
        form.get_by_label("逾期提醒").uncheck()
        form.get_by_role("button", name="添加订阅").click()
        page.wait_for_load_state()
        assert "已添加订阅。" in page.inner_text("main"), page.inner_text("main")
        row = page.locator("#subscriptions article", has_text=hook)
        assert row.count() == 1 and "全部类型" in row.inner_text(), row.inner_text()
        subscription = row.get_attribute("data-subscription")

        row.get_by_role("button", name=re.compile("^发送测试推送")).click()
        page.wait_for_load_state()
        delivery = re.search(r"test=([0-9a-f-]{36})", page.url).group(1)
        outcome = page.locator(f"#test-{subscription}")
        deadline = time.monotonic() + 30
        while "测试推送已送达" not in outcome.inner_text() and time.monotonic() < deadline:
            time.sleep(0.5)
            page.reload()
            outcome = page.locator(f"#test-{subscription}")
        assert "测试推送已送达" in outcome.inner_text(), page.inner_text("main")
        shot(page, "admin-subscriptions-test-delivered")

        # The receiver is to move: the administrator pauses the subscription. The row says
        # since when, offers no test push while paused, and the API says it too.
        row = page.locator("#subscriptions article", has_text=hook)
        row.get_by_role("button", name=re.compile("^暂停推送")).click()
        page.wait_for_load_state()
        assert "已暂停推送；新的推送排队等待，恢复后送出。" in page.inner_text("main"), page.inner_text("main")
        row = page.locator("#subscriptions article", has_text=hook)
        assert "已暂停推送（" in page.locator(f"#paused-{subscription}").inner_text()
        assert row.get_by_role("button", name=re.compile("^发送测试推送")).count() == 0
        listed = mesh.ok("/pingan.notify.v1.NotifyService/ListSubscriptions", {"centreCode": TOWN_A}, as_user="town-a")["subscriptions"]
        assert [s.get("pausedAt", "") != "" for s in listed if s["id"] == subscription] == [True], listed
        shot(page, "admin-subscriptions-paused")

        row.get_by_role("button", name=re.compile("^恢复推送")).click()
        page.wait_for_load_state()
        assert "已恢复推送；排队的推送开始送出。" in page.inner_text("main"), page.inner_text("main")
        row = page.locator("#subscriptions article", has_text=hook)
        assert page.locator(f"#paused-{subscription}").count() == 0
        assert row.get_by_role("button", name=re.compile("^发送测试推送")).count() == 1
    finally:
        context.close()

    # The receiver got one push, signed with the subscription's secret, labelled a test, about no case.
    tests = [(headers, body) for headers, body in receiver.received if headers.get("x-pingan-event") == "push.test"]
    assert len(tests) == 1, receiver.received
    headers, body = tests[0]
    assert headers["webhook-id"] == delivery and signed(headers, body)
    pushed = json.loads(body)
    assert pushed["type"] == "push.test" and pushed["case_id"] == "" and "score" not in pushed, pushed
    assert pushed["text"].startswith("平安 · 测试推送") and pushed["centre_code"] == TOWN_A, pushed

    # And through the API: the delivery is recorded, delivered, under the subscription.
    listed = mesh.ok("/pingan.notify.v1.NotifyService/ListDeliveries", {"warningId": delivery}, as_user="town-a")["deliveries"]
    assert len(listed) == 1 and listed[0]["subscriptionId"] == subscription and listed[0]["deliveredAt"], listed
    assert listed[0]["eventType"] == "push.test", listed


def test_a_department_clerk_created_on_the_page_lands_on_the_department_page(browser, gateway, mesh: Mesh) -> None:  # noqa: F811
    mesh.ok("/pingan.gateway.v1.AdminService/IssueApiKey", {"name": "xdk-judicial", "centreCode": TOWN_A, "roles": ["department"]}, as_user="town-a")
    context, page = sign_in(browser, gateway, "town-a")
    try:
        page.goto(f"{gateway}/ui/admin")
        form = page.locator("#create-user")
        form.get_by_label("用户名").fill("xdk-judicial-zhao")
        form.get_by_label("初始密码").fill(PASSWORD)
        form.get_by_label("部门系统", exact=True).check()
        form.get_by_label("所代表的部门（部门密钥）").select_option("xdk-judicial")
        shot(page, "admin-create-department-clerk")
        form.get_by_role("button", name="创建用户").click()
        page.wait_for_load_state()
        assert "已创建用户。" in page.inner_text("main"), page.inner_text("main")
    finally:
        context.close()

    users = mesh.ok("/pingan.gateway.v1.AdminService/ListUsers", {}, as_user="town-a")["users"]
    clerk = next(user for user in users if user["username"] == "xdk-judicial-zhao")
    assert clerk["departmentKey"] == "xdk-judicial" and clerk["roles"] == ["department"], clerk

    context, page = sign_in(browser, gateway, "xdk-judicial-zhao")
    try:
        page.goto(f"{gateway}/ui/")
        page.wait_for_url(f"{gateway}/ui/department")
        assert "吹哨报到" in page.locator("h1").inner_text()
        shot(page, "department-clerk-home")
    finally:
        context.close()


def test_the_township_admin_adds_a_grid_worker_and_finds_the_link_again(browser, gateway, mesh: Mesh) -> None:  # noqa: F811
    grid = mesh.records["grid"]
    context, page = sign_in(browser, gateway, "town-a")
    try:
        page.goto(f"{gateway}/ui/admin")
        page.get_by_role("link", name="部门与网格成员").click()
        page.wait_for_url(re.compile(r"/ui/admin/setup"))
        members = page.locator("#members")
        members.get_by_label("网格", exact=True).first.select_option(grid)
        members.get_by_role("button", name="查看成员").click()
        page.wait_for_load_state()
        # The worker seeded with the grid is listed, masked, with the link to give them.
        table = page.locator("#grid-members")
        assert "王**" in table.inner_text() and "网格员" in table.inner_text(), page.inner_text("main")
        assert table.locator("a").count() == 1

        add = page.locator("form[action='/ui/admin/setup/members']")
        assert add.get_by_label("网格").input_value() == grid
        add.get_by_label("姓名").fill("赵红梅")
        add.get_by_label("角色").select_option("mediation_director")
        add.get_by_role("button", name="加入网格").click()
        page.wait_for_load_state()
        added = page.locator("#member-added")
        member = added.locator("code.id").inner_text()
        assert f"/ui/grid?grid={grid}&member={member}" in added.inner_text(), added.inner_text()
        shot(page, "admin-setup-member-added")

        # Later, the link is found again on the grid's list.
        page.goto(f"{gateway}/ui/admin/setup?grid={grid}")
        row = page.locator(f"#grid-members tr[data-member='{member}']")
        assert row.count() == 1 and "赵**" in row.inner_text() and "治调主任" in row.inner_text(), page.inner_text("main")
        assert row.locator("a").get_attribute("href") == f"/ui/grid?grid={grid}&member={member}"
        shot(page, "admin-setup-grid-members")
    finally:
        context.close()

    # grid-service keeps both, and a sibling township cannot list them.
    listed = mesh.ok("/pingan.grid.v1.GridService/ListGridMembers", {"gridId": grid}, as_user="town-a")["members"]
    assert [m["name"] for m in listed][-1] == "赵**" and listed[-1]["id"] == member and listed[-1]["role"] == "GRID_ROLE_MEDIATION_DIRECTOR", listed
    status, refused = mesh.call("/pingan.grid.v1.GridService/ListGridMembers", {"gridId": grid}, as_user="town-b")
    assert status == 404 and refused["code"] == "not_found", refused
