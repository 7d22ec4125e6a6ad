"""The interop mesh runs each service as its own database role, as a deployment does
(deploy/postgres/roles.sql): a grant a service lacks fails here as it would in production,
not hidden behind the test's superuser."""

from __future__ import annotations

import subprocess

import pytest

from conftest import SERVICE_ROLES, _psql, has_service_roles
from mesh import Mesh


def _query(url: str, sql: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([_psql(), url, "-XtAc", sql], capture_output=True, text=True, timeout=30)


def test_each_service_connects_as_its_own_role_and_reads_only_its_schema(mesh: Mesh) -> None:
    admin = mesh.command_env["DATABASE_URL"]
    if not has_service_roles(admin):
        pytest.skip("the cluster has no pingan_* roles; deploy/scripts/test.sh creates them")
    seen = _query(admin,
                  "SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = current_database() AND usename LIKE 'pingan\\_%'")
    assert seen.returncode == 0, seen.stderr
    assert set(seen.stdout.split()) == {f"pingan_{name}" for name in SERVICE_ROLES}

    # grid-service's role reads its own schema and not dispute-service's.
    own = _query(mesh.database_urls["grid"], "SELECT count(*) FROM grid.divisions")
    assert own.returncode == 0 and int(own.stdout.strip()) > 0, own.stderr
    other = _query(mesh.database_urls["grid"], "SELECT count(*) FROM dispute.cases")
    assert other.returncode != 0 and "permission denied" in other.stderr, other.stdout + other.stderr
