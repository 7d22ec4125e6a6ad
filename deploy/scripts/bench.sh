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
"$psql" "$(cluster_url bench "$PG_PORT" postgres)" -qc "DROP DATABASE IF EXISTS bench WITH (FORCE)" -c "CREATE DATABASE bench"
cd "$PINGAN_ROOT"
log "building (release)"
release_build >/dev/null
bin=$(release_build --show-bin-path)

export DATABASE_URL="$(cluster_url bench "$PG_PORT" bench)" MESH_SECRET=$(random_hex 32) TOKEN_SECRET=$(random_hex 32) \
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
"$psql" "$DATABASE_URL" -q <<SQL
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
"$psql" "$DATABASE_URL" -tAc \
  "SELECT count(*) || ' open cases, ' || count(*) FILTER (WHERE status = 'open') || ' open' FROM dispute.cases"
log "first scan (marks the overdue ones and queues their notices)"
"$bin/dispute-service" scan-overdue
log "second scan (nothing new is overdue: the steady-state cost of a round)"
"$bin/dispute-service" scan-overdue

log "governance index: villages generated to 2,447 centres, a year of screening, cases, rungs and warnings (generated in SQL)"
"$psql" "$DATABASE_URL" -q <<'SQL'
INSERT INTO grid.divisions (code, name, level, parent_code)
SELECT left(t.code, 9) || (220 + v)::text, '指数村' || v || '（生成）', 'village', t.code
FROM (SELECT code FROM grid.divisions WHERE level = 'township') t, generate_series(1, 20) v
ORDER BY v, t.code
LIMIT (SELECT 2447 - count(*) FROM grid.divisions);
INSERT INTO grid.grids (id, village_code, name, created_at)
SELECT gen_random_uuid(), code, '指数网格', now() - interval '400 days' FROM grid.divisions WHERE name LIKE '指数村%';
INSERT INTO grid.members (id, grid_id, name, role)
SELECT gen_random_uuid(), id, '网格员', 'grid_worker' FROM grid.grids WHERE name = '指数网格';
INSERT INTO grid.screenings (grid_id, day, village_code, reporter_member_id, households_visited, disputes_found, recorded_at)
SELECT g.id, d::date, g.village_code, m.id, 10 + (random() * 20)::int, (random() < 0.1)::int, d
FROM grid.grids g JOIN grid.members m ON m.grid_id = g.id,
     generate_series(now() - interval '365 days', now(), interval '1 day') d
WHERE g.name = '指数网格' AND random() < 0.8;
INSERT INTO dispute.cases (id, village_code, category, source, description, parties, threat_of_violence,
    threat_of_self_harm, repeat_incident, prior_police_calls, opened_at, coordinator_code, party_names, violence_occurred)
SELECT gen_random_uuid(), g.village_code, 2, 2, 'index benchmark', '[]', false, false, false, 0,
    now() - random() * interval '365 days', left(g.village_code, 9) || '000', ARRAY['bench'], random() < 0.03
FROM grid.grids g, generate_series(1, 24) WHERE g.name = '指数网格';
INSERT INTO dispute.rung_attempts (id, case_id, rung, kind, lead, participants, bodies, centre_code, started_by,
    started_at, due_at, beyond_calendar, outcome, ended_at)
SELECT gen_random_uuid(), id, 1, 'peoples', 'bench', '{}', '{}', coordinator_code, 'bench', opened_at,
    opened_at + interval '3 days', false, CASE WHEN random() < 0.7 THEN 'settled' ELSE 'failed' END,
    opened_at + random() * interval '5 days'
FROM dispute.cases WHERE description = 'index benchmark';
INSERT INTO risk.assessments (case_id, village_code, score, threshold, reasons)
SELECT id, village_code, 70, 60, '[]' FROM dispute.cases WHERE description = 'index benchmark' AND random() < 0.05;
INSERT INTO risk.warnings (id, case_id, centre_code, village_code, score, status, raised_at)
SELECT gen_random_uuid(), a.case_id, left(a.village_code, 9) || '000', a.village_code, 70,
    CASE WHEN random() < 0.8 THEN 'acknowledged' ELSE 'raised' END, c.opened_at
FROM risk.assessments a JOIN dispute.cases c ON c.id = a.case_id WHERE c.description = 'index benchmark';
ANALYZE;
SQL
"$psql" "$DATABASE_URL" -tAc "SELECT (SELECT count(*) FROM grid.divisions) || ' centres, '
  || (SELECT count(*) FROM grid.screenings) || ' screenings, ' || (SELECT count(*) FROM dispute.cases) || ' cases, '
  || (SELECT count(*) FROM risk.warnings) || ' warnings'"
month=$(TZ=Asia/Shanghai date -d "$(TZ=Asia/Shanghai date +%Y-%m-15) -1 month" +%Y-%m)
admin=$(rpc "$gw" pingan.gateway.v1.AuthService/Login "{\"username\":\"admin\",\"password\":\"$password\"}" | json_field "['token']")
started=$(date +%s.%N)
rpc "$gw" pingan.index.v1.IndexService/ComputeMonthlyIndex "{\"month\":\"$month\"}" "$admin" >/dev/null
index_seconds=$(python3 -c "import sys; print(float(sys.argv[1]) - float(sys.argv[2]))" "$(date +%s.%N)" "$started")
start=$(TZ=Asia/Shanghai date -d "$month-01 00:00" --iso-8601=seconds)
end=$(TZ=Asia/Shanghai date -d "$month-01 00:00 +1 month" --iso-8601=seconds)
last_day=$(TZ=Asia/Shanghai date -d "$month-01 +1 month -1 day" +%F)
started=$(date +%s.%N)
"$psql" "$DATABASE_URL" -qAt >/dev/null <<SQL
WITH facts AS (
    SELECT village_code AS code, count(*) AS screened, 0 AS grids, 0 AS opened, 0 AS violent, 0 AS ended, 0 AS settled,
           0 AS on_time, 0 AS raised, 0 AS acknowledged
    FROM grid.screenings WHERE day BETWEEN '$month-01' AND '$last_day' GROUP BY village_code
    UNION ALL
    SELECT village_code, 0, count(*), 0, 0, 0, 0, 0, 0, 0 FROM grid.grids WHERE created_at < '$end' GROUP BY village_code
    UNION ALL
    SELECT village_code, 0, 0, count(*), count(*) FILTER (WHERE violence_occurred), 0, 0, 0, 0, 0
    FROM dispute.cases WHERE opened_at >= '$start' AND opened_at < '$end' GROUP BY village_code
    UNION ALL
    SELECT c.village_code, 0, 0, 0, 0, count(*), count(*) FILTER (WHERE a.outcome = 'settled'),
           count(*) FILTER (WHERE a.ended_at <= a.due_at), 0, 0
    FROM dispute.rung_attempts a JOIN dispute.cases c ON c.id = a.case_id
    WHERE a.ended_at >= '$start' AND a.ended_at < '$end' GROUP BY c.village_code
    UNION ALL
    SELECT village_code, 0, 0, 0, 0, 0, 0, 0, count(*), count(*) FILTER (WHERE status <> 'raised')
    FROM risk.warnings WHERE raised_at >= '$start' AND raised_at < '$end' GROUP BY village_code
)
SELECT left(code, 6), left(code, 9), code, sum(screened), sum(grids), sum(opened), sum(violent), sum(ended), sum(settled),
       sum(on_time), sum(raised), sum(acknowledged)
FROM facts GROUP BY GROUPING SETS ((left(code, 6), left(code, 9), code), (left(code, 6), left(code, 9)), (left(code, 6)), ());
SQL
sql_seconds=$(python3 -c "import sys; print(float(sys.argv[1]) - float(sys.argv[2]))" "$(date +%s.%N)" "$started")
printf 'index for %s, every centre: ComputeMonthlyIndex %.2f s (facts over RPC, scores, 1,000-draw rank intervals, stored, actions); the same sums as plain SQL GROUP BYs %.2f s; ratio %.1f\n' \
  "$month" "$index_seconds" "$sql_seconds" "$(python3 -c "import sys; print(float(sys.argv[1]) / float(sys.argv[2]))" "$index_seconds" "$sql_seconds")"
