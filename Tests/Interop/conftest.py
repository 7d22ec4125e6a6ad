"""Fixtures for the interop tests: a real grid-service on a fresh database, and a
Python Connect client generated at test time from the .proto files.

Nothing here talks to the service with code written in this project: the clients are
`buf curl` and the `connectrpc` package, with stubs produced by `protoc-gen-connectrpc`
and `grpc_tools.protoc`.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import importlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PROTO_DIR = REPO_ROOT / "Shared" / "Proto"
DIVISION_PROTO = "pingan/grid/v1/division.proto"
CHANGDE_CSV = REPO_ROOT / "Services" / "grid" / "Sources" / "Data" / "changde-divisions.csv"
READY_TIMEOUT_S = 60.0
# The HMAC key grid-service verifies `Pingan-Principal` headers with (MESH_SECRET, 32+ bytes).
MESH_SECRET = "interop-mesh-secret-0123456789abcdef0123"
ROOT_DIVISION = "430700000000"  # 常德市, the service's default root
PRINCIPAL_HEADER = "Pingan-Principal"


# ------------------------------------------------------------------ principal header


def _base64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def principal_header(
    centre: str,
    roles: list[str],
    *,
    subject: str = "user:interop",
    lifetime_s: int = 600,
    secret: str = MESH_SECRET,
) -> str:
    """A `Pingan-Principal` value as the gateway forwards it (Shared/Access/SignedToken.swift):
    base64url(JSON payload) "." base64url(HMAC-SHA256(MESH_SECRET, payload)), without padding."""
    payload = json.dumps(
        {"aud": "pingan-mesh", "subject": subject, "centre": centre, "roles": roles, "expiresAt": int(time.time()) + lifetime_s},
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode("utf-8")
    mac = hmac.new(secret.encode("utf-8"), payload, hashlib.sha256).digest()
    return f"{_base64url(payload)}.{_base64url(mac)}"


# --------------------------------------------------------------------------- the CSV


@dataclass(frozen=True)
class Row:
    code: str
    name: str
    level: str  # city, county, township, village
    parent_code: str


@dataclass(frozen=True)
class Changde:
    """The divisions the service loads at start, read independently from its CSV."""

    rows: tuple[Row, ...]

    def by_code(self, code: str) -> Row:
        return next(r for r in self.rows if r.code == code)

    def by_name(self, name: str) -> Row:
        matches = [r for r in self.rows if r.name == name]
        assert len(matches) == 1, f"expected one division named {name}, found {matches}"
        return matches[0]

    def children(self, code: str) -> list[Row]:
        return sorted((r for r in self.rows if r.parent_code == code), key=lambda r: r.code)

    def subtree(self, code: str) -> list[Row]:
        found: list[Row] = []
        frontier = [code]
        while frontier:
            kids = [r for r in self.rows if r.parent_code in frontier]
            found.extend(kids)
            frontier = [r.code for r in kids]
        return sorted(found, key=lambda r: r.code)


@pytest.fixture(scope="session")
def changde() -> Changde:
    with CHANGDE_CSV.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == ["code", "name", "level", "parent_code"], reader.fieldnames
        rows = tuple(Row(r["code"], r["name"], r["level"], r["parent_code"]) for r in reader)
    assert rows, f"{CHANGDE_CSV} is empty"
    return Changde(rows)


# ------------------------------------------------------------- database and server


def _psql() -> str:
    found = shutil.which("psql")
    if found:
        return found
    fallback = "/usr/lib/postgresql/15/bin/psql"
    if os.access(fallback, os.X_OK):
        return fallback
    pytest.fail("psql is neither on PATH nor at /usr/lib/postgresql/15/bin/psql")


def _run_psql(admin_url: str, sql: str) -> None:
    result = subprocess.run(
        [_psql(), admin_url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if result.returncode != 0:
        raise RuntimeError(f"psql {sql!r} failed ({result.returncode}): {result.stderr.strip()}")


def _with_database(url: str, name: str) -> str:
    """The libpq URI `url` with its database (the path) replaced by `name`."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


SERVICE_ROLES = ("gateway", "grid", "dispute", "risk", "index", "notify")


def service_database_urls(admin_url: str, database: str) -> dict[str, str]:
    """Each service's DATABASE_URL for `database`: its own role, as deployed
    (deploy/postgres/roles.sql, which test.sh runs on the test cluster with the password
    "test"), owning its schema and let into the database with exactly the privileges roles.sql
    grants a deployment's; the test's own user for every service when the cluster has no such
    roles (the suite run by hand against another server)."""
    url = _with_database(admin_url, database)
    if not has_service_roles(url):
        return {name: url for name in SERVICE_ROLES}
    privileges = _database_privileges()
    _run_psql(url, f'REVOKE ALL ON DATABASE "{database}" FROM PUBLIC')
    parts = urllib.parse.urlsplit(url)
    urls = {}
    for name in SERVICE_ROLES:
        _run_psql(url, f'GRANT {privileges} ON DATABASE "{database}" TO pingan_{name}')
        netloc = f"pingan_{name}:test@{parts.hostname}:{parts.port}"
        urls[name] = urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    return urls


def has_service_roles(url: str) -> bool:
    """Whether the cluster at `url` has every service's role of roles.sql."""
    names = ",".join(f"'pingan_{name}'" for name in SERVICE_ROLES)
    found = subprocess.run([_psql(), url, "-XtAc", f"SELECT count(*) FROM pg_roles WHERE rolname IN ({names})"],
                           capture_output=True, text=True, timeout=30)
    if found.returncode != 0:
        raise RuntimeError(f"psql could not list the roles: {found.stderr.strip()}")
    return int(found.stdout.strip()) == len(SERVICE_ROLES)


def _database_privileges() -> str:
    """What roles.sql grants each service role on the database ("CONNECT, CREATE, ..."), read
    from the file so that the tests and a deployment cannot drift apart."""
    text = (REPO_ROOT / "deploy" / "postgres" / "roles.sql").read_text()
    for line in text.splitlines():
        if line.startswith("SELECT format('GRANT ") and " ON DATABASE " in line:
            return line[line.index("GRANT ") + len("GRANT "):line.index(" ON DATABASE ")]
    raise RuntimeError("no GRANT ... ON DATABASE line in deploy/postgres/roles.sql")


def _free_port() -> int:
    """A free loopback port below Linux's ephemeral range (32768 and up), so that no outgoing
    connection or port-0 server can take it before the child process binds it."""
    import random

    for _ in range(200):
        candidate = random.randrange(20_000, 32_000)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return candidate
    raise RuntimeError("no free port between 20000 and 32000")


def _bin_dir() -> Path:
    configured = os.environ.get("PINGAN_BIN")
    return Path(configured) if configured else REPO_ROOT / ".build" / "debug"


@pytest.fixture(scope="session")
def grid_service(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Starts grid-service on a fresh database; yields its base URL, e.g. http://127.0.0.1:PORT."""
    admin_url = os.environ.get("PINGAN_TEST_DATABASE_URL")
    if not admin_url:
        pytest.fail(
            "PINGAN_TEST_DATABASE_URL is not set. Point it at a PostgreSQL server where the "
            "user may CREATE DATABASE, e.g. postgresql://pingan:PASSWORD@127.0.0.1:25433/pingan"
        )
    binary = _bin_dir() / "grid-service"
    if not os.access(binary, os.X_OK):
        pytest.fail(f"{binary} is missing; build it with `swift build` or set PINGAN_BIN")

    db_name = f"interop_{secrets.token_hex(6)}"
    _run_psql(admin_url, f'CREATE DATABASE "{db_name}"')
    log_path = tmp_path_factory.mktemp("grid-service") / "grid-service.log"
    process: subprocess.Popen[bytes] | None = None
    try:
        port = _free_port()
        env = dict(os.environ)
        env.update(
            PORT=str(port),
            HOST="127.0.0.1",
            DATABASE_URL=service_database_urls(admin_url, db_name)["grid"],
            MESH_SECRET=MESH_SECRET,
            ROOT_DIVISION=ROOT_DIVISION,
        )
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [str(binary)], env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        base_url = f"http://127.0.0.1:{port}"
        _wait_ready(base_url, process, log_path)
        yield base_url
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)
        _run_psql(admin_url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


def _wait_ready(base_url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    last_error = "no attempt"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"grid-service exited with {process.returncode} before it was ready:\n"
                f"{log_path.read_text(errors='replace')}"
            )
        try:
            with urllib.request.urlopen(f"{base_url}/readyz", timeout=2) as response:
                if response.status == 200:
                    return
                last_error = f"HTTP {response.status}"
        except (urllib.error.URLError, OSError) as error:
            last_error = str(error)
        time.sleep(0.2)
    pytest.fail(
        f"grid-service not ready at {base_url}/readyz after {READY_TIMEOUT_S:.0f}s "
        f"(last: {last_error}):\n{log_path.read_text(errors='replace')}"
    )


# ------------------------------------------------------------- generated Python code


@dataclass(frozen=True)
class Stubs:
    pb: ModuleType  # pingan.grid.v1.division_pb2 (google.protobuf messages)
    connect: ModuleType  # pingan.grid.v1.division_connect (connectrpc client)


def _connectrpc_plugin() -> str:
    found = shutil.which("protoc-gen-connectrpc")
    if not found:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "protoc-gen-connectrpc"], check=True
        )
        found = shutil.which("protoc-gen-connectrpc")
    if not found:
        pytest.fail("protoc-gen-connectrpc is not on PATH even after `pip install protoc-gen-connectrpc`")
    return found


@pytest.fixture(scope="session")
def stubs(tmp_path_factory: pytest.TempPathFactory) -> Stubs:
    """Generates the DivisionService messages and client into a temporary directory and imports them.

    Equivalent to:
        python3 -m grpc_tools.protoc -I Shared/Proto --python_out=OUT \\
            --plugin=protoc-gen-connectrpc=$(command -v protoc-gen-connectrpc) \\
            --connectrpc_out=OUT --connectrpc_opt=protobuf=google,io=sync \\
            pingan/grid/v1/division.proto
    `protobuf=google` makes the client use the google.protobuf messages that grpc_tools emits.
    """
    out = tmp_path_factory.mktemp("gen")
    command = [
        sys.executable, "-m", "grpc_tools.protoc",
        f"-I{PROTO_DIR}",
        f"--python_out={out}",
        f"--plugin=protoc-gen-connectrpc={_connectrpc_plugin()}",
        f"--connectrpc_out={out}",
        "--connectrpc_opt=protobuf=google,io=sync",
        DIVISION_PROTO,
    ]
    result = subprocess.run(command, capture_output=True, text=True, cwd=PROTO_DIR)
    assert result.returncode == 0, f"code generation failed: {' '.join(command)}\n{result.stderr}"
    assert (out / "pingan/grid/v1/division_connect.py").is_file(), sorted(out.rglob("*"))

    sys.path.insert(0, str(out))
    try:
        importlib.invalidate_caches()
        pb = importlib.import_module("pingan.grid.v1.division_pb2")
        connect = importlib.import_module("pingan.grid.v1.division_connect")
    finally:
        sys.path.remove(str(out))
    assert Path(pb.__file__).is_relative_to(out), f"imported {pb.__file__}, not the generated module"
    return Stubs(pb=pb, connect=connect)


@pytest.fixture(scope="session")
def division_client(grid_service: str, stubs: Stubs):
    """A generated sync DivisionService client speaking the Connect protocol with the JSON codec."""
    from connectrpc.compat import google_protobuf_json_codec

    # send_compression=None: connectrpc gzips every request body by default, and grid-service
    # accepts only identity request bodies (it answers `unimplemented`, as the Connect spec
    # allows); test_python_client_default_gzip_request covers that case separately.
    with stubs.connect.DivisionServiceClientSync(
        grid_service, codec=google_protobuf_json_codec(), send_compression=None
    ) as client:
        yield client


@pytest.fixture(scope="module")
def mesh(tmp_path_factory: pytest.TempPathFactory):
    """The whole mesh (mesh.py), seeded, for one test module."""
    from mesh import compile_contracts, load_methods, seed, start_mesh, stop_mesh

    modules = compile_contracts(tmp_path_factory.mktemp("contracts"))
    logs = tmp_path_factory.mktemp("mesh")
    the_mesh, processes, database = start_mesh(logs)
    try:
        load_methods(the_mesh, modules)
        seed(the_mesh)
        yield the_mesh
    finally:
        stop_mesh(processes, database)
