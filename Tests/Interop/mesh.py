"""The whole mesh as real processes for the Python tests: six executables on one fresh
database, people signed in through the gateway, and the messages of every contract compiled
from Shared/Proto at test time (nothing of this project's Swift code is used to talk to it).
"""

from __future__ import annotations

import http.client
import importlib
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from conftest import (
    MESH_SECRET, PROTO_DIR, ROOT_DIVISION, _bin_dir, _free_port, _run_psql, _with_database, service_database_urls,
)

TOKEN_SECRET = "interop-token-secret-0123456789abcdef0123"
PASSWORD = "correct-horse-battery"
SERVICES = ["grid", "dispute", "risk", "index", "notify", "gateway"]
EXECUTABLES = {name: ("gateway" if name == "gateway" else f"{name}-service") for name in SERVICES}

# Two sibling townships of 澧县 and a township of another county (津市市), with generated villages.
TOWN_A, TOWN_B, FOREIGN_TOWN = "430723102000", "430723103000", "430781103000"
VILLAGE_A, VILLAGE_B, FOREIGN_VILLAGE = "430723102201", "430723103201", "430781103201"
VILLAGES = f"""code,name,level,parent_code
{VILLAGE_A},小渡口一村（生成）,village,{TOWN_A}
{VILLAGE_B},梦溪一村（生成）,village,{TOWN_B}
{FOREIGN_VILLAGE},白衣一村（生成）,village,{FOREIGN_TOWN}
"""
ALL_ROLES = "staff,mediator,grid_worker,leader,admin"


@dataclass
class Method:
    service: str  # pingan.grid.v1.GridService
    name: str
    input: object  # a google.protobuf Descriptor
    owner: str  # grid, dispute, ...

    @property
    def path(self) -> str:
        return f"/{self.service}/{self.name}"


@dataclass
class Mesh:
    ports: dict[str, int]
    # The gateway's cleartext HTTP/2 port, for gRPC clients.
    grpc_port: int = 0
    # The loopback port notify-service may push to beside port 9, for a test's own receiver.
    receiver_port: int = 0
    tokens: dict[str, str] = field(default_factory=dict)
    records: dict[str, str] = field(default_factory=dict)
    methods: list[Method] = field(default_factory=list)
    classes: dict[str, type] = field(default_factory=dict)
    # The mesh's environment: DATABASE_URL is the test's own user on the mesh's database (for
    # the tests' psql), <SERVICE>_DATABASE_URL each service's role (for deploy/scripts/lib.sh).
    command_env: dict[str, str] = field(default_factory=dict)
    # Each service's DATABASE_URL: its own role where the cluster has them.
    database_urls: dict[str, str] = field(default_factory=dict)

    def env_for(self, service: str) -> dict[str, str]:
        """The environment a service's process or command runs with: its own database role."""
        return {**self.command_env, "DATABASE_URL": self.database_urls[service]}

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def post(self, service: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.ports[service], timeout=30)
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def call(self, path: str, message: dict, as_user: str) -> tuple[int, dict]:
        status, body = self.post("gateway", path, json.dumps(message).encode(), {
            "Content-Type": "application/json", "Authorization": f"Bearer {self.tokens[as_user]}",
        })
        try:
            return status, json.loads(body or b"{}")
        except ValueError:
            return status, {"raw": body.decode(errors="replace")}

    def ok(self, path: str, message: dict, as_user: str = "city-admin") -> dict:
        status, answer = self.call(path, message, as_user)
        assert status == 200, f"{path} as {as_user}: {status} {answer}"
        return answer

    def ready(self) -> dict[str, int]:
        states = {}
        for service in SERVICES:
            try:
                with urllib.request.urlopen(f"{self.url(service)}/readyz", timeout=5) as response:
                    states[service] = response.status
            except Exception as error:  # noqa: BLE001 - any failure is "not ready"
                states[service] = getattr(error, "code", 0)
        return states


def compile_contracts(out: Path) -> dict[str, object]:
    """Compiles every .proto into Python modules under `out`; returns them by proto file."""
    files = sorted(p.relative_to(PROTO_DIR).as_posix() for p in PROTO_DIR.rglob("pingan/**/*.proto"))
    result = subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", f"-I{PROTO_DIR}", f"--python_out={out}", *files],
        capture_output=True, text=True, cwd=PROTO_DIR,
    )
    assert result.returncode == 0, result.stderr
    sys.path.insert(0, str(out))
    try:
        importlib.invalidate_caches()
        return {name: importlib.import_module(name[:-len(".proto")].replace("/", ".") + "_pb2") for name in files}
    finally:
        sys.path.remove(str(out))
        # Other tests generate some of the same modules elsewhere and import them by name.
        for name in [n for n in sys.modules if n == "pingan" or n.startswith("pingan.")]:
            del sys.modules[name]


def owner_of(package: str) -> str | None:
    for name in SERVICES:
        if package == f"pingan.{name}.v1":
            return name
    return None


def start_mesh(tmp: Path, extra_env: dict[str, str] | None = None,
               users: list[tuple[str, str, str]] | None = None) -> tuple[Mesh, list[subprocess.Popen], str]:
    """A mesh on a fresh database; `users` (name, centre, roles) default to the city's
    administrator and staff of two townships of 澧县 and one of 津市市."""
    admin_url = os.environ.get("PINGAN_TEST_DATABASE_URL")
    assert admin_url, "PINGAN_TEST_DATABASE_URL is not set (run deploy/scripts/test.sh)"
    db_name = f"interop_mesh_{secrets.token_hex(6)}"
    _run_psql(admin_url, f'CREATE DATABASE "{db_name}"')
    # Each port free and distinct: _free_port checks that nothing listens yet, and the
    # services bind theirs only later, so two draws of one mesh could otherwise coincide.
    chosen: list[int] = []
    while len(chosen) < len(SERVICES) + 2:
        port = _free_port()
        if port not in chosen:
            chosen.append(port)
    ports = dict(zip(SERVICES, chosen))
    mesh = Mesh(ports=ports, grpc_port=chosen[-2], receiver_port=chosen[-1],
                database_urls=service_database_urls(admin_url, db_name))
    env = dict(os.environ)
    env.update(
        HOST="127.0.0.1", DATABASE_URL=_with_database(admin_url, db_name), DB_POOL_SIZE="6", MESH_SECRET=MESH_SECRET,
        TOKEN_SECRET=TOKEN_SECRET, ROOT_DIVISION=ROOT_DIVISION, BCRYPT_COST="4", LOG_LEVEL="warning",
        INDEX_INTERVAL_SECONDS="3600",
        # Loopback receivers, one port each (host:port): the seed's unreachable hook on port 9
        # (discard) and the receiver a test may run on `receiver_port`.
        WEBHOOK_ALLOWED_HOSTS=f"127.0.0.1:9,127.0.0.1:{mesh.receiver_port}",
        # Residents' texts (one-time codes, rating links) go to the test's receiver too.
        RESIDENT_SMS_URL=f"http://127.0.0.1:{mesh.receiver_port}/resident-sms", RESIDENT_URL=f"{mesh.url('gateway')}/resident",
        **{f"{peer.upper()}_URL": mesh.url(peer) for peer in SERVICES if peer != "gateway"},
        **{f"{service.upper()}_DATABASE_URL": url for service, url in mesh.database_urls.items()},
    )
    env.update(extra_env or {})
    mesh.command_env = {**env, "PORT": "0"}
    processes: list[subprocess.Popen] = []
    for service in SERVICES:
        log = (tmp / f"{service}.log").open("wb")
        processes.append(subprocess.Popen(
            [str(_bin_dir() / EXECUTABLES[service])],
            env={**mesh.env_for(service), "PORT": str(ports[service]),
                 **({"GRPC_PORT": str(mesh.grpc_port), "ACCESS_LOG_SPOOL": str(tmp / "access-spool")} if service == "gateway" else {})},
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        ))
        if service == "grid":
            wait_ready(mesh, ["grid"], tmp)
    wait_ready(mesh, SERVICES, tmp)
    if users is None:
        users = [("city-admin", ROOT_DIVISION, "admin,staff,leader,mediator"), ("town-a", TOWN_A, ALL_ROLES),
                 ("town-b", TOWN_B, ALL_ROLES), ("foreign", FOREIGN_TOWN, ALL_ROLES)]
    for name, centre, roles in users:
        subprocess.run([str(_bin_dir() / "gateway"), "add-user", name, centre, roles],
                       env={**mesh.env_for("gateway"), "PINGAN_PASSWORD": PASSWORD}, check=True, capture_output=True, timeout=60)
        mesh.tokens[name] = _login(mesh, name)
    return mesh, processes, db_name


def stop_mesh(processes: list[subprocess.Popen], database: str) -> None:
    """Stops the processes (a kill for any that does not stop in 15 s) and drops the database."""
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
    _run_psql(os.environ["PINGAN_TEST_DATABASE_URL"], f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _login(mesh: Mesh, name: str) -> str:
    status, body = mesh.post("gateway", "/pingan.gateway.v1.AuthService/Login",
                             json.dumps({"username": name, "password": PASSWORD}).encode(), {"Content-Type": "application/json"})
    assert status == 200, body
    return json.loads(body)["token"]


def wait_ready(mesh: Mesh, services: list[str], tmp: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if all(state == 200 for name, state in mesh.ready().items() if name in services):
            return
        time.sleep(0.3)
    logs = "\n".join(f"--- {s}\n" + (tmp / f"{s}.log").read_text(errors="replace")[-2000:] for s in services)
    raise AssertionError(f"the mesh did not become ready:\n{logs}")


def seed(mesh: Mesh) -> None:
    """Records in 小渡口镇 (town A) that the sweeps aim at from elsewhere."""
    mesh.ok("/pingan.grid.v1.DivisionService/ImportDivisions", {"csv": VILLAGES})
    grid = mesh.ok("/pingan.grid.v1.GridService/CreateGrid", {"villageCode": VILLAGE_A, "name": "第一网格"})["grid"]["id"]
    member = mesh.ok("/pingan.grid.v1.GridService/AddGridMember",
                     {"gridId": grid, "name": "王小明", "role": "GRID_ROLE_GRID_WORKER"})["member"]["id"]
    intake = mesh.ok("/pingan.dispute.v1.DisputeService/IntakeCase", {
        "requestId": str(uuid.uuid4()), "villageCode": VILLAGE_A, "category": "INCIDENT_CATEGORY_MARRIAGE_FAMILY",
        "source": "CASE_SOURCE_HOTLINE", "description": "分手纠纷，一方扬言轻生", "parties": [{"name": "甲"}, {"name": "乙"}],
        "threatOfSelfHarm": True,
    }, as_user="town-a")["case"]["id"]
    attempt = mesh.ok("/pingan.dispute.v1.DisputeService/StartRung", {
        "caseId": intake, "rung": "RUNG_FINDER", "kind": "MEDIATION_KIND_PEOPLES", "lead": "网格员", "participants": ["双方"],
    }, as_user="town-a")["attempt"]["id"]
    department = mesh.ok("/pingan.dispute.v1.DisputeService/RegisterDepartment",
                         {"centreCode": TOWN_A, "name": "小渡口派出所", "apiKeyName": "xdk-police"}, as_user="town-a")["department"]["id"]
    summons = mesh.ok("/pingan.dispute.v1.DisputeService/SummonDepartments",
                      {"caseId": intake, "departmentIds": [department]}, as_user="town-a")["summons"][0]["id"]
    subscription = mesh.ok("/pingan.notify.v1.NotifyService/Subscribe", {
        "centreCode": TOWN_A, "url": "http://127.0.0.1:9/hook", "secret": "a-shared-secret-of-24-b",
    }, as_user="town-a")["subscription"]["id"]
    warning = ""
    deadline = time.monotonic() + 30
    while not warning and time.monotonic() < deadline:
        listed = mesh.ok("/pingan.risk.v1.RiskService/ListWarnings", {"centreCode": TOWN_A}, as_user="town-a").get("warnings", [])
        warning = listed[0]["id"] if listed else ""
        time.sleep(0.2)
    assert warning, "the self-harm case raised no warning"
    mesh.records.update(grid=grid, member=member, case=intake, attempt=attempt, department=department,
                        summons=summons, subscription=subscription, warning=warning)


def load_methods(mesh: Mesh, modules: dict[str, object]) -> None:
    for module in modules.values():
        descriptor = module.DESCRIPTOR
        for service in descriptor.services_by_name.values():
            owner = owner_of(descriptor.package)
            if owner is None:
                continue
            for method in service.methods:
                mesh.methods.append(Method(service.full_name, method.name, method.input_type, owner))
        for message in descriptor.message_types_by_name.values():
            mesh.classes[message.full_name] = getattr(module, message.name)
