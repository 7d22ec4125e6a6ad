"""Pingan's webhooks checked by a Standard Webhooks verifier nobody here wrote (issue 30).

The `standardwebhooks` package from PyPI (the specification's own Python library) verifies
what notify-service posts to a receiver on `mesh.receiver_port`: it accepts a delivery,
refuses the same delivery replayed after its five-minute tolerance, and refuses one signed
only with a secret that a rotation has retired. During a rotation's overlap both secrets
verify.
"""

from __future__ import annotations

import base64
import http.server
import json
import secrets
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from unittest import mock

import pytest
from standardwebhooks import webhooks
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from mesh import TOWN_A, Mesh


class Receiver(http.server.ThreadingHTTPServer):
    """A centre's endpoint: keeps each delivery's headers and raw body, answers 204."""

    def __init__(self, port: int) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        super().__init__(("127.0.0.1", port), Handler)

    def delivery_of(self, incident: str, timeout: float = 60) -> tuple[dict[str, str], bytes]:
        """The webhook delivery of the warning raised from `incident`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for headers, body in self.received:
                    if json.loads(body).get("incident_id") == incident:
                        return headers, body
            time.sleep(0.2)
        raise AssertionError(f"no delivery of the warning from incident {incident}")


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def report_warning(mesh: Mesh) -> str:
    """Reports a neighbours' feud with a threat of violence: a new case that warns (100)."""
    answer = mesh.ok("/pingan.grid.v1.GridService/ReportIncident", {
        "requestId": str(uuid.uuid4()), "gridId": mesh.records["grid"], "reporterMemberId": mesh.records["member"],
        "category": "INCIDENT_CATEGORY_NEIGHBOUR", "description": "邻里纠纷，扬言动手",
        "parties": [{"name": f"邻居{uuid.uuid4().hex[:6]}"}], "threatOfViolence": True, "repeatIncident": True,
    }, as_user="town-a")
    return answer["incident"]["id"]


def later(minutes: float):
    """The verifier's clock moved on by `minutes`: what a replay that late looks like to it."""
    real = datetime

    class Later(datetime):
        @classmethod
        def now(cls, tz=None):  # noqa: D102 - the datetime name
            return real.now(tz) + timedelta(minutes=minutes)

    return mock.patch.object(webhooks, "datetime", Later)


@pytest.fixture(scope="module")
def receiver(mesh: Mesh):
    server = Receiver(mesh.receiver_port)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


def test_a_standard_verifier_accepts_pingans_deliveries_and_refuses_replays_and_retired_secrets(mesh: Mesh, receiver: Receiver) -> None:
    first = new_secret()
    subscription = mesh.ok("/pingan.notify.v1.NotifyService/Subscribe", {
        "centreCode": TOWN_A, "url": f"http://127.0.0.1:{mesh.receiver_port}/hook", "secret": first,
        "eventTypes": ["warning.raised"],
    }, as_user="city-admin")["subscription"]["id"]

    # Accepted, fresh: the body is Pingan's JSON, codes with the Chinese beside them.
    headers, body = receiver.delivery_of(report_warning(mesh))
    payload = Webhook(first).verify(body, headers)
    assert headers["webhook-id"] == payload["delivery_id"] == headers["x-pingan-delivery"]
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 120
    assert payload["type"] == "warning.raised" and payload["level"] in {"RISK_LEVEL_SERIOUS", "RISK_LEVEL_MAJOR"}
    assert "有暴力威胁 +40" in payload["text"] and "threat_of_violence" not in payload["text"]
    assert {factor["code"] for factor in payload["factors"]} >= {"category", "threat_of_violence"}
    assert payload["link"].endswith(f"/ui/cases/{payload['case_id']}")
    # The old header still comes, for one release.
    assert headers["x-pingan-signature"].startswith("sha256=")

    # Replayed after the tolerance: refused, though every byte is Pingan's.
    with later(6), pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(first).verify(body, headers)
    # A tampered body is refused too.
    with pytest.raises(WebhookVerificationError):
        Webhook(first).verify(body.replace(b"warning.raised", b"warning.closed"), headers)

    # A rotation with an hour's overlap: both secrets sign, either verifies.
    second = new_secret()
    rotated = mesh.ok("/pingan.notify.v1.NotifyService/RotateSecret",
                      {"subscriptionId": subscription, "secret": second, "overlapSeconds": 3600}, as_user="city-admin")
    assert rotated["subscription"]["id"] == subscription
    headers, body = receiver.delivery_of(report_warning(mesh))
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(first).verify(body, headers)
    Webhook(second).verify(body, headers)

    # Rotated again with a one-second overlap, which then ends: the retired secret no longer
    # signs, and a receiver still holding it refuses the delivery.
    third = new_secret()
    mesh.ok("/pingan.notify.v1.NotifyService/RotateSecret",
            {"subscriptionId": subscription, "secret": third, "overlapSeconds": 1}, as_user="city-admin")
    time.sleep(1.5)
    headers, body = receiver.delivery_of(report_warning(mesh))
    assert len(headers["webhook-signature"].split(" ")) == 1
    Webhook(third).verify(body, headers)
    for retired in (first, second):
        with pytest.raises(WebhookVerificationError, match="No matching signature"):
            Webhook(retired).verify(body, headers)


def test_only_a_webhook_is_signed(mesh: Mesh) -> None:
    # A WeCom robot is not signed: a secret given is not kept, none is needed.
    robot = mesh.ok("/pingan.notify.v1.NotifyService/Subscribe", {
        "centreCode": TOWN_A, "url": "http://127.0.0.1:9/robot", "channel": "CHANNEL_WECOM",
    }, as_user="city-admin")["subscription"]["id"]
    status, answer = mesh.call("/pingan.notify.v1.NotifyService/RotateSecret",
                               {"subscriptionId": robot, "secret": new_secret()}, "city-admin")
    assert status == 400 and answer["code"] == "failed_precondition", answer
    # A webhook needs one, in either form.
    status, answer = mesh.call("/pingan.notify.v1.NotifyService/Subscribe", {
        "centreCode": TOWN_A, "url": "http://127.0.0.1:9/hook2", "secret": "whsec_dG9vIHNob3J0IGtleQ==",
    }, "city-admin")
    assert status == 400 and answer["code"] == "invalid_argument" and "secret" in answer["message"], answer
