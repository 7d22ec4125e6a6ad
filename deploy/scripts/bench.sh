#!/usr/bin/env bash
# Measures GetDivision on a running grid-service (release build, its own database):
# the libcurl client with keep-alive, then wrk over plain HTTP for comparison.
# Prints figures only; nothing here is a test.
source "$(dirname "$0")/lib.sh"

CONCURRENCY=${CONCURRENCY:-16}
REQUESTS=${REQUESTS:-20000}
PG_PORT=${PINGAN_BENCH_PG_PORT:-55435}
GRID_PORT=${PINGAN_BENCH_GRID_PORT:-18181}

ensure_system_packages
command -v wrk >/dev/null || { as_root apt-get update -qq; DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq wrk >/dev/null; }
start_cluster bench "$PG_PORT"
cd "$PINGAN_ROOT"
log "building (release)"
swift build -c release --product grid-service >/dev/null
swift build -c release --product pingan-bench >/dev/null
bin=$(swift build -c release --show-bin-path)

PORT=$GRID_PORT DATABASE_URL="postgresql://pingan@127.0.0.1:$PG_PORT/pingan" LOG_LEVEL=warning "$bin/grid-service" &
grid=$!
trap 'kill $grid 2>/dev/null; wait $grid 2>/dev/null; stop_cluster bench' EXIT
wait_http "http://127.0.0.1:$GRID_PORT/readyz"
url="http://127.0.0.1:$GRID_PORT"

log "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; client and server share it"
"$bin/pingan-bench" get-division --url "$url" --concurrency "$CONCURRENCY" --requests "$REQUESTS" --codec proto
"$bin/pingan-bench" get-division --url "$url" --concurrency "$CONCURRENCY" --requests "$REQUESTS" --codec json

script=$(mktemp)
cat > "$script" <<'LUA'
wrk.method = "POST"
wrk.body = '{"code":"430723000000"}'
wrk.headers["Content-Type"] = "application/json"
LUA
log "wrk, $CONCURRENCY connections, 10 s, same method over JSON"
wrk -t 2 -c "$CONCURRENCY" -d 10s --latency -s "$script" "$url/pingan.grid.v1.DivisionService/GetDivision" | grep -E "Requests/sec|50%|99%|Non-2xx|Socket errors" || true
rm -f "$script"
