#!/usr/bin/env bash
# Runs every test: the Swift suites against a real PostgreSQL, then buf lint and the
# interop tests with clients nobody here wrote (buf curl, the Python connectrpc client).
source "$(dirname "$0")/lib.sh"

# Below Linux's ephemeral range (32768 and up), so no outgoing connection holds them.
TEST_PG_PORT=${PINGAN_TEST_PG_PORT:-25433}
RESTART_PG_PORT=${PINGAN_RESTART_PG_PORT:-25434}

ensure_system_packages
ensure_python_tools
# Tests create and drop many databases; durability buys nothing here.
export PINGAN_PG_FSYNC=off
# The end-to-end suites run side by side, each a mesh of six services with their own pools.
export PINGAN_PG_OPTIONS="-c max_connections=800 ${PINGAN_PG_OPTIONS:-}"
# Set before starting, so a cluster that started is stopped even if the other one fails.
trap 'stop_cluster test; stop_cluster restart' EXIT
start_cluster test "$TEST_PG_PORT"
start_cluster restart "$RESTART_PG_PORT"

export PINGAN_TEST_DATABASE_URL="$(cluster_url test "$TEST_PG_PORT")"
# The end-to-end suites run each service as its own role, as deployed, with the password
# they know ("test"; the cluster listens on loopback only).
GATEWAY_DB_PASSWORD=test GRID_DB_PASSWORD=test DISPUTE_DB_PASSWORD=test RISK_DB_PASSWORD=test \
  INDEX_DB_PASSWORD=test NOTIFY_DB_PASSWORD=test \
  "$(pg_bin)/psql" "$PINGAN_TEST_DATABASE_URL" -q -X -v ON_ERROR_STOP=1 \
  -f "$PINGAN_ROOT/deploy/postgres/roles.sql" >/dev/null
export PINGAN_TEST_RESTART_DATABASE_URL="$(cluster_url restart "$RESTART_PG_PORT")"
export PINGAN_TEST_RESTART_COMMAND="$(restart_command restart)"

cd "$PINGAN_ROOT"
log "buf lint"
(cd Shared/Proto && buf lint)
# A contract change that would break a department's generated client fails the build: the
# protos are compared with main's (on main itself, with the commit before), or with
# PINGAN_BREAKING_AGAINST (any git ref).
against=${PINGAN_BREAKING_AGAINST:-}
if [ -z "$against" ]; then
  if [ "$(git rev-parse HEAD)" = "$(git rev-parse -q --verify main 2>/dev/null || true)" ]; then against=HEAD~1; else against=main; fi
fi
if git rev-parse -q --verify "$against^{commit}" >/dev/null; then
  log "buf breaking against $against"
  buf breaking Shared/Proto --against ".git#ref=$against,subdir=Shared/Proto"
else
  log "buf breaking skipped: no commit $against in this clone"
fi
log "deploy files"
python3 deploy/scripts/check-deploy.py

log "swift build"
swift build --build-tests
# The end-to-end suites start the real executables from here.
export PINGAN_BIN=$(swift build --show-bin-path)
log "swift test"
swift test --skip-build

log "interop tests"
python3 -m pytest -q Tests/Interop
