#!/usr/bin/env bash
# Measures a running mesh (release build, its own fresh database) and prints figures; nothing
# here is a test. CONCURRENCY and REQUESTS set the read load; FLOW_CONCURRENCY and
# FLOW_REQUESTS the incident flow.
source "$(dirname "$0")/lib.sh"

CONCURRENCY=${CONCURRENCY:-16}
REQUESTS=${REQUESTS:-20000}
FLOW_CONCURRENCY=${FLOW_CONCURRENCY:-8}
FLOW_REQUESTS=${FLOW_REQUESTS:-400}
LADDER_REQUESTS=${LADDER_REQUESTS:-400}
SCAN_CASES=${SCAN_CASES:-100000}
PG_PORT=${PINGAN_BENCH_PG_PORT:-55435}
BASE=${PINGAN_BENCH_PORT:-18180}
RECEIVER_PORT=$((BASE + 10))

ensure_system_packages
command -v wrk >/dev/null || { as_root apt-get update -qq; DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq wrk >/dev/null; }
start_cluster bench "$PG_PORT"
psql=$(pg_bin)/psql
"$psql" -h 127.0.0.1 -p "$PG_PORT" -U pingan -d postgres -qc "DROP DATABASE IF EXISTS bench WITH (FORCE)" -c "CREATE DATABASE bench"
cd "$PINGAN_ROOT"
log "building (release)"
release_build >/dev/null
bin=$(release_build --show-bin-path)

export DATABASE_URL="postgresql://pingan@127.0.0.1:$PG_PORT/bench" MESH_SECRET=$(random_hex 32) TOKEN_SECRET=$(random_hex 32) \
  LOG_LEVEL=warning BCRYPT_COST=10 WEBHOOK_ALLOWED_HOSTS=127.0.0.1
password=bench-$(random_hex 6)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; stop_cluster bench' EXIT
logs="$PINGAN_STATE/bench-logs"; rm -rf "$logs"
mesh_start "$bin" "$logs" "$BASE"
gw="http://127.0.0.1:$BASE"
eval "$(demo_seed "$bin" "$gw" "http://127.0.0.1:$RECEIVER_PORT/hook" "$password" "$(random_hex 16)")"
token=$(rpc "$gw" pingan.gateway.v1.AuthService/Login "{\"username\":\"xiaodukou\",\"password\":\"$password\"}" | json_field "['token']")

log "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; load generator, six services and PostgreSQL share it"
grid="http://127.0.0.1:$((BASE + 1))"
"$bin/pingan-bench" get-division --url "$grid" --concurrency "$CONCURRENCY" --requests "$REQUESTS" --codec proto
"$bin/pingan-bench" get-division --url "$grid" --concurrency "$CONCURRENCY" --requests "$REQUESTS" --codec json
"$bin/pingan-bench" get-division --url "$gw" --token "$token" --concurrency "$CONCURRENCY" --requests "$REQUESTS" --codec proto

script=$(mktemp)
cat > "$script" <<'LUA'
wrk.method = "POST"
wrk.body = '{"code":"430723000000"}'
wrk.headers["Content-Type"] = "application/json"
LUA
log "wrk -t 2 -c $CONCURRENCY -d 10s: GetDivision over JSON, straight to grid-service"
wrk -t 2 -c "$CONCURRENCY" -d 10s --latency -s "$script" "$grid/pingan.grid.v1.DivisionService/GetDivision" \
  | grep -E "Requests/sec|  50%|  99%|Non-2xx|Socket errors" || true
rm -f "$script"

log "incident flow, unloaded: 50 high-risk reports one at a time through the gateway"
"$bin/pingan-bench" flow --url "$gw" --token "$token" --grid "$GRID_ID" --member "$MEMBER_ID" \
  --receiver-port "$RECEIVER_PORT" --concurrency 1 --requests 50
log "incident flow, loaded: $FLOW_REQUESTS high-risk reports at concurrency $FLOW_CONCURRENCY through the gateway"
"$bin/pingan-bench" flow --url "$gw" --token "$token" --grid "$GRID_ID" --member "$MEMBER_ID" \
  --receiver-port "$RECEIVER_PORT" --concurrency "$FLOW_CONCURRENCY" --requests "$FLOW_REQUESTS"

log "mediation: $LADDER_REQUESTS cases advanced one rung (StartRung + EndRung) at concurrency $FLOW_CONCURRENCY through the gateway"
"$bin/pingan-bench" ladder --url "$gw" --token "$token" --village 430723102201 \
  --concurrency "$FLOW_CONCURRENCY" --requests "$LADDER_REQUESTS"

log "overdue scan: $SCAN_CASES open cases with an open rung (generated in SQL), 1% of them past their deadline"
"$psql" -h 127.0.0.1 -p "$PG_PORT" -U pingan -d bench -q <<SQL
INSERT INTO dispute.cases (id, village_code, category, source, description, parties, threat_of_violence,
    threat_of_self_harm, repeat_incident, prior_police_calls, opened_at, coordinator_code, party_names)
SELECT gen_random_uuid(), '430723102201', 2, 2, 'generated for the benchmark', '[]', false, false, false, 0,
    now(), '430723102000', ARRAY['bench-' || g] FROM generate_series(1, $SCAN_CASES) g;
INSERT INTO dispute.rung_attempts (id, case_id, rung, kind, lead, participants, bodies, centre_code, started_by,
    started_at, due_at, beyond_calendar)
SELECT gen_random_uuid(), id, 1, 'peoples', 'bench', '{}', '{}', '430723102000', 'bench', now(),
    CASE WHEN random() < 0.01 THEN now() - interval '1 day' ELSE now() + interval '3 days' END, false
FROM dispute.cases WHERE description = 'generated for the benchmark';
ANALYZE;
SQL
"$psql" -h 127.0.0.1 -p "$PG_PORT" -U pingan -d bench -tAc \
  "SELECT count(*) || ' open cases, ' || count(*) FILTER (WHERE status = 'open') || ' open' FROM dispute.cases"
log "first scan (marks the overdue ones and queues their notices)"
"$bin/dispute-service" scan-overdue
log "second scan (nothing new is overdue: the steady-state cost of a round)"
"$bin/dispute-service" scan-overdue
