"""Fuzzing and a BOLA sweep over every method of every contract, against the whole mesh.

Both are generated from the .proto files (the same method table the services route by):
- the fuzz sends each method valid requests with one field mutated, wrong JSON types, random
  bytes and odd headers, through the gateway and straight to the owning service, and
  requires a Connect error that is never `internal` or `unknown`, never a 5xx without a
  Connect body, and every service ready afterwards;
- the sweep sends every method that names a record or a division a request aimed at a
  record of 小渡口镇 from a sibling township and from a township of another county, and
  requires `permission_denied` or `not_found` (or, for a list filtered to what the caller
  may see, an empty answer), answered exactly as for a record that does not exist.
"""

from __future__ import annotations

import base64
import json
from collections import Counter, defaultdict
import random
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone


from google.protobuf.descriptor import FieldDescriptor

from conftest import principal_header
from contract_comments import COMMON_CODES, documented_errors
from mesh import TOWN_A, VILLAGE_A, Mesh, Method

INPUTS_PER_RUN = 10_000
CHINA = timezone(timedelta(hours=8))

# Fields that name a record of town A, by the record seeded for them.
ID_FIELDS = {
    "case_id": "case", "warning_id": "warning", "grid_id": "grid", "reporter_member_id": "member",
    "attempt_id": "attempt", "summons_id": "summons", "subscription_id": "subscription", "department_ids": "department",
    "department_id": "department",
}
# Reference data anyone may read, and methods only the mesh itself calls.
PUBLIC = {"/pingan.grid.v1.DivisionService/GetDivision", "/pingan.grid.v1.DivisionService/BatchGetDivisions",
          "/pingan.grid.v1.DivisionService/ListChildren",
          "/pingan.grid.v1.DivisionService/ListSubtree"}
ROOT_ONLY = {"/pingan.index.v1.IndexService/ComputeMonthlyIndex"}


# Values a plausible request carries where the field's type alone would not do.
PLAUSIBLE = {
    "source": "CASE_SOURCE_HOTLINE",  # a grid report arrives from grid-service only
    "departments": ["派出所", "司法所", "综治中心"],  # a major dispute (1350) names three or more
    "resident_representatives": 50,
    "event_types": ["case.escalated"],
    "event_type": "case.escalated",
    "roles": ["staff"],
    "password": "correct-horse-battery-staple",
    # Residents' requests: a tracking id's shape, a spot in Changde, a photo by URL.
    "tracking_id": "PA00000000",
    "tracking_ids": ["PA00000000"],
    "latitude": "29.6",
    "longitude": "111.7",
    "media_urls": ["https://example.org/photo.jpg"],
}
# Whole files the import methods take, by request message.
CSV = {
    "ImportDivisionsRequest": f"code,name,level,parent_code\n{VILLAGE_A},小渡口一村（生成）,village,{TOWN_A}\n",
    "LoadSurveyResultsRequest": f"division_code,respondents,satisfied\n{VILLAGE_A},10,8\n",
    "LoadCalendarRequest": "date,kind,holiday,holiday_zh\n2026-10-01,holiday,National Day,国庆节\n",
}
# Names that must be plain ASCII: accounts, keys and department systems' key names.
ASCII_NAMES = {"username", "api_key_name"}


def baseline(descriptor, records: dict[str, str], depth: int = 0) -> dict:
    """A request that names town A's records and divisions and is otherwise plausible."""
    now = datetime.now(CHINA)
    message: dict = {}
    for f in descriptor.fields:
        name = f.name
        repeated = f.is_repeated if hasattr(f, "is_repeated") else f.label == FieldDescriptor.LABEL_REPEATED
        value: object
        if name in ID_FIELDS:
            value = records[ID_FIELDS[name]]
        elif name in PLAUSIBLE:
            value = PLAUSIBLE[name]
        elif name == "csv" and descriptor.name in CSV:
            value = CSV[descriptor.name]
        elif name in ASCII_NAMES or (name == "name" and descriptor.full_name.startswith("pingan.gateway.")):
            value = f"fuzz-{uuid.uuid4().hex[:8]}"
        elif name.endswith("_id") and f.type == FieldDescriptor.TYPE_STRING and name != "request_id":
            value = str(uuid.uuid4())
        elif name.endswith("_code") or name == "code":
            value = VILLAGE_A if name == "village_code" else TOWN_A
        elif name == "codes":
            value = [TOWN_A, VILLAGE_A]
        elif name == "month":
            value = now.strftime("%Y-%m")
        elif name == "read_at":
            value = now.isoformat(timespec="seconds")
        elif name in ("day", "signed_on", "since", "until"):
            value = now.strftime("%Y-%m-%d")
        elif name == "year":
            value = now.year
        elif name == "phone" and descriptor.name == "FileRequestRequest":
            value = "13800138000"  # a resident's mobile, required there; optional elsewhere
        elif name == "request_id":
            value = str(uuid.uuid4())
        elif name in ("page_token", "phone", "email", "csv", "skip_reason", "department_key", "started_at", "ended_at", "visited_at",
                      "requested_after", "requested_before", "complete_as_of"):
            continue
        elif name == "page_size":
            value = 10
        elif name == "url":
            value = "http://127.0.0.1:9/hook"
        elif name == "secret":
            value = "a-shared-secret-of-24-b"
        elif f.type == FieldDescriptor.TYPE_ENUM:
            value = next((v.name for v in f.enum_type.values if v.number != 0), f.enum_type.values[0].name)
        elif f.type == FieldDescriptor.TYPE_STRING:
            value = "测试"
        elif f.type == FieldDescriptor.TYPE_BOOL:
            value = False
        elif f.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
            value = 1.0
        elif f.type == FieldDescriptor.TYPE_BYTES:
            value = base64.b64encode(b"x").decode()
        elif f.type == FieldDescriptor.TYPE_MESSAGE:
            if depth >= 2:
                continue
            value = baseline(f.message_type, records, depth + 1)
        else:
            value = 1
        message[f.json_name] = [value] if repeated and not isinstance(value, list) else value
    return message


ODD_VALUES = [
    None, "", "x" * 5000, "a\u0000b", "网" + "\u0301" * 300, -1, 2**31, 2**63, 1.5, True, [], {}, "not-a-uuid",
    "999999999999", "2026-13", "💥" * 100, {"nested": {"deeper": [1, 2]}}, "\ud7ff\ue000", "' OR 1=1 --",
]


def fuzzed_inputs(mesh: Mesh, rng: random.Random):
    """Yields (method, body bytes, headers) until INPUTS_PER_RUN inputs across both targets."""
    methods = mesh.methods
    count = 0
    while count < INPUTS_PER_RUN // 2:
        method = methods[count % len(methods)]
        body = baseline(method.input, mesh.records)
        headers = {"Content-Type": "application/json"}
        kind = rng.random()
        if kind < 0.6 and method.input.fields:
            field = rng.choice(method.input.fields).json_name
            value = rng.choice(ODD_VALUES)
            if value is None:
                body.pop(field, None)
            else:
                body[field] = value
            data = json.dumps(body, ensure_ascii=rng.random() < 0.5).encode()
        elif kind < 0.7:
            body[f"unknown_{rng.randrange(1000)}"] = rng.choice(ODD_VALUES[1:])
            data = json.dumps(body).encode()
        elif kind < 0.8:
            headers["Content-Type"] = "application/proto"
            data = rng.randbytes(rng.randrange(0, 200))
        elif kind < 0.9:
            data = rng.choice([b"{", b"[]", b"null", b"\"text\"", b"{\"a\":", rng.randbytes(50)])
        else:
            data = json.dumps(body).encode()
            headers.update(rng.choice([
                {"Connect-Timeout-Ms": "abc"}, {"Connect-Timeout-Ms": "99999999999"}, {"Connect-Timeout-Ms": "0"},
                {"Content-Type": "application/x-unknown"}, {"Content-Encoding": "br"}, {"Content-Encoding": "gzip"},
                {"Connect-Protocol-Version": "9"},
                {"Authorization": "Bearer not-a-token"}, {"Pingan-Principal": "forged.value"},
            ]))
        count += 1
        yield method, data, headers


def check(status: int, body: bytes) -> str | None:
    """What is wrong with an answer, or None."""
    if status == 200:
        return None
    try:
        error = json.loads(body)
    except ValueError:
        return f"HTTP {status} without a Connect error body: {body[:200]!r}"
    code = error.get("code") if isinstance(error, dict) else None
    if not isinstance(code, str):
        return f"HTTP {status} body is not a Connect error: {body[:200]!r}"
    if code in ("internal", "unknown"):
        return f"{code}: {error.get('message')}"
    return None


def test_fuzz_every_method_through_the_gateway_and_directly(mesh: Mesh) -> None:
    """At least 10,000 inputs per run, half through the gateway as a township's user and half
    straight to the owning service with a signed principal (a fifth of those the mesh's own)."""
    rng = random.Random(20261128)
    person = principal_header(TOWN_A, ["staff", "mediator", "grid_worker", "leader", "admin"], subject="user:fuzz")
    system = principal_header("430700000000", ["system"], subject="service:fuzz")
    failures: list[str] = []

    codes: Counter = Counter()
    # The codes each method answered to requests with no odd header (a header's own refusals,
    # unimplemented for an unknown encoding say, belong to the protocol, not the method).
    answered: dict[str, set[str]] = defaultdict(set)

    def send(item) -> list[str]:
        method, data, headers = item
        problems = []
        gateway = {"Authorization": f"Bearer {mesh.tokens['town-a']}", **headers}
        direct = {PRINCIPAL: system if rng.random() < 0.2 else person, "Pingan-Event-Id": str(uuid.uuid4()), **headers}
        for target, sent in (("gateway", gateway), (method.owner, direct)):
            status, body = mesh.post(target, method.path, data, sent)
            try:
                code = json.loads(body).get("code", "?") if status != 200 else "ok"
            except (ValueError, AttributeError):
                code = "?"
            codes[code] += 1
            if set(headers) == {"Content-Type"}:
                answered[method.path].add(code)
            problem = check(status, body)
            if problem:
                problems.append(f"{method.path} via {target} with {data[:120]!r} {headers}: {problem}")
        return problems

    inputs = list(fuzzed_inputs(mesh, rng))
    with ThreadPoolExecutor(max_workers=8) as pool:
        for problems in pool.map(send, inputs):
            failures.extend(problems)
    assert len(inputs) * 2 >= INPUTS_PER_RUN
    assert {m.path for m, _, _ in inputs} == {m.path for m in mesh.methods}
    assert not failures, f"{len(failures)} bad answers, e.g.:\n" + "\n".join(failures[:15])
    # The inputs reach past the front door: many are refused by field, and some succeed.
    assert codes["invalid_argument"] > INPUTS_PER_RUN // 10 and codes["ok"] > INPUTS_PER_RUN // 50, codes
    assert all(state == 200 for state in mesh.ready().values()), mesh.ready()
    # And each method answers only the codes its contract's `Errors:` line names.
    documented = documented_errors()
    undocumented = {path: sorted(seen - {"ok"} - COMMON_CODES - documented.get(path, frozenset()))
                    for path, seen in answered.items()}
    assert not any(undocumented.values()), {path: codes for path, codes in undocumented.items() if codes}


PRINCIPAL = "Pingan-Principal"


def aimed_at_town_a(method: Method) -> bool:
    names = {f.name for f in method.input.fields}
    return method.path not in PUBLIC | ROOT_ONLY and method.service != "pingan.gateway.v1.AuthService" and (
        bool(names & set(ID_FIELDS)) or any(n.endswith("_code") or n == "code" for n in names)
    ) and not method.name.startswith("Deliver") and method.name not in ("OpenCase", "AssessCase")


def test_bola_sweep_from_a_sibling_township_and_another_county(mesh: Mesh) -> None:
    swept = [m for m in mesh.methods if aimed_at_town_a(m)]
    assert len(swept) >= 30, [m.path for m in swept]
    failures = []
    for method in swept:
        request = baseline(method.input, mesh.records)
        ids = [name for name in ID_FIELDS if name in {f.name for f in method.input.fields}]
        for caller in ("town-b", "foreign"):
            status, answer = mesh.call(method.path, request, caller)
            code = answer.get("code")
            if status == 200 and not any(answer.values()):
                # A list filtered to what the caller may see: nothing, exactly as for a record
                # that does not exist.
                continue
            if code not in ("permission_denied", "not_found"):
                failures.append(f"{method.path} as {caller}: {status} {answer}")
                continue
            if code == "not_found" and ids:
                # A record that does not exist answers the same, word for word.
                missing = json.loads(json.dumps(request))
                placeholders = {}
                for name in ids:
                    json_name = next(f.json_name for f in method.input.fields if f.name == name)
                    fresh = str(uuid.uuid4())
                    placeholders[fresh] = mesh.records[ID_FIELDS[name]]
                    missing[json_name] = [fresh] if isinstance(request[json_name], list) else fresh
                _, other = mesh.call(method.path, missing, caller)
                text = other.get("message", "")
                for fresh, real in placeholders.items():
                    text = text.replace(fresh, real)
                if (other.get("code"), text) != (code, answer.get("message")):
                    failures.append(f"{method.path} as {caller}: {answer} but for a missing record {other}")
    assert not failures, "\n".join(failures)
