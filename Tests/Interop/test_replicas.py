"""Two replicas of every service against one PostgreSQL (issue 12): correct, the work shared.

Two complete sets of the six executables run on one database; each set's services call their
own set's peers, as two pods per service behind per-set addresses would. Reports come in
through both gateways. Every relay and webhook dispatcher claims with `FOR UPDATE SKIP
LOCKED`, so the two sets share the outboxes: an event written through one set may be relayed
by the other. What must hold is what holds for one: each report opens exactly one case and
one assessment, each warning is delivered once per subscription (one delivery id; a retry
keeps its id), nothing is lost, and both sets did part of the work.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import subprocess
import threading
import time
import urllib.request
import uuid

import pytest

from conftest import _bin_dir, _free_port, _psql, _with_database
from mesh import EXECUTABLES, SERVICES, TOWN_A, Mesh, compile_contracts, load_methods, seed, start_mesh, stop_mesh, wait_ready

REPORTS = 40


class Receiver(http.server.ThreadingHTTPServer):
    """A centre's webhook endpoint: keeps every delivery it is sent, by delivery id."""

    def __init__(self, port: int) -> None:
        self.seen: dict[str, list[dict]] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with receiver.lock:
                    receiver.seen.setdefault(self.headers["X-Pingan-Delivery"], []).append(body)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        super().__init__(("127.0.0.1", port), Handler)


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory):
    modules = compile_contracts(tmp_path_factory.mktemp("contracts"))
    logs = tmp_path_factory.mktemp("replicas")
    # Forty neighbour disputes in one township within a minute are a cluster (risk-models.json's
    # any-township-7d), whose inhibition would hold back the member cases' own pushes; this test
    # is about replicas, so its risk-services run with a land rule alone.
    rules = logs / "cluster-rules.json"
    rules.write_text(json.dumps({"versions": [{"version": "replicas-1", "from": "2026-01-01", "rules": [
        {"id": "land-village-14d", "kind": "incidents_in_place", "label": "同一村14天内土地纠纷达6起", "category": "land",
         "scope": "village", "count": 6, "windowDays": 14, "warns": "township"}]}]}))
    first, processes, database = start_mesh(logs, {"CLUSTER_RULES_FILE": str(rules)})
    second = Mesh(ports={service: _free_port() for service in SERVICES}, grpc_port=0, tokens=dict(first.tokens))
    peers = {f"{peer.upper()}_URL": second.url(peer) for peer in SERVICES if peer != "gateway"}
    try:
        for service in SERVICES:
            log = (logs / f"{service}-2.log").open("wb")
            processes.append(subprocess.Popen(
                [str(_bin_dir() / EXECUTABLES[service])], env={**first.env_for(service), **peers, "PORT": str(second.ports[service])},
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            ))
        wait_ready(second, SERVICES, logs)
        load_methods(first, modules)
        seed(first)
        yield first, second, database
    finally:
        stop_mesh(processes, database)


def served(mesh: Mesh, service: str, method: str) -> int:
    """How many calls of `method` the replica's `service` answered ok, from its /metrics."""
    with urllib.request.urlopen(f"{mesh.url(service)}/metrics", timeout=10) as response:
        text = response.read().decode()
    pattern = re.compile(r'pingan_rpc_requests_total\{method="' + re.escape(method) + r'",code="ok"\} (\d+)')
    return sum(int(count) for count in pattern.findall(text))


def test_two_replicas_share_the_work_and_lose_or_double_nothing(replicas) -> None:
    first, second, database = replicas
    # The one loopback port the mesh allows besides port 9 (WEBHOOK_ALLOWED_HOSTS is host:port).
    receiver = Receiver(first.receiver_port)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        first.ok("/pingan.notify.v1.NotifyService/Subscribe", {
            "centreCode": TOWN_A, "url": f"http://127.0.0.1:{receiver.server_address[1]}/hook", "secret": "a-shared-secret-of-24-b",
        }, as_user="town-a")
        incidents = []
        for number in range(REPORTS):
            mesh = first if number % 2 == 0 else second
            status, answer = mesh.call("/pingan.grid.v1.GridService/ReportIncident", {
                "requestId": str(uuid.uuid4()), "gridId": first.records["grid"], "reporterMemberId": first.records["member"],
                "category": "INCIDENT_CATEGORY_NEIGHBOUR", "description": f"两个副本 {number}：邻里纠纷，扬言动手",
                "parties": [{"name": f"副本{uuid.uuid4().hex[:8]}"}], "threatOfViolence": True, "repeatIncident": True,
            }, "town-a")
            assert status == 200, answer
            incidents.append(answer["incident"]["id"])

        admin = os.environ["PINGAN_TEST_DATABASE_URL"]

        def scalar(sql: str) -> str:
            result = subprocess.run([_psql(), _with_database(admin, database), "-XtAc", sql], capture_output=True, text=True, timeout=30)
            assert result.returncode == 0, result.stderr
            return result.stdout.strip()

        ids = ",".join(f"'{incident}'" for incident in incidents)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            warnings = int(scalar(f"""SELECT count(*) FROM risk.warnings w JOIN dispute.case_incidents i ON i.case_id = w.case_id
                                      WHERE i.incident_id IN ({ids})"""))
            with receiver.lock:
                delivered = len(receiver.seen)
            if warnings == REPORTS and delivered >= REPORTS:
                break
            time.sleep(0.3)

        # One case per report, one assessment per case, one warning per case.
        assert scalar(f"SELECT count(*) FROM dispute.case_incidents WHERE incident_id IN ({ids})") == str(REPORTS)
        assert scalar(f"SELECT count(DISTINCT case_id) FROM dispute.case_incidents WHERE incident_id IN ({ids})") == str(REPORTS)
        assert scalar(f"""SELECT count(*) FROM risk.assessments a JOIN dispute.case_incidents i ON i.case_id = a.case_id
                          WHERE i.incident_id IN ({ids})""") == str(REPORTS)
        assert scalar(f"""SELECT count(*) FROM risk.warnings w JOIN dispute.case_incidents i ON i.case_id = w.case_id
                          WHERE i.incident_id IN ({ids})""") == str(REPORTS)
        # Each warning reached the receiver under exactly one delivery id; a resend keeps it.
        with receiver.lock:
            seen = dict(receiver.seen)
        warnings_seen = [bodies[0]["warning_id"] for bodies in seen.values()]
        assert len(warnings_seen) == REPORTS, f"{len(warnings_seen)} deliveries for {REPORTS} warnings"
        assert len(set(warnings_seen)) == REPORTS, "a warning was delivered under two delivery ids"
        assert {bodies[0]["incident_id"] for bodies in seen.values()} == set(incidents)
        # Nothing stuck: every outbox drained.
        for schema in ("grid", "dispute", "risk"):
            assert scalar(f"SELECT count(*) FROM {schema}.outbox WHERE delivered_at IS NULL AND parked_at IS NULL") == "0", schema
        # Both sets did part of the work: each replica's dispute-service took batches of
        # incidents from its own set's grid relay.
        batches = [served(mesh, "dispute", "/pingan.events.v1.EventService/DeliverEvents") for mesh in (first, second)]
        assert all(count > 0 for count in batches), batches
    finally:
        receiver.shutdown()
