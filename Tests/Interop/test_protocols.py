"""Every method of every contract, through the gateway, in every protocol the mesh serves.

The same baseline request (test_fuzz.baseline: town A's seeded records) is sent as the
township user "town-a" (a bearer token) and as a department system (an API key made with
`gateway add-api-key`), by clients nobody in this project wrote:

- Connect JSON over http.client: the reference answer;
- connectrpc (generated from Shared/Proto at test time) with its defaults: Connect, binary
  protobuf, gzip request bodies; and with the JSON codec; and as gRPC-Web (proto and JSON);
  and as gRPC over cleartext HTTP/2 to the gateway's GRPC_PORT;
- grpcio on GRPC_PORT;
- gRPC-Web by hand over http.client, to check the framing byte by byte;
- `buf curl` with the Connect protocol (binary) and with `--protocol grpc --http2-prior-knowledge`.

Every answer must be a well-formed answer of its protocol and never `internal`, `unknown` or
`unimplemented`. Methods marked `idempotency_level = NO_SIDE_EFFECTS` must answer with the
reference's code in every protocol, and with an equal message when the reference succeeded.
Other methods change something, so each protocol's call is a repeat of the reference's: its
code must be one a repeat may give. Methods only the mesh itself may call (`.system` in
Shared/Access/MethodRoles.swift) are `permission_denied` in every protocol. A gzip bomb is
`resource_exhausted` in each protocol, and tiny deadlines are honoured. By hand over h2c, a
gRPC answer must end with a trailers HEADERS frame, and pings between calls (as grpcio's BDP
probes) must not close the connection.

Runs in about 25 s: `buf curl` is one process per call (about 0.4 s), so the read-only
methods' calls run side by side and the others one after another.
"""

from __future__ import annotations

import gzip
import http.client
import importlib
import json
import re
import shutil
import socket
import subprocess
import sys
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import grpc
import pytest
from connectrpc.client import ResponseMetadata
from connectrpc.compat import google_protobuf_json_codec
from connectrpc.errors import ConnectError
from connectrpc.protocol import ProtocolType
from google.protobuf import descriptor_pb2, json_format
from pyqwest import HTTPVersion, SyncClient, SyncHTTPTransport

from conftest import PROTO_DIR, REPO_ROOT, _bin_dir, _connectrpc_plugin
from mesh import ALL_ROLES, TOWN_A, Mesh
from test_fuzz import baseline

NEVER = {"internal", "unknown", "unimplemented"}
# Besides the first call's own code, what a repeat of a call that changes something may
# legitimately answer: the replay of the same change, or the state having moved on.
REPEAT = {"ok", "already_exists", "failed_precondition", "aborted", "not_found", "resource_exhausted"}
CONNECT_STATUS = {
    "canceled": 499, "unknown": 500, "invalid_argument": 400, "deadline_exceeded": 504, "not_found": 404,
    "already_exists": 409, "permission_denied": 403, "resource_exhausted": 429, "failed_precondition": 400,
    "aborted": 409, "out_of_range": 400, "unimplemented": 501, "internal": 500, "unavailable": 503,
    "data_loss": 500, "unauthenticated": 401,
}
GRPC_CODES = {
    0: "ok", 1: "canceled", 2: "unknown", 3: "invalid_argument", 4: "deadline_exceeded", 5: "not_found",
    6: "already_exists", 7: "permission_denied", 8: "resource_exhausted", 9: "failed_precondition", 10: "aborted",
    11: "out_of_range", 12: "unimplemented", 13: "internal", 14: "unavailable", 15: "data_loss", 16: "unauthenticated",
}
METHOD_ROLES = REPO_ROOT / "Shared" / "Access" / "MethodRoles.swift"
KEY_NAME = "protocols-department"


# ------------------------------------------------------------------------ the mesh


@pytest.fixture(scope="module")
def api_key(mesh: Mesh) -> str:
    result = subprocess.run(
        [str(_bin_dir() / "gateway"), "add-api-key", KEY_NAME, TOWN_A, ALL_ROLES],
        env=mesh.command_env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    key = result.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"pk_\S{64}", key), result.stdout
    return key


def bearer(mesh: Mesh) -> dict[str, str]:
    return {"authorization": f"Bearer {mesh.tokens['town-a']}"}


def keyed(key: str) -> dict[str, str]:
    return {"x-api-key": key}


# --------------------------------------------------------------- generated clients


@dataclass(frozen=True)
class Contract:
    path: str
    input: type
    output: type
    read_only: bool
    system: bool  # only the mesh's own services may call it
    client_class: type  # the generated <Service>ClientSync
    attribute: str  # the client's snake_case method


def system_methods() -> set[str]:
    """(Service short name, method) pairs whose rule is `.system`, e.g. ("Risk", "assessCase")."""
    text = METHOD_ROLES.read_text(encoding="utf-8")
    return {f"{service}/{method.lower()}" for service, method in re.findall(r"(\w+)ServiceMethods\.(\w+)\.path: \.system", text)}


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@pytest.fixture(scope="module")
def contracts(mesh: Mesh, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Contract]:
    """Every method's generated connectrpc client and google.protobuf messages, by path; as
    conftest's `stubs`, but for every .proto file."""
    out = tmp_path_factory.mktemp("connect")
    files = sorted(p.relative_to(PROTO_DIR).as_posix() for p in PROTO_DIR.rglob("pingan/**/*.proto"))
    command = [
        sys.executable, "-m", "grpc_tools.protoc", f"-I{PROTO_DIR}", f"--python_out={out}",
        f"--plugin=protoc-gen-connectrpc={_connectrpc_plugin()}", f"--connectrpc_out={out}",
        "--connectrpc_opt=protobuf=google,io=sync", *files,
    ]
    result = subprocess.run(command, capture_output=True, text=True, cwd=PROTO_DIR)
    assert result.returncode == 0, result.stderr
    # Other modules import some of the same names from elsewhere; import ours, then put theirs back.
    saved = {n: m for n, m in sys.modules.items() if n == "pingan" or n.startswith("pingan.")}
    for name in saved:
        del sys.modules[name]
    sys.path.insert(0, str(out))
    loaded = []
    try:
        importlib.invalidate_caches()
        for file in files:
            stem = file[:-len(".proto")].replace("/", ".")
            loaded.append((importlib.import_module(stem + "_pb2"), importlib.import_module(stem + "_connect")))
    finally:
        sys.path.remove(str(out))
        for name in [n for n in sys.modules if n == "pingan" or n.startswith("pingan.")]:
            del sys.modules[name]
        sys.modules.update(saved)
    system = system_methods()
    found: dict[str, Contract] = {}
    for pb, connect in loaded:
        assert Path(connect.__file__).is_relative_to(out), connect.__file__
        for service in pb.DESCRIPTOR.services_by_name.values():
            client_class = getattr(connect, f"{service.name}ClientSync")
            for method in service.methods:
                level = method.GetOptions().idempotency_level
                attribute = snake(method.name)
                assert hasattr(client_class, attribute), (service.full_name, method.name)
                found[f"/{service.full_name}/{method.name}"] = Contract(
                    path=f"/{service.full_name}/{method.name}",
                    input=getattr(pb, method.input_type.name), output=getattr(pb, method.output_type.name),
                    read_only=level == descriptor_pb2.MethodOptions.NO_SIDE_EFFECTS,
                    system=f"{service.name.removesuffix('Service')}/{method.name.lower()}" in system,
                    client_class=client_class, attribute=attribute,
                )
    assert {m.path for m in mesh.methods} <= set(found), {m.path for m in mesh.methods} - set(found)
    assert sum(c.system for c in found.values()) == len(system), (sorted(system), [p for p, c in found.items() if c.system])
    return found


# ------------------------------------------------------------------------- answers


@dataclass
class Answer:
    code: str  # "ok", a Connect code, or "malformed"
    message: Any = None  # the decoded response when ok
    detail: str = ""

    def __str__(self) -> str:
        return self.code if self.code == "ok" else f"{self.code} ({self.detail[:160]})"


def malformed(why: str) -> Answer:
    return Answer("malformed", detail=why)


def post(port: int, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def media_type(headers: dict[str, str]) -> str:
    return headers.get("content-type", "").split(";")[0].strip().lower()


def connect_json(mesh: Mesh, contract: Contract, request: dict, auth: dict[str, str]) -> Answer:
    """The reference: Connect unary with the JSON codec, no compression, plain HTTP/1.1."""
    status, headers, body = post(mesh.ports["gateway"], contract.path, json.dumps(request, ensure_ascii=False).encode(),
                                 {"Content-Type": "application/json", **auth})
    if media_type(headers) != "application/json":
        return malformed(f"HTTP {status} with Content-Type {headers.get('content-type')!r}: {body[:200]!r}")
    if status == 200:
        try:
            return Answer("ok", json_format.Parse(body, contract.output()))
        except json_format.ParseError as error:
            return malformed(f"the 200 body is not a {contract.output.__name__}: {error}: {body[:200]!r}")
    try:
        error = json.loads(body)
    except ValueError:
        return malformed(f"HTTP {status} body is not JSON: {body[:200]!r}")
    code = error.get("code") if isinstance(error, dict) else None
    if code not in CONNECT_STATUS:
        return malformed(f"HTTP {status} body is not a Connect error: {body[:200]!r}")
    if CONNECT_STATUS[code] != status:
        return malformed(f"code {code} came with HTTP {status}, not {CONNECT_STATUS[code]}")
    return Answer(code, detail=error.get("message", ""))


def grpc_web_by_hand(mesh: Mesh, contract: Contract, message, auth: dict[str, str]) -> Answer:
    """gRPC-Web (binary) over HTTP/1.1, checking the framing: at most one message frame, then
    exactly one trailer frame with a grpc-status, nothing after it."""
    payload = message.SerializeToString()
    frame = b"\x00" + len(payload).to_bytes(4, "big") + payload
    status, headers, body = post(mesh.ports["gateway"], contract.path, frame, {
        "Content-Type": "application/grpc-web+proto", "X-Grpc-Web": "1", "grpc-accept-encoding": "gzip", **auth,
    })
    if status != 200 or media_type(headers) != "application/grpc-web+proto":
        return malformed(f"HTTP {status} Content-Type {headers.get('content-type')!r}: {body[:200]!r}")
    frames = []
    at = 0
    while at < len(body):
        if len(body) - at < 5:
            return malformed(f"a frame header cut short at byte {at}: {body!r}")
        length = int.from_bytes(body[at + 1:at + 5], "big")
        if len(body) - at - 5 < length:
            return malformed(f"a frame of {length} bytes with {len(body) - at - 5} left: {body!r}")
        frames.append((body[at], body[at + 5:at + 5 + length]))
        at += 5 + length
    if not frames or frames[-1][0] != 0x80 or any(flags & 0x80 for flags, _ in frames[:-1]) or len(frames) > 2:
        return malformed(f"frames {[(f, len(d)) for f, d in frames]} are not [message] + trailers")
    try:
        text = frames[-1][1].decode("ascii")
    except UnicodeDecodeError:
        return malformed(f"trailers are not ASCII: {frames[-1][1]!r}")
    if not text.endswith("\r\n"):
        return malformed(f"trailer block does not end with CRLF: {text!r}")
    trailers = {}
    for line in text.split("\r\n")[:-1]:
        name, colon, value = line.partition(":")
        if not colon:
            return malformed(f"trailer line {line!r}")
        trailers[name.strip().lower()] = value.strip()
    number = trailers.get("grpc-status", "")
    if not number.isdigit() or int(number) not in GRPC_CODES:
        return malformed(f"grpc-status {number!r} in {text!r}")
    code = GRPC_CODES[int(number)]
    if code != "ok":
        if len(frames) != 1:
            return malformed(f"{code} with a message frame")
        return Answer(code, detail=urllib.parse.unquote(trailers.get("grpc-message", "")))
    if len(frames) != 2 or frames[0][0] not in (0, 1):
        return malformed(f"ok without exactly one message frame: {[(f, len(d)) for f, d in frames]}")
    data = frames[0][1]
    if frames[0][0] == 1:
        if headers.get("grpc-encoding") != "gzip":
            return malformed(f"a compressed frame with grpc-encoding {headers.get('grpc-encoding')!r}")
        data = gzip.decompress(data)
    try:
        return Answer("ok", contract.output.FromString(data))
    except Exception as error:  # noqa: BLE001 - any decoding failure is malformed
        return malformed(f"the message frame is not a {contract.output.__name__}: {error}")


class Clients:
    """Generated connectrpc clients, one per service and flavour, made on first use."""

    FLAVOURS: dict[str, dict[str, Any]] = {
        "connectrpc default (connect+proto, gzip)": {},
        "connectrpc connect+json": {"codec": google_protobuf_json_codec()},
        "connectrpc grpc-web+proto": {"protocol": ProtocolType.GRPC_WEB},
        "connectrpc grpc-web+json": {"protocol": ProtocolType.GRPC_WEB, "codec": google_protobuf_json_codec()},
        "connectrpc grpc (h2c)": {"protocol": ProtocolType.GRPC},
    }
    # What each flavour's answers must be labelled (errors of the Connect protocol are JSON).
    CONTENT_TYPES = {
        "connectrpc default (connect+proto, gzip)": ("application/proto", "application/json"),
        "connectrpc connect+json": ("application/json", "application/json"),
        "connectrpc grpc-web+proto": ("application/grpc-web+proto",) * 2,
        "connectrpc grpc-web+json": ("application/grpc-web+json",) * 2,
        "connectrpc grpc (h2c)": ("application/grpc+proto",) * 2,
    }

    def __init__(self, mesh: Mesh) -> None:
        self.mesh = mesh
        self.made: dict[tuple[type, str], Any] = {}
        self.h2c = SyncClient(SyncHTTPTransport(http_version=HTTPVersion.HTTP2))

    def call(self, flavour: str, contract: Contract, message, auth: dict[str, str], timeout_ms: int | None = None) -> Answer:
        client = self.made.get((contract.client_class, flavour))
        if client is None:
            options = dict(self.FLAVOURS[flavour])
            address = self.mesh.url("gateway")
            if options.get("protocol") == ProtocolType.GRPC:
                address, options["http_client"] = f"http://127.0.0.1:{self.mesh.grpc_port}", self.h2c
            client = self.made[(contract.client_class, flavour)] = contract.client_class(address, **options)
        metadata = ResponseMetadata()
        try:
            with metadata:
                response = getattr(client, contract.attribute)(message, headers=auth, timeout_ms=timeout_ms)
        except ConnectError as error:
            answer = Answer(error.code.value, detail=error.message)
        else:
            if not isinstance(response, contract.output):
                return malformed(f"answered a {type(response).__name__}")
            answer = Answer("ok", response)
        expected = self.CONTENT_TYPES[flavour][answer.code != "ok"]
        got = (metadata.headers.get("content-type") or "").split(";")[0] if metadata.headers else ""
        # A call refused before it reached the server has no headers (a deadline the client enforced).
        if metadata.http_status is not None and got != expected:
            return malformed(f"{answer} labelled {got!r}, not {expected!r}")
        return answer


GRPCIO_CODES = {status: ("canceled" if status == grpc.StatusCode.CANCELLED else status.name.lower()) for status in grpc.StatusCode}


def grpcio_call(channel: grpc.Channel, contract: Contract, message, auth: dict[str, str], timeout: float = 30,
                compression=None, serializer: Callable | None = None) -> Answer:
    stub = channel.unary_unary(contract.path, request_serializer=serializer or contract.input.SerializeToString,
                               response_deserializer=contract.output.FromString)
    try:
        response = stub(message, metadata=list(auth.items()), timeout=timeout, compression=compression)
    except grpc.RpcError as error:
        return Answer(GRPCIO_CODES[error.code()], detail=error.details() or "")
    return Answer("ok", response)


def buf_curl(mesh: Mesh, contract: Contract, request: dict, auth: dict[str, str], grpc_protocol: bool) -> Answer:
    buf = shutil.which("buf")
    assert buf, "buf is not on PATH (pip install buf-bin)"
    command = [buf, "curl", "--schema", str(PROTO_DIR), "--data", json.dumps(request, ensure_ascii=False)]
    for name, value in auth.items():
        command += ["-H", f"{name}: {value}"]
    if grpc_protocol:
        command += ["--protocol", "grpc", "--http2-prior-knowledge", f"http://127.0.0.1:{mesh.grpc_port}{contract.path}"]
    else:
        command += ["--protocol", "connect", f"{mesh.url('gateway')}{contract.path}"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    if result.returncode == 0:
        try:
            return Answer("ok", json_format.Parse(result.stdout, contract.output()))
        except json_format.ParseError as error:
            return malformed(f"buf curl printed no {contract.output.__name__}: {error}: {result.stdout[:200]!r}")
    try:
        error = json.loads(result.stderr)
    except ValueError:
        return malformed(f"buf curl exited {result.returncode}: {result.stderr[:300]!r}")
    code = error.get("code") if isinstance(error, dict) else None
    if code not in CONNECT_STATUS:
        return malformed(f"buf curl exited {result.returncode}: {result.stderr[:300]!r}")
    return Answer(code, detail=error.get("message", ""))


BUF = ("buf curl connect+proto", "buf curl grpc (h2c)")


@pytest.fixture(scope="module")
def clients(mesh: Mesh):
    made = Clients(mesh)
    yield made
    for client in made.made.values():
        client.close()


@pytest.fixture(scope="module")
def channel(mesh: Mesh):
    """A grpcio channel to the gateway's gRPC port, without BDP pings: the server closes a
    connection on a client's fourth ping (test_grpc_connection_survives_pings_between_calls),
    which would fail a random call of the sweeps instead of the test that names the cause."""
    with grpc.insecure_channel(f"127.0.0.1:{mesh.grpc_port}") as opened:
        yield opened


def sweep(mesh: Mesh, contracts: dict[str, Contract], clients: Clients, channel: grpc.Channel, auth: dict[str, str],
          read_only: bool, flavours: list[str], with_buf: bool) -> list[tuple[str, dict, dict[str, Answer]]]:
    """Calls each method of the kind asked for with one baseline request in every protocol, the
    reference first; returns (path, request, {protocol: answer})."""
    results = []
    chosen = [(m, contracts[m.path]) for m in mesh.methods if contracts[m.path].read_only == read_only]
    for method, contract in chosen:
        request = baseline(method.input, mesh.records)
        message = json_format.ParseDict(request, contract.input())
        answers = {"connect+json (http.client, reference)": connect_json(mesh, contract, request, auth)}
        for flavour in flavours:
            answers[flavour] = clients.call(flavour, contract, message, auth)
        answers["grpc-web+proto (http.client)"] = grpc_web_by_hand(mesh, contract, message, auth)
        answers["grpc (grpcio)"] = grpcio_call(channel, contract, message, auth)
        if with_buf and not read_only:
            answers[BUF[0]] = buf_curl(mesh, contract, request, auth, grpc_protocol=False)
            answers[BUF[1]] = buf_curl(mesh, contract, request, auth, grpc_protocol=True)
        results.append((contract.path, request, answers))
    if with_buf and read_only:
        # Nothing changes between these calls, so they may run side by side.
        jobs = [(path, request, answers, name, grpc_protocol)
                for path, request, answers in results for name, grpc_protocol in zip(BUF, (False, True))]
        with ThreadPoolExecutor(max_workers=8) as pool:
            done = pool.map(lambda job: buf_curl(mesh, contracts[job[0]], job[1], auth, grpc_protocol=job[4]), jobs)
            for (path, request, answers, name, _), answer in zip(jobs, done):
                answers[name] = answer
    return results


def table(results) -> str:
    return "\n".join(f"{path}: " + ", ".join(f"{name}={answer}" for name, answer in answers.items())
                     for path, _, answers in results)


# Fields the mesh changes by itself between two reads (notify-service keeps retrying the
# seeded subscription's unreachable hook), left out when answers are compared.
MOVING_FIELDS = {"attempts", "last_error", "delivered_at"}


def settled(message):
    """`message` without the fields that move between reads."""
    copy = type(message)()
    copy.CopyFrom(message)
    for item in getattr(copy, "deliveries", []):
        for name in MOVING_FIELDS:
            item.ClearField(name)
    return copy


def problems_of(results, contracts: dict[str, Contract], read_only: bool) -> list[str]:
    problems = []
    for path, request, answers in results:
        contract = contracts[path]
        reference = next(iter(answers.values()))
        for name, answer in answers.items():
            where = f"{path} {json.dumps(request, ensure_ascii=False)[:160]} via {name}"
            if answer.code == "malformed" or answer.code in NEVER:
                problems.append(f"{where}: {answer}")
            elif contract.system and answer.code != "permission_denied":
                problems.append(f"{where}: {answer}, but only the mesh may call it: permission_denied")
            elif read_only and answer.code != reference.code:
                problems.append(f"{where}: {answer}, but the reference answered {reference}")
            elif read_only and answer.code == "ok" and settled(answer.message) != settled(reference.message):
                problems.append(f"{where}: a different message:\n  {json_format.MessageToDict(answer.message)}\n"
                                f"  reference {json_format.MessageToDict(reference.message)}")
            elif not read_only and answer.code not in REPEAT | {reference.code}:
                problems.append(f"{where}: {answer}, which a repeat of {reference} should not give")
    return problems


# ---------------------------------------------------------------------------- tests


ALL_FLAVOURS = list(Clients.FLAVOURS)


def test_read_only_methods_answer_alike_in_every_protocol(mesh, contracts, clients, channel) -> None:
    results = sweep(mesh, contracts, clients, channel, bearer(mesh), read_only=True, flavours=ALL_FLAVOURS, with_buf=True)
    assert len(results) >= 15, table(results)
    assert all(len(answers) == 2 + len(ALL_FLAVOURS) + len(BUF) + 1 for _, _, answers in results)
    problems = problems_of(results, contracts, read_only=True)
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems) + "\n\nall answers:\n" + table(results)
    # The sweep reaches the handlers: most read-only calls for town A's own records succeed.
    assert sum(next(iter(a.values())).code == "ok" for _, _, a in results) >= len(results) // 2, table(results)


def test_read_only_methods_with_an_api_key(mesh, contracts, clients, channel, api_key) -> None:
    flavours = ["connectrpc default (connect+proto, gzip)", "connectrpc grpc-web+proto"]
    results = sweep(mesh, contracts, clients, channel, keyed(api_key), read_only=True, flavours=flavours, with_buf=False)
    problems = problems_of(results, contracts, read_only=True)
    # The key acts for the same centre with the same roles as town-a: the same codes.
    for path, request, answers in results:
        person = connect_json(mesh, contracts[path], request, bearer(mesh))
        if person.code != next(iter(answers.values())).code:
            problems.append(f"{path}: the key's reference answered {next(iter(answers.values()))}, town-a's {person}")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems) + "\n\nall answers:\n" + table(results)


def test_methods_that_change_something_repeat_legitimately_in_every_protocol(mesh, contracts, clients, channel) -> None:
    results = sweep(mesh, contracts, clients, channel, bearer(mesh), read_only=False, flavours=ALL_FLAVOURS, with_buf=True)
    assert len(results) >= 30, table(results)
    problems = problems_of(results, contracts, read_only=False)
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems) + "\n\nall answers:\n" + table(results)
    assert any(next(iter(a.values())).code == "ok" for _, _, a in results), table(results)


def test_methods_that_change_something_with_an_api_key(mesh, contracts, clients, channel, api_key) -> None:
    flavours = ["connectrpc default (connect+proto, gzip)"]
    results = sweep(mesh, contracts, clients, channel, keyed(api_key), read_only=False, flavours=flavours, with_buf=False)
    problems = problems_of(results, contracts, read_only=False)
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems) + "\n\nall answers:\n" + table(results)
    assert all(state == 200 for state in mesh.ready().values()), mesh.ready()


BOMB_BYTES = 64 << 20  # inflates from about 64 KiB to 16 times the 4 MiB body limit


def test_a_gzip_bomb_is_resource_exhausted_in_every_protocol(mesh, contracts, channel) -> None:
    contract = contracts["/pingan.risk.v1.RiskService/ListWarnings"]
    # A valid message once inflated: field 1 (centre_code) holding 64 MiB.
    inflated = b"\x0a" + _varint(BOMB_BYTES) + b"0" * BOMB_BYTES
    bomb = gzip.compress(inflated, compresslevel=9)
    assert len(bomb) < 1 << 20
    auth = bearer(mesh)

    status, headers, body = post(mesh.ports["gateway"], contract.path, bomb,
                                 {"Content-Type": "application/proto", "Content-Encoding": "gzip", **auth})
    assert (status, media_type(headers)) == (429, "application/json"), (status, headers, body[:300])
    assert json.loads(body)["code"] == "resource_exhausted", body

    framed = b"\x01" + len(bomb).to_bytes(4, "big") + bomb
    status, headers, body = post(mesh.ports["gateway"], contract.path, framed,
                                 {"Content-Type": "application/grpc-web+proto", "grpc-encoding": "gzip", **auth})
    assert status == 200 and media_type(headers) == "application/grpc-web+proto", (status, headers, body[:300])
    assert body[:1] == b"\x80" and b"grpc-status: 8\r\n" in body.lower(), body[:300]

    answer = grpcio_call(channel, contract, inflated, auth, compression=grpc.Compression.Gzip, serializer=lambda raw: raw)
    assert answer.code == "resource_exhausted", answer
    # And the gateway still answers.
    assert grpcio_call(channel, contract, contract.input(centre_code=TOWN_A), auth).code == "ok"
    assert all(state == 200 for state in mesh.ready().values()), mesh.ready()


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def test_tiny_deadlines_are_honoured(mesh, contracts, clients, channel) -> None:
    """grpc-timeout (grpcio, and by hand over gRPC-Web) and Connect-Timeout-Ms: the call ends
    as deadline_exceeded or succeeds in time, never as internal or unknown."""
    auth = bearer(mesh)
    seen = []
    # Methods whose baseline request succeeds, so that only the deadline can end them early.
    for path in ("/pingan.risk.v1.RiskService/ListWarnings", "/pingan.dispute.v1.DisputeService/ExportCases",
                 "/pingan.index.v1.IndexService/GetRanking"):
        contract = contracts[path]
        method = next(m for m in mesh.methods if m.path == path)
        message = json_format.ParseDict(baseline(method.input, mesh.records), contract.input())
        for timeout in (0.000001, 0.001, 0.005, 0.02):
            seen.append((path, f"grpcio timeout={timeout}", grpcio_call(channel, contract, message, auth, timeout=timeout)))
        for timeout_ms in (1, 5):
            seen.append((path, f"connectrpc timeout_ms={timeout_ms}",
                         clients.call("connectrpc default (connect+proto, gzip)", contract, message, auth, timeout_ms=timeout_ms)))
        payload = message.SerializeToString()
        for value in ("1n", "1u", "1m", "3m"):
            status, headers, body = post(mesh.ports["gateway"], path, b"\x00" + len(payload).to_bytes(4, "big") + payload,
                                         {"Content-Type": "application/grpc-web+proto", "grpc-timeout": value, **auth})
            code = re.search(rb"grpc-status: ?(\d+)", body, re.IGNORECASE)
            seen.append((path, f"grpc-web grpc-timeout: {value}",
                         Answer(GRPC_CODES[int(code.group(1))]) if status == 200 and code else malformed(f"{status} {body[:200]!r}")))
    bad = [f"{path} {how}: {answer}" for path, how, answer in seen if answer.code in NEVER | {"malformed"}]
    assert not bad, "\n".join(bad)
    assert all(answer.code in ("ok", "deadline_exceeded") for _, _, answer in seen), \
        "\n".join(f"{p} {h}: {a}" for p, h, a in seen)
    # The channel and the mesh are fine afterwards.
    contract = contracts["/pingan.risk.v1.RiskService/ListWarnings"]
    assert grpcio_call(channel, contract, contract.input(centre_code=TOWN_A), auth).code == "ok"
    assert all(state == 200 for state in mesh.ready().values()), mesh.ready()


# ------------------------------------------------------- gRPC frames, seen by hand


class H2c:
    """Just enough cleartext HTTP/2 (prior knowledge) to see the frames of gRPC exchanges:
    requests are HPACK literals without indexing or Huffman; responses are not decoded."""

    DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY = 0, 1, 3, 4, 6, 7
    END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4

    def __init__(self, port: int) -> None:
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buffer = b""
        self.next_stream = 1
        self.acks: list[bytes] = []
        self.goaway: bytes | None = None
        self.closed = False
        self.send(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + self.frame(self.SETTINGS, 0, 0, b""))

    @staticmethod
    def frame(kind: int, flags: int, stream: int, data: bytes) -> bytes:
        return len(data).to_bytes(3, "big") + bytes([kind, flags]) + stream.to_bytes(4, "big") + data

    @staticmethod
    def literal(name: str, value: str) -> bytes:
        def string(raw: bytes) -> bytes:
            if len(raw) < 127:
                return bytes([len(raw)]) + raw
            out, rest = bytearray([127]), len(raw) - 127
            while rest >= 128:
                out.append(rest & 127 | 128)
                rest >>= 7
            return bytes(out + bytes([rest])) + raw
        return b"\x00" + string(name.encode()) + string(value.encode())

    def send(self, data: bytes) -> None:
        try:
            self.socket.sendall(data)
        except OSError:
            self.closed = True

    def ping(self, number: int) -> None:
        self.send(self.frame(self.PING, 0, 0, number.to_bytes(8, "big")))

    def call(self, path: str, message: bytes, headers: dict[str, str]) -> list[tuple[int, int, bytes]]:
        """Sends one unary gRPC request; returns its stream's frames up to END_STREAM, RST_STREAM,
        a GOAWAY or the connection's end."""
        stream = self.next_stream
        self.next_stream += 2
        fields = [(":method", "POST"), (":scheme", "http"), (":path", path), (":authority", "127.0.0.1"),
                  ("content-type", "application/grpc+proto"), ("te", "trailers"), *headers.items()]
        block = b"".join(self.literal(name, value) for name, value in fields)
        body = b"\x00" + len(message).to_bytes(4, "big") + message
        self.send(self.frame(self.HEADERS, self.END_HEADERS, stream, block) + self.frame(self.DATA, self.END_STREAM, stream, body))
        frames: list[tuple[int, int, bytes]] = []
        while not self.closed and self.goaway is None:
            for kind, flags, number, data in self.read():
                if number == stream:
                    frames.append((kind, flags, data))
                    if kind == self.RST_STREAM or flags & self.END_STREAM:
                        return frames
        return frames

    def read(self):
        try:
            chunk = self.socket.recv(65536)
        except OSError:
            chunk = b""
        if not chunk:
            self.closed = True
        self.buffer += chunk
        while len(self.buffer) >= 9 and len(self.buffer) >= 9 + int.from_bytes(self.buffer[:3], "big"):
            length = int.from_bytes(self.buffer[:3], "big")
            kind, flags = self.buffer[3], self.buffer[4]
            number = int.from_bytes(self.buffer[5:9], "big") & 0x7FFFFFFF
            data, self.buffer = self.buffer[9:9 + length], self.buffer[9 + length:]
            if kind == self.SETTINGS and not flags & self.ACK:
                self.send(self.frame(self.SETTINGS, self.ACK, 0, b""))
            elif kind == self.PING and flags & self.ACK:
                self.acks.append(data)
            elif kind == self.GOAWAY:
                self.goaway = data
            yield kind, flags, number, data

    def close(self) -> None:
        self.socket.close()


def shape(frames: list[tuple[int, int, bytes]]) -> list[str]:
    names = {0: "DATA", 1: "HEADERS", 3: "RST_STREAM"}
    return [f"{names.get(kind, kind)}({len(data)}b{', END_STREAM' if flags & 1 and kind != 3 else ''})" for kind, flags, data in frames]


def test_grpc_answers_end_with_trailers(mesh, contracts) -> None:
    """gRPC over HTTP/2: a response is Response-Headers, messages, Trailers (a HEADERS frame with
    END_STREAM), or Trailers-Only (a single HEADERS frame with END_STREAM). Ending the stream
    with an empty DATA frame leaves the status without trailers; grpcio then reports
    UNKNOWN "Data frame with END_STREAM flag received" for every error."""
    connection = H2c(mesh.grpc_port)
    try:
        ok = contracts["/pingan.risk.v1.RiskService/ListWarnings"]
        refused = contracts["/pingan.dispute.v1.DisputeService/ListCases"]
        answers = {
            "ok": connection.call(ok.path, ok.input(centre_code=TOWN_A).SerializeToString(), bearer(mesh)),
            # invalid_argument: department_id is not a UUID
            "error": connection.call(refused.path, refused.input(department_id="测试").SerializeToString(), bearer(mesh)),
            # unauthenticated, refused before the body is read
            "refused at the door": connection.call(ok.path, ok.input(centre_code=TOWN_A).SerializeToString(), {}),
        }
    finally:
        connection.close()
    wrong = {name: shape(frames) for name, frames in answers.items()
             if not frames or frames[-1][0] != H2c.HEADERS or not frames[-1][1] & H2c.END_STREAM}
    assert not wrong, f"gRPC responses that do not end with a trailers HEADERS frame: {wrong}"
    assert [kind for kind, _, _ in answers["ok"]] == [H2c.HEADERS, H2c.DATA, H2c.HEADERS], shape(answers["ok"])


def test_grpc_connection_survives_pings_between_calls(mesh, contracts) -> None:
    """grpcio (and grpc-go) clients send BDP pings while data flows. A server may limit pings
    (gRFC A8), but counts only those while it sends nothing: each ping here is followed by a
    call the server answers, so none is abusive and the connection must stay open."""
    contract = contracts["/pingan.risk.v1.RiskService/ListWarnings"]
    message = contract.input(centre_code=TOWN_A).SerializeToString()
    connection = H2c(mesh.grpc_port)
    outcomes = []
    try:
        for number in range(6):
            connection.ping(number)
            frames = connection.call(contract.path, message, bearer(mesh))
            outcomes.append(f"ping {number} then call: {shape(frames)}"
                            + (" connection closed" if connection.closed else "")
                            + (f" GOAWAY {connection.goaway!r}" if connection.goaway is not None else ""))
            if connection.closed or connection.goaway is not None:
                break
    finally:
        connection.close()
    assert len(outcomes) == 6 and not connection.closed and connection.goaway is None, "\n".join(outcomes)
    assert len(connection.acks) == 6, connection.acks


def test_a_default_grpcio_channel_keeps_working(mesh, contracts) -> None:
    """300 calls on one grpcio channel with its defaults (BDP pings on), one after another:
    grpcio pings while data flows, and the server must not count that against it."""
    contract = contracts["/pingan.risk.v1.RiskService/ListWarnings"]
    failures = []
    with grpc.insecure_channel(f"127.0.0.1:{mesh.grpc_port}") as default:
        for number in range(300):
            answer = grpcio_call(default, contract, contract.input(centre_code=TOWN_A), bearer(mesh))
            if answer.code != "ok":
                failures.append(f"call {number}: {answer}")
    assert not failures, "\n".join(failures)
