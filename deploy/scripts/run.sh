#!/usr/bin/env bash
# Starts Pingan on this machine: a private PostgreSQL cluster, then every service that
# exists, each on its own port. Ctrl-C stops them all (PostgreSQL keeps running; stop it
# with `deploy/scripts/run.sh stop`).
source "$(dirname "$0")/lib.sh"

PG_PORT=${PINGAN_PG_PORT:-55432}
if [ "${1:-}" = stop ]; then stop_cluster run; exit 0; fi

ensure_system_packages
start_cluster run "$PG_PORT"
log "building (release)"
cd "$PINGAN_ROOT"
swift build -c release --product grid-service
bin=$(swift build -c release --show-bin-path)

export DATABASE_URL="postgresql://pingan@127.0.0.1:$PG_PORT/pingan"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait' EXIT INT TERM

PORT=${GRID_PORT:-8081} "$bin/grid-service" & pids+=($!)
wait_http "http://127.0.0.1:${GRID_PORT:-8081}/readyz"

cat <<TXT

Pingan is running.
  grid-service   http://127.0.0.1:${GRID_PORT:-8081}   (pingan.grid.v1.DivisionService)
  PostgreSQL     $DATABASE_URL

Try:
  curl -s -H 'Content-Type: application/json' -d '{"code":"430723000000"}' \\
    http://127.0.0.1:${GRID_PORT:-8081}/pingan.grid.v1.DivisionService/GetDivision

Ctrl-C stops the services.
TXT
wait
