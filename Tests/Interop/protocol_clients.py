"""What test_protocols.py calls every method with: the generated clients of every contract,
the reference answer over Connect JSON, gRPC-Web and gRPC by hand, buf curl, and the sweep that
compares their answers. Fixtures here are imported by test_protocols.py, so its one mesh serves them."""

from __future__ import annotations

import gzip
import http.client
import importlib
import json
import re
import shutil
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
        env=mesh.env_for("gateway"), capture_output=True, text=True, timeout=60,
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
