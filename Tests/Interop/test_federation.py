"""Two meshes, as a city and a county that runs its own deploy them (docs/architecture.md,
"Deployed per level"): the city's (常德市) and 临澧县's, each with its own database, secrets
and accounts. The county's dispute-service sends the city a snapshot of each changed case
through the city's gateway, with the key the city issued for 临澧县.

The link between them runs through a relay port this test can cut: while it is cut, story 1
runs in the county up to the summons and the county escalates the case to the city; every
step succeeds. When the link returns, the city's pages and index show the case and its steps
once, with the escalation made during the cut, and a snapshot sent again changes nothing. A
relay presenting another county's cases is refused. The city's duty room hears of the
escalation during the cut: the county's administrator subscribed it, at the city's centre, in
the county's own notify-service. A grid the city kept in the county takes no more reports
once the city knows the county runs its own platform: its worker is sent there.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from conftest import _bin_dir, _psql, _with_database
from mesh import PASSWORD, Mesh, start_mesh, stop_mesh
from test_dashboard import ARTIFACTS, browser, shot  # noqa: F401 - `browser` is the module's fixture
from test_standard_webhooks import Receiver
from test_workbench_stories import CHINA, DISPUTE, GRID, PHONE, sign_in, submit, wait_for

INDEX = "/pingan.index.v1.IndexService"
FEDERATION = "/pingan.dispute.v1.FederationService"
CITY, LINLI, LIXIAN = "430700000000", "430724000000", "430723000000"
ANFU = "430724001000"  # 安福街道, 临澧县
BAJIAO, BAJIAO_NAME = "430724001201", "芭蕉社区（生成）"
LIXIAN_VILLAGE = "430723102201"  # a village of 澧县
VILLAGES = f"""code,name,level,parent_code
{BAJIAO},{BAJIAO_NAME},village,{ANFU}
{LIXIAN_VILLAGE},小渡口一村（生成）,village,430723102000
"""


class Link:
    """The e-government link between the county and the city: a TCP relay in front of the
    city's gateway that this test cuts (the port refuses connections) and restores."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.listener: socket.socket | None = None
        self.open_connections: list[socket.socket] = []
        self.lock = threading.Lock()
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with self.lock:
            listener, self.listener = self.listener, None
            connections, self.open_connections = self.open_connections, []
        if listener:
            # shutdown wakes the thread blocked in accept(); close alone would leave it listening.
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            connection.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            with self.lock:
                self.open_connections += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def issue_key(mesh: Mesh, name: str, centre: str, roles: str) -> str:
    """An API key made as the city's operator makes one, with the gateway's `add-api-key`."""
    done = subprocess.run([str(_bin_dir() / "gateway"), "add-api-key", name, centre, roles],
                          env=mesh.env_for("gateway"), check=True, capture_output=True, text=True, timeout=60)
    return done.stdout.strip().split()[-1]


def database(mesh_db: str) -> str:
    return _with_database(os.environ["PINGAN_TEST_DATABASE_URL"], mesh_db)


def psql(mesh_db: str, sql: str) -> str:
    """What `sql` answers in a mesh's database, unaligned and without headers."""
    done = subprocess.run([_psql(), database(mesh_db), "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-c", sql],
                          capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.strip()


@pytest.fixture(scope="module")
def meshes(tmp_path_factory):
    city_dir, county_dir = tmp_path_factory.mktemp("city"), tmp_path_factory.mktemp("county")
    city, city_processes, city_db = start_mesh(city_dir, users=[
        ("city-admin", CITY, "admin,staff,leader,mediator"), ("city-leader", CITY, "leader,staff"),
        ("city-bajiao-grid", BAJIAO, "grid_worker")])
    # Before 临澧县 runs its own platform, the city keeps a grid and its worker in 芭蕉社区.
    city.ok("/pingan.grid.v1.DivisionService/ImportDivisions", {"csv": VILLAGES}, as_user="city-admin")
    city_grid = city.ok(f"{GRID}/CreateGrid", {"villageCode": BAJIAO, "name": "市平台网格"}, as_user="city-admin")["grid"]["id"]
    city_member = city.ok(f"{GRID}/AddGridMember", {"gridId": city_grid, "name": "王建国", "role": "GRID_ROLE_GRID_WORKER"},
                          as_user="city-admin")["member"]["id"]
    key = issue_key(city, "linli-relay", LINLI, "federation")
    link = Link(city.ports["gateway"])
    county, county_processes, county_db = start_mesh(
        county_dir,
        # The county's index-service counts and sends its counts to the city every 2 s.
        {"ROOT_DIVISION": LINLI, "FEDERATION_URL": f"http://127.0.0.1:{link.port}", "FEDERATION_KEY": key,
         "INDEX_INTERVAL_SECONDS": "2"},
        users=[("linli-admin", LINLI, "admin,staff,leader,mediator"), ("s1-street", ANFU, "staff,mediator,leader"),
               ("s1-grid", BAJIAO, "grid_worker")])
    county.ok("/pingan.grid.v1.DivisionService/ImportDivisions",
              {"csv": VILLAGES.splitlines()[0] + "\n" + VILLAGES.splitlines()[1] + "\n"}, as_user="linli-admin")
    try:
        yield city, city_db, county, county_db, link, (city_grid, city_member)
    finally:
        link.cut()
        stop_mesh(county_processes, county_db)
        stop_mesh(city_processes, city_db)


def city_case(city: Mesh, case_id: str) -> dict | None:
    status, answer = city.call(f"{DISPUTE}/GetCase", {"caseId": case_id}, "city-leader")
    return answer if status == 200 else None


def timeline(mesh: Mesh, case_id: str, user: str) -> list[tuple[str, str, str]]:
    lines, token = [], ""
    while True:
        page = mesh.ok(f"{DISPUTE}/ListCaseTimeline", {"caseId": case_id, "pageSize": 100, "pageToken": token}, as_user=user)
        lines += [(e["at"], e["kind"], e["note"]) for e in page.get("entries", [])]
        token = page.get("nextPageToken", "")
        if not token:
            return lines


def test_a_county_keeps_working_while_the_link_is_cut_and_the_city_sees_each_step_once_after(browser, meshes) -> None:  # noqa: F811
    city, city_db, county, county_db, link, _ = meshes
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    # The county's administrator subscribes the city's duty room in the county's mesh: the
    # city's centre, escalations only.
    duty_room = Receiver(county.receiver_port)
    threading.Thread(target=duty_room.serve_forever, daemon=True).start()
    context, page = sign_in(browser, county.url("gateway"), "linli-admin")
    try:
        page.goto(f"{county.url('gateway')}/ui/admin/subscriptions")
        form = page.locator("#subscribe")
        form.get_by_label("中心代码").fill(CITY)
        form.get_by_label("接收地址（URL）").fill(f"http://127.0.0.1:{county.receiver_port}/duty-room")
        form.get_by_label("签名密钥（仅 Webhook）").fill("the-city-duty-room-secret")
        form.get_by_label("案件提级").check()
        form.get_by_role("button", name="添加订阅").click()
        page.wait_for_load_state()
        assert "已添加订阅。" in page.inner_text("main"), page.inner_text("main")
        row = page.locator("#subscriptions article", has_text="/duty-room")
        assert row.count() == 1 and CITY in row.inner_text() and "案件提级" in row.inner_text(), row.inner_text()
    finally:
        context.close()
    link.cut()

    # --- Story 1 in 临澧县 while the link is cut, every step through the county's gateway.
    grid = county.ok(f"{GRID}/CreateGrid", {"villageCode": BAJIAO, "name": "第一网格"}, as_user="linli-admin")["grid"]["id"]
    member = county.ok(f"{GRID}/AddGridMember", {"gridId": grid, "name": "周晓梅", "role": "GRID_ROLE_GRID_WORKER"},
                       as_user="linli-admin")["member"]["id"]
    incident = county.ok(f"{GRID}/ReportIncident", {
        "gridId": grid, "reporterMemberId": member, "category": "INCIDENT_CATEGORY_NEIGHBOUR",
        "description": "金家与李家因门前排水沟又一次争吵，邻居劝开，尚无暴力威胁。",
        "parties": [{"name": "金大明"}, {"name": "李小红"}], "repeatIncident": True,
    }, as_user="s1-grid")["incident"]["id"]

    def county_case():
        listed = county.ok(f"{DISPUTE}/ListCases", {"divisionCode": ANFU}, as_user="s1-street").get("cases", [])
        return next((c for c in listed if c.get("incidentId") == incident), None)
    case_id = wait_for("the county's case of the report", county_case)["id"]

    for rung, note in (("RUNG_FINDER", "双方同意不再在门口争吵"), ("RUNG_FINDER", "排水沟问题未解决，但情绪缓和"),
                       ("RUNG_VILLAGE_SECRETARY", "司法所讲解相邻关系法律规定，双方暂时和解")):
        attempt = county.ok(f"{DISPUTE}/StartRung", {"caseId": case_id, "rung": rung, "lead": "芭蕉社区书记",
                                                    "participants": ["金大明", "李小红"], "bodies": ["芭蕉社区居委会"]},
                            as_user="s1-street")["attempt"]["id"]
        county.ok(f"{DISPUTE}/EndRung", {"caseId": case_id, "attemptId": attempt, "outcome": "RUNG_OUTCOME_EASED", "note": note},
                  as_user="s1-street")
    joined = county.ok(f"{DISPUTE}/IntakeCase", {
        "requestId": str(uuid.uuid4()), "villageCode": BAJIAO, "source": "CASE_SOURCE_POLICE_TRANSFER",
        "category": "INCIDENT_CATEGORY_NEIGHBOUR", "description": "金大明、金二明兄弟因排水沟纠纷殴打李小红，派出所移交",
        "parties": [{"name": "金大明"}, {"name": "金二明"}, {"name": "李小红"}], "violenceOccurred": True, "repeatIncident": True,
        "priorPoliceCalls": 1,
    }, as_user="s1-street")
    assert joined["case"]["id"] == case_id and joined.get("joinedExisting"), joined
    departments = []
    for name, key in (("安福派出所", "anfu-police"), ("安福司法所", "anfu-judicial"), ("临澧县心理咨询中心", "linli-counselling")):
        departments.append(county.ok(f"{DISPUTE}/RegisterDepartment", {"centreCode": ANFU, "name": name, "apiKeyName": key},
                                     as_user="linli-admin")["department"]["id"])
    county.ok(f"{DISPUTE}/SummonDepartments", {"caseId": case_id, "departmentIds": departments}, as_user="s1-street")
    county.ok(f"{DISPUTE}/EscalateCase", {"caseId": case_id, "reason": "已发生殴打，需县级统筹"}, as_user="s1-street")
    escalated_at = datetime.now(CHINA)
    county.ok(f"{DISPUTE}/EscalateCase", {"caseId": case_id, "reason": "涉及跨县人员，需市级统筹"}, as_user="linli-admin")

    # The city's duty room hears of it while the link is still cut, from the county's mesh.
    def pushed_to_the_city():
        with duty_room.lock:
            bodies = [json.loads(body) for _, body in duty_room.received]
        return [b for b in bodies if b.get("case_id") == case_id and b.get("type") == "case.escalated" and b.get("centre_code") == CITY]
    assert len(wait_for("the escalation pushed to the city's duty room", pushed_to_the_city, timeout=60)) == 1
    duty_room.shutdown()
    duty_room.server_close()
    # A second case, not escalated: its parties' names stay in the county.
    quiet = county.ok(f"{DISPUTE}/IntakeCase", {
        "requestId": str(uuid.uuid4()), "villageCode": BAJIAO, "source": "CASE_SOURCE_WALK_IN",
        "category": "INCIDENT_CATEGORY_NEIGHBOUR", "description": "王家与赵家因晾衣杆位置争吵",
        "parties": [{"name": "王某某"}, {"name": "赵某某"}],
    }, as_user="s1-street")["case"]["id"]

    at_county = county.ok(f"{DISPUTE}/GetCase", {"caseId": case_id}, as_user="linli-admin")
    assert at_county["case"]["coordinatorCode"] == CITY and len(at_county["rungs"]) == 3 and len(at_county["summons"]) == 3, at_county
    county_lines = timeline(county, case_id, "linli-admin")
    # Nothing reached the city; the changes wait in the county's database.
    assert city_case(city, case_id) is None
    waiting = psql(county_db, "SELECT count(*) FROM dispute.federation_changes WHERE parked_at IS NULL").strip()
    assert int(waiting) == 2, waiting

    # --- The link returns: the city catches up.
    link.restore()
    copy = wait_for("the case at the city", lambda: (lambda c: c if c and len(c.get("summons", [])) == 3
                                                     and c["case"]["coordinatorCode"] == CITY else None)(city_case(city, case_id)),
                    timeout=90)
    assert [(r["rung"], r["outcome"]) for r in copy["rungs"]] == [("RUNG_FINDER", "RUNG_OUTCOME_EASED")] * 2 + [
        ("RUNG_VILLAGE_SECRETARY", "RUNG_OUTCOME_EASED")], copy["rungs"]
    assert copy["case"]["violenceOccurred"] and copy["case"]["incidents"] == 2, copy["case"]
    assert sorted(s["departmentName"] for s in copy["summons"]) == ["临澧县心理咨询中心", "安福司法所", "安福派出所"]
    wait_for("every timeline line at the city", lambda: len(timeline(city, case_id, "city-leader")) == len(county_lines), timeout=60)
    city_lines = timeline(city, case_id, "city-leader")
    assert city_lines == county_lines, (city_lines, county_lines)
    escalations = [line for line in city_lines if line[1] == "escalated"]
    assert len(escalations) == 2, city_lines
    # The escalation keeps the time it was made in the county, during the cut.
    made = datetime.fromisoformat(escalations[-1][0].replace("Z", "+00:00"))
    assert abs((made - escalated_at).total_seconds()) < 60, (made, escalated_at)

    # Parties travel only with the case the city now coordinates.
    wait_for("the quiet case at the city", lambda: city_case(city, quiet))
    # Nothing waits in the county now: its next call says the city has every change made
    # before it (a minute behind, for steps whose transaction had not yet begun).
    def said_complete():
        counties = city.ok(f"{FEDERATION}/ListFederatedCounties", {"centreCode": CITY}, as_user="city-leader").get("counties", [])
        return counties if counties and counties[0].get("completeAsOf") else None
    counties = wait_for("临澧县's copies said complete", said_complete, timeout=30)
    assert [c["countyCode"] for c in counties] == [LINLI], counties
    complete = datetime.fromisoformat(counties[0]["completeAsOf"].replace("Z", "+00:00"))
    assert escalated_at - timedelta(seconds=60) <= complete <= datetime.now(CHINA) - timedelta(seconds=59), (complete, escalated_at)
    parties = psql(city_db, f"SELECT parties::text || '|' || array_length(party_names, 1)::text FROM dispute.cases WHERE id = '{case_id}'")
    assert "金大明" in parties, parties
    assert psql(city_db, f"SELECT parties::text FROM dispute.cases WHERE id = '{quiet}'").strip() == "[]"

    # A snapshot sent again (a relay whose commit was lost) changes nothing at the city.
    psql(county_db, f"""
        INSERT INTO dispute.federation_rows (case_id, timeline_id) SELECT case_id, id FROM dispute.timeline WHERE case_id = '{case_id}';
        INSERT INTO dispute.federation_changes (case_id, version) VALUES ('{case_id}', nextval('dispute.federation_versions'));
    """)
    wait_for("the resent snapshot", lambda: psql(county_db, "SELECT count(*) FROM dispute.federation_changes").strip() == "0", timeout=60)
    assert timeline(city, case_id, "city-leader") == county_lines
    assert int(psql(city_db, f"SELECT count(*) FROM dispute.rung_attempts WHERE case_id = '{case_id}'")) == 3

    # A step after the link is back reaches the city in seconds; the city cannot take one itself.
    attempt = county.ok(f"{DISPUTE}/StartRung", {"caseId": case_id, "rung": "RUNG_VILLAGE_SECRETARY", "lead": "芭蕉社区书记",
                                                "participants": ["金大明", "李小红"], "bodies": ["安福派出所"]},
                        as_user="linli-admin")["attempt"]["id"]
    wait_for("the new rung at the city", lambda: len((city_case(city, case_id) or {}).get("rungs", [])) == 4, timeout=30)
    status, refused = city.call(f"{DISPUTE}/EndRung", {"caseId": case_id, "attemptId": attempt, "outcome": "RUNG_OUTCOME_EASED",
                                                       "note": "市里登记"}, "city-admin")
    assert status == 400 and refused["code"] == "failed_precondition" and LINLI in refused["message"], (status, refused)

    # The city's pages: its leader sees both cases of 临澧县 once each, and the escalated one's steps.
    context, page = sign_in(browser, city.url("gateway"), "city-leader")
    try:
        # The city's day says up to when 临澧县's figures go.
        page.goto(f"{city.url('gateway')}/ui/?centre={CITY}")
        copies = page.locator("#county-copies").inner_text()
        assert "临澧县：数据截至" in copies and "最后联系" in copies, copies
        page.goto(f"{city.url('gateway')}/ui/?centre={LINLI}")
        links = page.locator(f"#cases a[href='/ui/cases/{case_id}']")
        assert links.count() == 1, page.inner_text("main")
        page.goto(f"{city.url('gateway')}/ui/cases/{case_id}")
        summary = page.locator("#summary").inner_text()
        assert "统筹中心：常德市" in summary, summary
        # A copy: whose it is, and no step to take here but handing it back, the city coordinating it.
        assert "临澧县" in page.locator("#owner").inner_text() and "只读" in page.locator("#owner").inner_text()
        assert page.locator("main form").count() == 1 and page.locator("form#hand-back").count() == 1, page.inner_text("main")
        assert page.locator("#summons p.summons").count() == 3
        text = page.locator("#timeline").inner_text()
        assert text.count("上报上级中心") == 2, text
        shot(page, "federation-city-case")
        # The city hands the case back to 临澧县 while the link is cut again: the order waits.
        link.cut()
        page.locator("form#hand-back").get_by_label("交回说明").fill("市里已协调跨县人员，交回临澧县继续调解")
        submit(page, "hand-back", "交回下级中心")
        assert "待县级平台同步" in page.inner_text("main"), page.inner_text("main")
    finally:
        context.close()
    assert county.ok(f"{DISPUTE}/GetCase", {"caseId": case_id}, as_user="linli-admin")["case"]["coordinatorCode"] == CITY
    assert psql(city_db, "SELECT count(*) FROM dispute.federation_orders WHERE applied_at IS NULL") == "1"
    link.restore()
    wait_for("the hand-back applied in the county", lambda: county.ok(
        f"{DISPUTE}/GetCase", {"caseId": case_id}, as_user="linli-admin")["case"]["coordinatorCode"] == LINLI, timeout=60)
    wait_for("the city's copy handed back", lambda: (city_case(city, case_id) or {}).get("case", {}).get("coordinatorCode") == LINLI,
             timeout=60)
    wait_for("the order's outcome at the city", lambda: psql(
        city_db, "SELECT count(*) FROM dispute.federation_orders WHERE applied_at IS NOT NULL AND outcome_code = ''") == "1", timeout=60)
    handed_back = [line for line in timeline(county, case_id, "linli-admin") if line[1] == "handed_back"]
    assert len(handed_back) == 1 and "交回临澧县继续调解" in handed_back[0][2], handed_back

    # The city's window takes no new case in 临澧县, whose own platform records its cases: the
    # clerk is told so beside the form, in words, and nothing is recorded at the city.
    cases_at_city = psql(city_db, f"SELECT count(*) FROM dispute.cases WHERE village_code = '{BAJIAO}'")
    context, page = sign_in(browser, city.url("gateway"), "city-admin")
    try:
        page.goto(f"{city.url('gateway')}/ui/intake?centre={ANFU}")
        form = page.locator("form#intake")
        form.get_by_label("村（社区）").select_option(label=BAJIAO_NAME)
        form.get_by_label("纠纷类别").select_option(label="邻里")
        form.get_by_label("纠纷情况").fill("两户因宅基地界址争执，到市中心窗口求助")
        form.get_by_label("当事人 1 姓名").fill("周某")
        form.get_by_label("当事人 2 姓名").fill("吴某")
        submit(page, "intake", "受理")
        text = page.inner_text("main")
        assert "临澧县独立部署了平台" in text and "county" not in text, text
    finally:
        context.close()
    assert psql(city_db, f"SELECT count(*) FROM dispute.cases WHERE village_code = '{BAJIAO}'") == cases_at_city

    # The city's index counts the county's cases once: one of its two cases saw violence. The
    # county's grid comes in the counts the county's index-service sends: two cases found by
    # its one grid. The grid the city still holds in 芭蕉社区 is not counted beside it: the
    # county's counts stand in for the city's own there.
    month = datetime.now(CHINA).strftime("%Y-%m")
    wait_for("the county's counts at the city", lambda: psql(
        city_db, f"SELECT count(*) FROM index.county_counts WHERE county_code = '{LINLI}' AND month = '{month}' AND grids = 1") == "1",
        timeout=60)
    city.ok(f"{INDEX}/ComputeMonthlyIndex", {"month": month}, as_user="city-admin")
    scores = city.ok(f"{INDEX}/GetRanking", {"parentCode": LINLI, "month": month}, as_user="city-leader")["scores"]
    anfu = next(s for s in scores if s["code"] == ANFU)
    violence = next(i for i in anfu["indicators"] if i["indicator"] == "violence_free")
    assert violence.get("enoughData") and violence["value"] == pytest.approx(0.5), violence
    found = next(i for i in anfu["indicators"] if i["indicator"] == "disputes_found_per_grid")
    assert found["value"] == pytest.approx(2.0), found


def test_the_city_takes_a_countys_cases_only_with_its_key_and_inside_its_subtree(meshes) -> None:
    city, city_db, _, _, _, _ = meshes
    lixian_key = issue_key(city, "lixian-relay", LIXIAN, "federation")
    staff_key = issue_key(city, "linli-staff-key", LINLI, "staff")

    def send(key: str, village: str, case_id: str | None = None) -> tuple[int, dict]:
        snapshot = {"caseId": case_id or str(uuid.uuid4()), "villageCode": village, "version": "1",
                    "rows": json.dumps({"case": {"village_code": village}})}
        status, body = city.post("gateway", "/pingan.dispute.v1.FederationService/ReceiveCases",
                                 json.dumps({"snapshots": [snapshot]}).encode(),
                                 {"Content-Type": "application/json", "X-Api-Key": key})
        return status, json.loads(body or b"{}")

    # 澧县's relay presenting a case of 临澧县: refused for good (the relay parks it).
    status, answer = send(lixian_key, BAJIAO)
    assert status == 200 and answer["outcomes"][0]["code"] == "invalid_argument", answer
    assert LIXIAN in answer["outcomes"][0]["message"] and BAJIAO in answer["outcomes"][0]["message"], answer
    # Nor may it replace 临澧县's copy by naming its id with a village of its own.
    linli_copy = psql(city_db, f"SELECT id FROM dispute.cases WHERE federated_from = '{LINLI}' LIMIT 1").strip()
    assert linli_copy, "the first test left no copy of 临澧县's cases"
    status, answer = send(lixian_key, LIXIAN_VILLAGE, linli_copy)
    assert status == 200 and answer["outcomes"][0]["code"] == "invalid_argument" and LINLI in answer["outcomes"][0]["message"], answer
    assert psql(city_db, f"SELECT federated_from FROM dispute.cases WHERE id = '{linli_copy}'").strip() == LINLI
    # A key without the federation role, or none, sends nothing.
    status, answer = send(staff_key, BAJIAO)
    assert status == 403 and answer["code"] == "permission_denied", answer
    status, answer = send("not-a-key-" + "x" * 30, BAJIAO)
    assert status == 401 and answer["code"] == "unauthenticated", answer
    # The county's own key may not be issued with other roles beside it.
    status, answer = city.call("/pingan.gateway.v1.AdminService/IssueApiKey",
                               {"name": "linli-mixed", "centreCode": LINLI, "roles": ["federation", "staff"]}, "city-admin")
    assert status == 400 and answer["code"] == "invalid_argument", answer
    status, answer = city.call("/pingan.gateway.v1.AdminService/IssueApiKey",
                               {"name": "anfu-relay", "centreCode": ANFU, "roles": ["federation"]}, "city-admin")
    assert status == 400 and "county" in answer["message"], answer


def test_a_grid_the_city_kept_in_the_county_sends_its_worker_to_the_countys_platform(browser, meshes) -> None:  # noqa: F811
    """Once 临澧县 runs its own platform, the grid the city still holds in 芭蕉社区 takes no
    report: the worker, on a phone at the city's address, is told to report on the county's
    platform, and the city records nothing that nobody would mediate."""
    city, city_db, _, _, _, (grid, member) = meshes
    # grid-service reads which counties run their own platform every 10 s.
    wait_for("the city's grid-service to know 临澧县 runs its own platform",
             lambda: LINLI in psql(city_db, "SELECT county_code FROM grid.federated_counties").split(), timeout=60)
    gateway = city.url("gateway")
    context, page = sign_in(browser, gateway, "city-bajiao-grid", **PHONE)
    try:
        page.goto(f"{gateway}/ui/grid?grid={grid}&member={member}")
        page.get_by_label("纠纷类别").select_option(label="邻里")
        page.get_by_label("事情经过").fill("两户因门前排水沟争吵，邻居劝开。")
        page.get_by_label("当事人 1 姓名").fill("金大明")
        with page.expect_navigation() as refused:
            page.get_by_role("button", name="提交上报").click()
        assert refused.value.status == 409
        assert page.get_by_role("alert").inner_text() == "所选网格属于临澧县，该县已独立运行本县平台，网格的上报和排查请到该县平台办理。"
        # What was typed is still there, to report on the county's platform.
        assert page.get_by_label("事情经过").input_value() == "两户因门前排水沟争吵，邻居劝开。"
        shot(page, "grid-report-county-platform-phone")
    finally:
        context.close()
    assert psql(city_db, f"SELECT count(*) FROM grid.incidents WHERE grid_id = '{grid}'") == "0"
