# Shared by run.sh, test.sh and bench.sh: installs what is missing and runs private
# PostgreSQL clusters. Source it; do not run it.
set -euo pipefail

PINGAN_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# Cluster data lives under /tmp so the unprivileged postgres user can reach it even when the
# checkout sits in root's home.
PINGAN_STATE=${PINGAN_STATE:-${TMPDIR:-/tmp}/pingan-$(id -u)-$(printf '%s' "$PINGAN_ROOT" | cksum | cut -d' ' -f1)}

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# apt packages: the C libraries Pingan links and the PostgreSQL server.
ensure_system_packages() {
  local missing=()
  [ -f /usr/include/postgresql/libpq-fe.h ] || missing+=(libpq-dev)
  [ -f /usr/include/x86_64-linux-gnu/curl/curl.h ] || [ -f /usr/include/curl/curl.h ] || missing+=(libcurl4-openssl-dev)
  [ -f /usr/include/zlib.h ] || missing+=(zlib1g-dev)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
  command -v curl >/dev/null || missing+=(curl)
  # The dashboard's browser tests: Debian's Chromium, driven by Playwright, and a CJK font
  # so the pages (and their screenshots) show Chinese.
  command -v chromium >/dev/null || missing+=(chromium)
  fc-list 2>/dev/null | grep -qi "wenquanyi\|wqy\|noto sans cjk" || missing+=(fonts-wqy-microhei)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# PyPI tools: the Buf CLI and the Python Connect client used by the interop tests, and the
# SMTP server the e-mail channel is tested against, and Playwright for the dashboard's browser tests.
ensure_python_tools() {
  local missing=()
  command -v buf >/dev/null || missing+=(buf-bin)
  python3 -c 'import connectrpc' 2>/dev/null || missing+=(connectrpc)
  command -v protoc-gen-connectrpc >/dev/null || missing+=(protoc-gen-connectrpc)
  python3 -c 'import grpc_tools' 2>/dev/null || missing+=(grpcio-tools)
  python3 -c 'import pytest' 2>/dev/null || missing+=(pytest)
  python3 -c 'import yaml' 2>/dev/null || missing+=(pyyaml)
  python3 -c 'import aiosmtpd' 2>/dev/null || missing+=(aiosmtpd)
  python3 -c 'import playwright' 2>/dev/null || missing+=(playwright)
  python3 -c 'import standardwebhooks' 2>/dev/null || missing+=(standardwebhooks)
  python3 -c 'import georeport' 2>/dev/null || missing+=(georeport)
  python3 -c 'import jsonschema' 2>/dev/null || missing+=(jsonschema)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]} from PyPI"
    python3 -m pip install -q "${missing[@]}"
  fi
}

pg_bin() { ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1; }

# PostgreSQL refuses to run as root, so as root the clusters belong to the postgres user.
pg_user() { if [ "$(id -u)" = 0 ]; then echo postgres; else id -un; fi; }

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# cluster_password NAME: the superuser's password for cluster NAME, made once and kept
# beside the cluster, readable by this user only.
cluster_password() {
  local file="$PINGAN_STATE/$1.password"
  [ -f "$file" ] || (umask 077; mkdir -p "$PINGAN_STATE"; random_hex 24 > "$file")
  cat "$file"
}

# cluster_url NAME PORT [DATABASE]: the superuser's connection URL for cluster NAME.
cluster_url() { printf 'postgresql://pingan:%s@127.0.0.1:%s/%s' "$(cluster_password "$1")" "$2" "${3:-pingan}"; }

# start_cluster NAME PORT: creates (once) and starts a private cluster with superuser
# "pingan" and database "pingan". Over TCP (loopback only) every role gives its password
# (scram-sha-256); the Unix socket, in the cluster's own 0700 directory, admits only the
# cluster's owner, as pingan (peer). A cluster made before this rule is brought under it.
# PINGAN_PG_FSYNC=off speeds up test clusters; PINGAN_PG_OPTIONS adds server settings, such as
# "-c shared_preload_libraries=pg_stat_statements" to see where a benchmark's queries go.
start_cluster() {
  local name=$1 port=$2 dir="$PINGAN_STATE/$1" bin password hba
  bin=$(pg_bin)
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
  fi
  mkdir -p "$PINGAN_STATE"
  chmod 755 "$PINGAN_STATE"
  [ "$(id -u)" = 0 ] && chown "$(pg_user)" "$PINGAN_STATE"
  password=$(cluster_password "$name")
  if [ ! -f "$dir/PG_VERSION" ]; then
    log "creating PostgreSQL cluster $name in $dir"
    # Trusted only until the password is set below, and only from the owner's socket.
    as_pg "$bin/initdb" -D "$dir" -U pingan --auth-local=trust --auth-host=reject -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if as_pg "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    log "PostgreSQL $name already running"
  else
    as_pg "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c autovacuum_naptime=5s -c fsync=${PINGAN_PG_FSYNC:-on} ${PINGAN_PG_OPTIONS:-}" start >/dev/null
    log "PostgreSQL $name listening on 127.0.0.1:$port"
  fi
  hba="# Written by deploy/scripts/lib.sh.
local  all  all                  peer map=owner
host   all  all     127.0.0.1/32  scram-sha-256"
  # Over the owner's socket (trusted at first, peer afterwards); on stdin, not in argv.
  printf "ALTER ROLE pingan PASSWORD '%s'" "$password" | as_pg "$bin/psql" -h "$dir" -p "$port" -U pingan -d postgres -qAX -f - >/dev/null
  if [ "$(as_pg cat "$dir/pg_hba.conf")" != "$hba" ]; then
    printf 'owner  %s  pingan\n' "$(pg_user)" | as_pg tee "$dir/pg_ident.conf" >/dev/null
    printf '%s\n' "$hba" | as_pg tee "$dir/pg_hba.conf" >/dev/null
    as_pg "$bin/pg_ctl" -D "$dir" reload >/dev/null
  fi
  "$bin/psql" "$(cluster_url "$name" "$port" postgres)" -tAXc "SELECT 1 FROM pg_database WHERE datname = 'pingan'" | grep -q 1 \
    || "$bin/psql" "$(cluster_url "$name" "$port" postgres)" -qAXc "CREATE DATABASE pingan"
}

stop_cluster() {
  local dir="$PINGAN_STATE/$1"
  [ -f "$dir/PG_VERSION" ] || return 0
  as_pg "$(pg_bin)/pg_ctl" -D "$dir" stop -m fast -w >/dev/null 2>&1 || true
}

# The command that restarts cluster NAME, for the test that restarts PostgreSQL under a pool.
restart_command() {
  local cmd="$(pg_bin)/pg_ctl -D $PINGAN_STATE/$1 -l $PINGAN_STATE/$1/server.log restart -m fast -w -t 60"
  if [ "$(id -u)" = 0 ]; then echo "runuser -u postgres -- $cmd"; else echo "$cmd"; fi
}

# wait_http URL [SECONDS]: waits for a 200 from URL.
wait_http() {
  local url=$1 limit=${2:-60} i
  for ((i = 0; i < limit * 10; i++)); do
    curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "timed out waiting for $url" >&2
  return 1
}

# mesh_start BIN_DIR LOG_DIR BASE_PORT: starts the six executables, gateway on BASE_PORT (and
# gRPC on BASE_PORT+1000) and grid, dispute, risk, index, notify on BASE_PORT+1..5, and waits
# until each is ready.
# Needs MESH_SECRET and TOKEN_SECRET in the environment (only the gateway is given
# TOKEN_SECRET), and either DATABASE_URL for all six or, per service, a shell variable
# GATEWAY_DATABASE_URL, GRID_DATABASE_URL, ... (its own role; run.sh), which wins and need not
# be exported, so each service sees only its own. Appends to `pids`.
mesh_start() {
  local bin=$1 logs=$2 base=$3 port name url i=1
  mkdir -p "$logs"
  export ROOT_DIVISION=${ROOT_DIVISION:-430700000000}
  # As deploy/Dockerfile sets it: bounded malloc arenas keep each service's memory to what it holds.
  export MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-2}
  for name in GRID DISPUTE RISK INDEX NOTIFY; do
    export "${name}_URL=http://127.0.0.1:$((base + i))"; i=$((i + 1))
  done
  url=GRID_DATABASE_URL
  PORT=$((base + 1)) DATABASE_URL=${!url:-$DATABASE_URL} env -u TOKEN_SECRET -u TOKEN_SECRET_PREVIOUS \
    "$bin/grid-service" >>"$logs/grid-service.log" 2>&1 & pids+=($!)
  wait_http "http://127.0.0.1:$((base + 1))/readyz"
  i=2
  for name in dispute risk index notify; do
    url=${name^^}_DATABASE_URL
    PORT=$((base + i)) DATABASE_URL=${!url:-$DATABASE_URL} env -u TOKEN_SECRET -u TOKEN_SECRET_PREVIOUS \
      "$bin/$name-service" >>"$logs/$name-service.log" 2>&1 & pids+=($!); i=$((i + 1))
  done
  PORT=$base GRPC_PORT=$((base + 1000)) DATABASE_URL=${GATEWAY_DATABASE_URL:-$DATABASE_URL} "$bin/gateway" >>"$logs/gateway.log" 2>&1 & pids+=($!)
  for port in $(seq "$base" $((base + 5))); do wait_http "http://127.0.0.1:$port/readyz"; done
}

# rpc GATEWAY PATH JSON [TOKEN]: one Connect call through the gateway; prints the response.
rpc() {
  curl -sS -H 'Content-Type: application/json' ${4:+-H "Authorization: Bearer $4"} -d "$3" "$1/$2"
}
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

# demo_seed BIN_DIR GATEWAY RECEIVER_URL PASSWORD WEBHOOK_SECRET: three users, generated
# villages (labelled （生成）) under every township, a grid with a worker in 430723102201,
# and a webhook subscription for 小渡口镇. Prints GRID_ID=... and MEMBER_ID=... lines.
demo_seed() {
  local bin=$1 gw=$2 receiver=$3 password=$4 secret=$5 user admin csv grid member
  for user in "admin 430700000000 admin,staff,leader,mediator" "lixian 430723000000 staff,leader,mediator" \
              "xiaodukou 430723102000 staff,mediator,grid_worker" "linli 430724000000 staff,leader,mediator"; do
    set -- $user
    PINGAN_PASSWORD=$password DATABASE_URL=${GATEWAY_DATABASE_URL:-$DATABASE_URL} "$bin/gateway" add-user "$1" "$2" "$3" >/dev/null
  done
  admin=$(rpc "$gw" pingan.gateway.v1.AuthService/Login "{\"username\":\"admin\",\"password\":\"$password\"}" | json_field "['token']")
  csv=$(python3 "$PINGAN_ROOT/deploy/scripts/demo-villages.py" 3 < "$PINGAN_ROOT/Services/grid/Sources/Data/changde-divisions.csv")
  rpc "$gw" pingan.grid.v1.DivisionService/ImportDivisions \
    "$(python3 -c 'import json,sys; print(json.dumps({"csv": sys.stdin.read()}))' <<<"$csv")" "$admin" >/dev/null
  grid=$(rpc "$gw" pingan.grid.v1.GridService/CreateGrid '{"villageCode":"430723102201","name":"第一网格"}' "$admin" | json_field "['grid']['id']")
  member=$(rpc "$gw" pingan.grid.v1.GridService/AddGridMember \
    "{\"gridId\":\"$grid\",\"name\":\"王小明\",\"role\":\"GRID_ROLE_GRID_WORKER\"}" "$admin" | json_field "['member']['id']")
  rpc "$gw" pingan.notify.v1.NotifyService/Subscribe \
    "{\"centreCode\":\"430723102000\",\"url\":\"$receiver\",\"secret\":\"$secret\"}" "$admin" >/dev/null
  printf 'GRID_ID=%s\nMEMBER_ID=%s\n' "$grid" "$member"
}

# demo_history BIN_DIR GATEWAY ADMIN_TOKEN DIR: a generated year of 临澧县 (the generator's
# `demo` preset: its villages, grids, members, daily screening, cases, the cases' warnings with
# their loops and the villages' survey results, every one labelled generated) loaded through
# grid-, dispute-, risk- and index-service's own import commands, then the index computed for
# each of its months and the current one, so that the dashboard's trend (预警按时签收率 and
# 群众满意度 included), the month's changes and the threshold actions show from the first start.
demo_history() {
  local bin=$1 gw=$2 token=$3 dir=$4 kind month grid_db=${GRID_DATABASE_URL:-$DATABASE_URL}
  # The year ends yesterday, so the current month has its days too and the trend shows twelve.
  python3 "$PINGAN_ROOT/deploy/scripts/generate-year.py" --preset demo --seed 26 --out "$dir" \
    --end "$(TZ=Asia/Shanghai date -d yesterday +%F)" >/dev/null
  DATABASE_URL=$grid_db "$bin/grid-service" import divisions "$dir/divisions.csv" --by demo-history >/dev/null
  for kind in grids members screening; do
    DATABASE_URL=$grid_db "$bin/grid-service" import "$kind" "$dir/$kind.ndjson" --by demo-history >/dev/null
  done
  DATABASE_URL=${DISPUTE_DATABASE_URL:-$DATABASE_URL} "$bin/dispute-service" import cases "$dir/cases.ndjson" --by demo-history >/dev/null
  # Warnings name their cases by legacy id; the index reads them and the surveys when it computes.
  DATABASE_URL=${RISK_DATABASE_URL:-$DATABASE_URL} "$bin/risk-service" import warnings "$dir/warnings.ndjson" --by demo-history >/dev/null
  DATABASE_URL=${INDEX_DATABASE_URL:-$DATABASE_URL} "$bin/index-service" import surveys "$dir/surveys.csv" --by demo-history >/dev/null
  for month in $(python3 - "$dir/manifest.json" <<'PY'
import datetime, json, sys
manifest = json.load(open(sys.argv[1]))
first = datetime.date.fromisoformat(manifest["first_day"])
today = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8))).date()
year, month = first.year, first.month
while (year, month) <= (today.year, today.month):
    print(f"{year:04d}-{month:02d}")
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
PY
); do
    rpc "$gw" pingan.index.v1.IndexService/ComputeMonthlyIndex "{\"month\":\"$month\",\"reason\":\"the demo's generated year\"}" "$token" >/dev/null
  done
}

random_hex() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# release_build [ARGS]: the release build, in its own folder so it never waits on (or
# invalidates) the debug build the tests use.
release_build() { swift build -c release --scratch-path "$PINGAN_ROOT/.build-release" "$@"; }
