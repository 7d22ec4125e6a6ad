"""Residents (issue 27) against the whole mesh: the Open311 GeoReport v2 door read by a client
nobody here wrote (`georeport` on PyPI) and filed with plain HTTP, what the public lists hold,
one-time codes and rate limits, and a resident who files, follows and rates in a browser
while a mediator takes the case through a rung, after which the month's index counts the
rating. Texts to residents arrive at this module's own SMS receiver."""

from __future__ import annotations

import http.server
import json
import random
import re
import subprocess
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests
from georeport import GeoReport

from conftest import _psql
from mesh import TOWN_A, VILLAGE_A, VILLAGE_B, Mesh
from test_dashboard import browser  # noqa: F401 - `browser` is the module's fixture

ADMIN = "/pingan.gateway.v1.AdminService"
RESIDENT = "/pingan.dispute.v1.ResidentService"
DISPUTE = "/pingan.dispute.v1.DisputeService"
INDEX = "/pingan.index.v1.IndexService"
CHINA = timezone(timedelta(hours=8))


class SMSReceiver:
    """The deployment's HTTP SMS gateway, as notify-service posts to it."""

    def __init__(self, port: int) -> None:
        self.texts: list[dict] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.texts.append(json.loads(body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def to(self, phone: str) -> list[str]:
        return [text["text"] for text in self.texts if text["phone"] == phone]

    def wait_for(self, phone: str, pattern: str, timeout: float = 30.0) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for text in reversed(self.to(phone)):
                if found := re.search(pattern, text):
                    return found
            time.sleep(0.1)
        raise AssertionError(f"no text to {phone} matching {pattern}: {self.to(phone)}")


@pytest.fixture(scope="module")
def sms(mesh: Mesh):
    receiver = SMSReceiver(mesh.receiver_port)
    yield receiver
    receiver.server.shutdown()


@pytest.fixture(scope="module")
def app_key(mesh: Mesh) -> str:
    """The key of the city's resident app (role resident_app), issued by the city's admin."""
    return mesh.ok(f"{ADMIN}/IssueApiKey", {"name": "pingan-580", "centreCode": "430700000000", "roles": ["resident_app"]})["key"]


def open311(mesh: Mesh) -> str:
    return f"{mesh.url('gateway')}/open311/v2"


def post_request(mesh: Mesh, key: str, fmt: str = "json", **fields) -> requests.Response:
    return requests.post(f"{open311(mesh)}/requests.{fmt}", data={"api_key": key, **fields}, timeout=30)


def test_a_georeport_client_lists_services_and_reads_back_a_filed_request(mesh: Mesh, app_key: str) -> None:
    for fmt in ("json", "xml"):
        client = GeoReport(open311(mesh), api_key=app_key, output_format=fmt)
        services = client.get_service_list()
        assert {s["service_code"] for s in services} >= {"neighbour", "land", "marriage_family", "other"}
        assert next(s for s in services if s["service_code"] == "land")["service_name"] == "土地纠纷"
        definition = client.get_service_definition("neighbour")
        attributes = definition["attributes"] if fmt == "json" else definition["attributes"]["attribute"]
        assert {a["code"] for a in attributes} == {"threat_of_violence", "threat_of_self_harm", "other_party"}

        # Filing is a POST the client does not make: plain HTTP, as the spec writes it.
        filed = post_request(mesh, app_key, fmt, service_code="neighbour", address_id=VILLAGE_A, description="邻居在公共通道堆放杂物",
                             phone="+86 139 0000 0001", last_name="赵", first_name="一", **{"attribute[other_party]": "钱二"})
        assert filed.status_code == 200, filed.text
        if fmt == "json":
            answer = filed.json()[0]
        else:
            answer = {tag: re.search(f"<{tag}>([^<]*)</{tag}>", filed.text).group(1) for tag in ("service_request_id", "token")}
        tracking, token = answer["service_request_id"], answer["token"]
        assert re.fullmatch(r"PA[0-9A-Z]{8}", tracking)

        one = client.get_service_request(tracking)
        assert one["service_request_id"] == tracking and one["status"] == "open" and one["status_notes"] == "受理"
        assert one["service_code"] == "neighbour" and one["address_id"] == VILLAGE_A and one["agency_responsible"] == TOWN_A
        assert not {"description", "phone", "first_name", "last_name", "lat", "long"} & set(one)
        listed = client.get_service_requests()
        listed = listed if isinstance(listed, list) else [listed]
        assert tracking in {r["service_request_id"] for r in listed}
        by_token = requests.get(f"{open311(mesh)}/tokens/{token}.{fmt}", timeout=30)
        assert by_token.status_code == 200 and tracking in by_token.text

    # The spec's errors: an unknown request, a missing key, a bad field.
    missing = requests.get(f"{open311(mesh)}/requests/PA00000000.json", timeout=30)
    assert missing.status_code == 404 and missing.json()[0]["code"] == 404
    keyless = requests.post(f"{open311(mesh)}/requests.json", data={"service_code": "land", "phone": "13900000009", "description": "x"}, timeout=30)
    assert keyless.status_code == 403
    bad = post_request(mesh, app_key, service_code="land", address_id=VILLAGE_A, description="田埂", phone="12345")
    assert bad.status_code == 400 and "phone" in bad.json()[0]["description"]
    xml_error = post_request(mesh, app_key, "xml", service_code="nonsense", phone="13900000009", description="x")
    assert xml_error.status_code == 400 and "<errors><error><code>400</code>" in xml_error.text


def test_public_lists_never_carry_personal_data_or_sensitive_requests(mesh: Mesh, app_key: str) -> None:
    """A few hundred requests of every kind, then every public list in both formats."""
    categories = ["neighbour", "land", "economic_debt", "marriage_family", "property_management", "other"]
    secrets_written: list[str] = []
    sensitive: set[str] = set()
    for n in range(240):
        phone = f"137{random.randrange(10_000_000, 100_000_000)}"
        name = f"居民{n:03d}"
        description = f"第{n}号诉求的具体经过{uuid.uuid4().hex[:8]}"
        service = categories[n % len(categories)]
        self_harm = n % 17 == 0
        place = {"address_id": [VILLAGE_A, VILLAGE_B][n % 2]} if n < 100 else {"address_string": f"津市大道{n}号", "lat": "29.6", "long": str(111.8 + n / 1000)}
        filed = post_request(mesh, app_key, service_code=service, description=description, phone=phone, last_name=name,
                             **{"attribute[threat_of_self_harm]": "true" if self_harm else "false"}, **place)
        assert filed.status_code == 200, filed.text
        tracking = filed.json()[0]["service_request_id"]
        secrets_written += [phone, phone[3:], name, description]
        if service == "marriage_family" or self_harm:
            sensitive.add(tracking)
    seen: set[str] = set()
    for fmt in ("json", "xml"):
        for query in ("", "?status=open", "?service_code=marriage_family", "?service_code=neighbour,land"):
            answer = requests.get(f"{open311(mesh)}/requests.{fmt}{query}", timeout=30)
            assert answer.status_code == 200
            for secret in secrets_written:
                assert secret not in answer.text
            listed = set(re.findall(r"PA[0-9A-Z]{8}", answer.text))
            assert not listed & sensitive, f"sensitive requests listed publicly: {listed & sensitive}"
            assert "marriage_family" not in answer.text
            seen |= listed
        for tracking in list(sensitive)[:5]:
            assert requests.get(f"{open311(mesh)}/requests/{tracking}.{fmt}", timeout=30).status_code == 404
    assert len(seen) >= 150


def test_one_time_codes_are_single_use_and_limited(mesh: Mesh, sms) -> None:
    gateway = mesh.url("gateway")
    phone = "13600000001"
    session = requests.Session()
    assert session.post(f"{gateway}/resident/code", data={"phone": "136 0000 0001"}, timeout=30).status_code == 200
    code = sms.wait_for(phone, r"验证码(\d{6})").group(1)
    # A second code within the minute is refused, and nothing is texted.
    texts = len(sms.to(phone))
    assert session.post(f"{gateway}/resident/code", data={"phone": phone}, timeout=30).status_code == 429
    assert len(sms.to(phone)) == texts
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    refused = session.post(f"{gateway}/resident/verify", data={"phone": phone, "code": wrong}, allow_redirects=False, timeout=30)
    assert refused.status_code == 403 and "pingan_resident" not in refused.headers.get("Set-Cookie", "")
    taken = session.post(f"{gateway}/resident/verify", data={"phone": phone, "code": code}, allow_redirects=False, timeout=30)
    assert taken.status_code == 303 and "pingan_resident=" in taken.headers["Set-Cookie"]
    reused = requests.post(f"{gateway}/resident/verify", data={"phone": phone, "code": code}, allow_redirects=False, timeout=30)
    assert reused.status_code == 403
    # The code is nowhere but in the text: not in the gateway's table, not in notify's.
    stored = subprocess.run(
        [_psql(), mesh.command_env["DATABASE_URL"], "-XtAc",
         "SELECT digest FROM gateway.resident_codes UNION ALL SELECT kind || ' ' || phone_masked FROM notify.resident_texts"],
        capture_output=True, text=True, timeout=30,
    )
    assert stored.returncode == 0 and len(stored.stdout.split("\n")) >= 2, stored.stderr
    assert code not in stored.stdout and phone not in stored.stdout
    assert requests.get(f"{gateway}/resident/requests", allow_redirects=False, timeout=30).status_code == 303


def test_a_phone_files_at_most_five_requests_a_day(mesh: Mesh, app_key: str) -> None:
    phone = "13500000005"
    for n in range(5):
        filed = post_request(mesh, app_key, service_code="other", address_id=VILLAGE_B, description=f"路灯不亮{n}", phone=phone)
        assert filed.status_code == 200, filed.text
    refused = post_request(mesh, app_key, service_code="other", address_id=VILLAGE_B, description="路灯不亮6", phone=phone)
    assert refused.status_code == 429 and "phone" in refused.json()[0]["description"]


def test_a_resident_files_follows_and_rates_and_the_index_counts_it(browser, mesh: Mesh, sms) -> None:  # noqa: F811
    gateway = mesh.url("gateway")
    phone = "13800138001"
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    # Sign in by phone.
    page.goto(f"{gateway}/resident")
    page.get_by_label("手机号").fill("138 0013 8001")
    page.get_by_role("button", name="获取验证码").click()
    page.get_by_label("验证码").fill(sms.wait_for(phone, r"验证码(\d{6})").group(1))
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/resident/requests")
    # File in story 1's village: walk down to it, then describe the matter.
    page.get_by_role("link", name="提交新的诉求").click()
    page.get_by_role("link", name="澧县", exact=True).click()
    page.get_by_role("link", name="小渡口镇", exact=True).click()
    page.get_by_label("所在村（社区）").select_option(VILLAGE_A)
    page.get_by_label("类别").select_option("neighbour")
    page.get_by_label("发生了什么").fill("隔壁金家在我家门口砌围墙，堵了出路，吵了好几次")
    page.get_by_label("您的姓名（可不填）").fill("李某乙")
    page.get_by_label("对方姓名（可不填）").fill("金某甲")
    page.get_by_role("button", name="提交").click()
    page.wait_for_url("**/resident/requests/PA*")
    tracking = page.url.rsplit("/", 1)[1]
    assert page.locator("dd.stage").inner_text() == "受理"
    assert "小渡口镇综治中心" in page.locator("main").inner_text()

    # The centre's workbench has it as a case from the citizen app; a mediator takes it up.
    cases = mesh.ok(f"{DISPUTE}/ListCases", {"divisionCode": TOWN_A}, as_user="town-a")["cases"]
    case = next(c for c in cases if c.get("source") == "CASE_SOURCE_CITIZEN_APP" and "砌围墙" in c.get("description", ""))
    attempt = mesh.ok(f"{DISPUTE}/StartRung", {"caseId": case["id"], "rung": "RUNG_FINDER", "kind": "MEDIATION_KIND_PEOPLES",
                                               "lead": "网格员王小明", "participants": ["李某乙", "金某甲"]}, as_user="town-a")["attempt"]["id"]
    page.reload()
    assert page.locator("dd.stage").inner_text() == "调解中"
    today = datetime.now(CHINA).date().isoformat()
    mesh.ok(f"{DISPUTE}/EndRung", {"caseId": case["id"], "attemptId": attempt, "outcome": "RUNG_OUTCOME_SETTLED", "note": "围墙后退一米",
                                   "agreement": {"terms": "金家围墙后退一米，留出通道", "signedOn": today, "signatories": ["李某乙", "金某甲"]}},
            as_user="town-a")
    page.reload()
    assert page.locator("dd.stage").inner_text() == "已达成协议"
    mesh.ok(f"{DISPUTE}/RecordReturnVisit", {"caseId": case["id"], "outcome": "RETURN_VISIT_OUTCOME_CONFIRMED", "note": "通道已留出，双方满意"},
            as_user="town-a")
    page.reload()
    assert page.locator("dd.stage").inner_text() == "已回访"

    # The month's index before the rating: 29 surveyed is short of the 30 the indicator needs.
    month = datetime.now(CHINA).strftime("%Y-%m")
    mesh.ok(f"{INDEX}/LoadSurveyResults", {"month": month, "csv": f"division_code,respondents,satisfied\n{VILLAGE_A},29,20\n"})

    def satisfaction() -> dict:
        mesh.ok(f"{INDEX}/ComputeMonthlyIndex", {"month": month, "reason": "residents' ratings"})
        scores = mesh.ok(f"{INDEX}/GetRanking", {"parentCode": TOWN_A, "month": month})["scores"]
        village = next(s for s in scores if s["code"] == VILLAGE_A)
        return next(i for i in village["indicators"] if i["indicator"] == "survey_satisfaction")

    assert not satisfaction().get("enoughData", False)

    # The rating link arrives by SMS; the resident rates in the browser.
    link = sms.wait_for(phone, rf"诉求{tracking}已回访，请评价办理结果：(\S+)").group(1)
    assert link.startswith(gateway + "/resident/rate/")
    page.goto(link)
    page.get_by_label("5 分（完全解决）").check()
    page.get_by_label("意见（可不填）").fill("处理及时")
    page.get_by_role("button", name="提交评价").click()
    assert "已评价：5 分" in page.locator("main").inner_text()
    page.goto(link)
    page.get_by_label("1 分（没有解决）").check()
    page.get_by_role("button", name="提交评价").click()
    assert "已经评价过了" in page.locator("main").inner_text()
    page.goto(f"{gateway}/resident/requests/{tracking}")
    assert page.locator("dd.stage").inner_text() == "已办结"

    # 29 surveyed (20 satisfied) and one rating of 5: 21 of 30.
    after = satisfaction()
    assert after.get("enoughData") and abs(after["value"] - 21 / 30) < 1e-9
    context.close()


def test_a_request_with_only_an_address_is_placed_from_the_centres_triage_page(browser, mesh: Mesh, app_key: str) -> None:  # noqa: F811
    from test_workbench_stories import add_user, sign_in

    # 澧县's own app key: what it files without a village waits at 澧县's centre.
    county_key = mesh.ok(f"{ADMIN}/IssueApiKey", {"name": "lixian-app", "centreCode": "430723000000", "roles": ["resident_app"]})["key"]
    add_user(mesh, "lixian-clerk", "430723000000", "staff")
    filed = post_request(mesh, county_key, service_code="land", description="村口那块地被人占了种菜", phone="13300133000",
                         address_string="小渡口镇村口晒谷坪旁", lat="29.63", long="111.76")
    tracking = filed.json()[0]["service_request_id"]
    assert requests.get(f"{open311(mesh)}/requests/{tracking}.json", timeout=30).json()[0]["address_id"] == ""
    context, page = sign_in(browser, mesh.url("gateway"), "lixian-clerk")
    page.get_by_role("link", name="群众诉求分派").click()
    card = page.locator(f"#triage-{tracking}")
    assert "小渡口镇村口晒谷坪旁" in card.inner_text()
    card.get_by_label("所在村（社区）代码").fill(VILLAGE_A)
    card.get_by_role("button", name="分派").click()
    assert f"已分派：{tracking}" in page.locator("main").inner_text()
    assert page.locator(f"#triage-{tracking}").count() == 0
    placed = requests.get(f"{open311(mesh)}/requests/{tracking}.json", timeout=30).json()[0]
    assert placed["address_id"] == VILLAGE_A and placed["agency_responsible"] == TOWN_A
    cases = mesh.ok(f"{DISPUTE}/ListCases", {"divisionCode": TOWN_A}, as_user="town-a")["cases"]
    assert any(c.get("source") == "CASE_SOURCE_CITIZEN_APP" and c.get("category") == "INCIDENT_CATEGORY_LAND" for c in cases)
    context.close()
