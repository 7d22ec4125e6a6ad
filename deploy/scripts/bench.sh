#!/usr/bin/env bash
# Measures a running mesh (release build, its own fresh database) and prints figures; nothing
# here is a test. CONCURRENCY and REQUESTS set the read load; FLOW_CONCURRENCY and
# FLOW_REQUESTS the incident flow. SECTIONS picks what runs (default: all of them, in this
# order): division flow sustained ladder scan index hotcase anchors. `anchors` ends the run with Pingan's figures
# beside anchors measured in the same run on the same machine (nginx in front of the same
# grid-service, pgbench on the same PostgreSQL cluster) and their ratios, and the services'
# resident memory and the CPU each proxied call costs the proxy and grid-service (with the
# floor: grid-service answering GET /healthz); ANCHOR_CONNECTIONS, ANCHOR_SECONDS and PGBENCH_SCALE set its load.
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
NGINX_PORT=$((BASE + 11))
SECTIONS=${SECTIONS:-division flow sustained ladder scan index hotcase anchors}
# The hot case (issue 24): one case joined by HOT_INCIDENTS reports of the same two parties;
# then what one more report costs on it against one that opens a new case, other villages'
# report-to-webhook latency while it takes HOT_RATE reports a second, and reading it.
HOT_INCIDENTS=${HOT_INCIDENTS:-10000}
HOT_RATE=${HOT_RATE:-50}
# The sustained flow: reports arriving at FLOW_RATE a second for FLOW_SECONDS (issue 12's
# goal: report -> webhook p99 at most 1 s at 300 a second for 60 s, nothing lost).
FLOW_RATE=${FLOW_RATE:-300}
FLOW_SECONDS=${FLOW_SECONDS:-60}
ANCHOR_CONNECTIONS=${ANCHOR_CONNECTIONS:-32}
ANCHOR_SECONDS=${ANCHOR_SECONDS:-10}
PGBENCH_SCALE=${PGBENCH_SCALE:-10}
want() { [[ " $SECTIONS " == *" $1 "* ]]; }

# The anchors' tools: wrk, a private nginx and pgbench (which comes with the server package).
ensure_anchor_tools() {
  local missing=()
  command -v wrk >/dev/null || missing+=(wrk)
  if want anchors; then
    command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
    [ -x "$(pg_bin)/pgbench" ] || missing+=(postgresql-contrib)
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

ensure_system_packages
ensure_anchor_tools
start_cluster bench "$PG_PORT"
psql=$(pg_bin)/psql
"$psql" "$(cluster_url bench "$PG_PORT" postgres)" -qc "DROP DATABASE IF EXISTS bench WITH (FORCE)" -c "CREATE DATABASE bench"
cd "$PINGAN_ROOT"
log "building (release)"
release_build >/dev/null
bin=$(release_build --show-bin-path)

export DATABASE_URL="$(cluster_url bench "$PG_PORT" bench)" MESH_SECRET=$(random_hex 32) TOKEN_SECRET=$(random_hex 32) \
  LOG_LEVEL=warning BCRYPT_COST=10 WEBHOOK_ALLOWED_HOSTS=127.0.0.1:$RECEIVER_PORT
password=bench-$(random_hex 6)
pids=()
scratch=$(mktemp -d)
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; stop_cluster bench; rm -rf "$scratch"' EXIT
logs="$PINGAN_STATE/bench-logs"; rm -rf "$logs"
mesh_start "$bin" "$logs" "$BASE"
# mesh_start's order: grid, dispute, risk, index, notify, gateway.
service_names=(grid-service dispute-service risk-service index-service notify-service gateway)
service_pids=("${pids[@]}")
gw="http://127.0.0.1:$BASE"
eval "$(demo_seed "$bin" "$gw" "http://127.0.0.1:$RECEIVER_PORT/hook" "$password" "$(random_hex 16)")"
token=$(rpc "$gw" pingan.gateway.v1.AuthService/Login "{\"username\":\"xiaodukou\",\"password\":\"$password\"}" | json_field "['token']")

log "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; load generator, six services and PostgreSQL share it"
grid="http://127.0.0.1:$((BASE + 1))"
if want division; then
  "$bin/pingan-bench" get-division --url "$grid" --concurrency "$CONCURRENCY" --requests "$REQUESTS" --codec proto
  "$bin/pingan-bench" get-division --url "$grid" --concurrency "$CONCURRENCY" --requests "$REQUESTS" --codec json
  "$bin/pingan-bench" get-division --url "$gw" --token "$token" --concurrency "$CONCURRENCY" --requests "$REQUESTS" --codec proto

  script="$scratch/get-division.lua"
  cat > "$script" <<'LUA'
wrk.method = "POST"
wrk.body = '{"code":"430723000000"}'
wrk.headers["Content-Type"] = "application/json"
LUA
  log "wrk -t 2 -c $CONCURRENCY -d 10s: GetDivision over JSON, straight to grid-service"
  wrk -t 2 -c "$CONCURRENCY" -d 10s --latency -s "$script" "$grid/pingan.grid.v1.DivisionService/GetDivision" \
    | grep -E "Requests/sec|  50%|  99%|Non-2xx|Socket errors" || true
fi

if want flow; then
  log "incident flow, unloaded: 50 high-risk reports one at a time through the gateway"
  "$bin/pingan-bench" flow --url "$gw" --token "$token" --grid "$GRID_ID" --member "$MEMBER_ID" \
    --receiver-port "$RECEIVER_PORT" --concurrency 1 --requests 50
  log "incident flow, loaded: $FLOW_REQUESTS high-risk reports at concurrency $FLOW_CONCURRENCY through the gateway"
  "$bin/pingan-bench" flow --url "$gw" --token "$token" --grid "$GRID_ID" --member "$MEMBER_ID" \
    --receiver-port "$RECEIVER_PORT" --concurrency "$FLOW_CONCURRENCY" --requests "$FLOW_REQUESTS"
fi

if want sustained; then
  log "incident flow, sustained: $FLOW_RATE high-risk reports a second for $FLOW_SECONDS s through the gateway (open loop, at most 512 in flight)"
  "$bin/pingan-bench" flow --url "$gw" --token "$token" --grid "$GRID_ID" --member "$MEMBER_ID" \
    --receiver-port "$RECEIVER_PORT" --concurrency 512 --rate "$FLOW_RATE" --seconds "$FLOW_SECONDS"
fi

if want ladder; then
  log "mediation: $LADDER_REQUESTS cases advanced one rung (StartRung + EndRung) at concurrency $FLOW_CONCURRENCY through the gateway"
  "$bin/pingan-bench" ladder --url "$gw" --token "$token" --village 430723102201 \
    --concurrency "$FLOW_CONCURRENCY" --requests "$LADDER_REQUESTS"
fi

if want scan; then
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
fi

if want index; then
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
fi

# wrk_measure NAME URL: wrk with $scratch/NAME.lua at the anchors' load; prints its summary and
# leaves the whole output in $scratch/NAME.wrk.
wrk_measure() {
  log "wrk -t 2 -c $ANCHOR_CONNECTIONS -d ${ANCHOR_SECONDS}s: $1"
  wrk -t 2 -c "$ANCHOR_CONNECTIONS" -d "${ANCHOR_SECONDS}s" --latency -s "$scratch/$1.lua" "$2" > "$scratch/$1.wrk"
  grep -E "Requests/sec|  50%|  99%|Non-2xx|Socket errors" "$scratch/$1.wrk" || true
}
# wrk_figure NAME: "REQUESTS_PER_SECOND ERRORS" from $scratch/NAME.wrk (non-2xx answers and
# socket errors).
wrk_figure() {
  awk '/Requests\/sec/ { rps = $2 } /Non-2xx/ { bad += $NF }
       /Socket errors/ { gsub(",", ""); bad += $4 + $6 + $8 + $10 }
       END { printf "%s %d", rps, bad }' "$scratch/$1.wrk"
}
# cpu_ticks PID...: clock ticks (user + system) the processes have used so far, together.
cpu_ticks() {
  local pid files=()
  for pid in "$@"; do files+=("/proc/$pid/stat"); done
  awk '{ sub(/^.*\) /, ""); ticks += $12 + $13 } END { print ticks + 0 }' "${files[@]}" 2>/dev/null
}
# postgres_pids: the bench cluster's postmaster and its children (the services' pooled
# connections among them, which live as long as the services).
postgres_pids() {
  local main
  main=$(head -1 "$PINGAN_STATE/bench/postmaster.pid")
  echo "$main" $(pgrep -P "$main")
}
# per_call NAME BEFORE AFTER: microseconds of CPU per request of the wrk run NAME, from the
# ticks before and after it.
per_call() {
  awk -v ticks=$(($3 - $2)) -v hz="$(getconf CLK_TCK)" '/ requests in / { printf "%.0f", ticks / hz * 1e6 / $1 }' "$scratch/$1.wrk"
}
# pgbench_measure NAME ARGS...: pgbench on the scratch database; prints and keeps its tps.
pgbench_measure() {
  local name=$1; shift
  log "pgbench $* -T $ANCHOR_SECONDS on the same cluster (scale $PGBENCH_SCALE, fsync ${PINGAN_PG_FSYNC:-on})"
  "$(pg_bin)/pgbench" "$@" -T "$ANCHOR_SECONDS" "$anchor_db" > "$scratch/$name.pgbench" 2>&1 \
    || { cat "$scratch/$name.pgbench" >&2; exit 1; }
  grep -E "^(latency average|tps = .*(without|excluding))" "$scratch/$name.pgbench"
  awk '/^tps = / && /without|excluding/ { printf "%s", $3 }' "$scratch/$name.pgbench"  > "$scratch/$name.tps"
}

# drained: waits until no event of grid, dispute or risk is waiting in an outbox and no push
# waits in notify's ledger, so the work a load caused is done before its cost is read.
drained() {
  local pending
  for _ in $(seq 1200); do
    pending=$("$psql" "$DATABASE_URL" -tAc "SELECT (SELECT count(*) FROM grid.outbox WHERE delivered_at IS NULL AND parked_at IS NULL)
      + (SELECT count(*) FROM dispute.outbox WHERE delivered_at IS NULL AND parked_at IS NULL)
      + (SELECT count(*) FROM risk.outbox WHERE delivered_at IS NULL AND parked_at IS NULL)
      + (SELECT count(*) FROM notify.deliveries WHERE delivered_at IS NULL)")
    [ "$pending" = 0 ] && return 0
    sleep 0.5
  done
  echo "events or pushes still pending after 600 s: $pending" >&2; return 1
}
# sink_start / sink_stop: a receiver answering 200 to every push on the receiver's port, for
# the runs of `pingan-bench reports`, which has none (pingan-bench flow brings its own): a push
# refused for want of a receiver would be retried with backoff and pause the subscription.
sink_start() {
  python3 -c 'import http.server as h, sys
class R(h.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0"))); self.send_response(200); self.end_headers()
    do_GET = do_POST
    def log_message(self, *a): pass
h.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), R).serve_forever()' "$RECEIVER_PORT" & sink_pid=$!
  pids+=("$sink_pid")
  wait_http "http://127.0.0.1:$RECEIVER_PORT/" 10
}
sink_stop() { kill "$sink_pid" 2>/dev/null; wait "$sink_pid" 2>/dev/null || true; }

if want hotcase; then
  hot_a="热甲$(random_hex 3)" hot_b="热乙$(random_hex 3)"
  hot_seconds=$(( (HOT_INCIDENTS + 199) / 200 ))
  log "hot case: $((hot_seconds * 200)) reports naming $hot_a and $hot_b (one case), 200 a second"
  started=$(date +%s)
  sink_start
  "$bin/pingan-bench" reports --url "$gw" --token "$token" --grid "$GRID_ID" --member "$MEMBER_ID" \
    --parties "$hot_a,$hot_b" --rate 200 --seconds "$hot_seconds"
  drained
  hot_case=$("$psql" "$DATABASE_URL" -tAc "SELECT id FROM dispute.cases WHERE '$hot_a' = ANY(party_names)")
  echo "built in $(( $(date +%s) - started )) s, outboxes drained: $("$psql" "$DATABASE_URL" -tAc \
    "SELECT incidents || ' incidents, ' || (SELECT count(*) FROM dispute.timeline WHERE case_id = c.id) || ' timeline lines' FROM dispute.cases c WHERE id = '$hot_case'")"

  # What a report costs the services behind the gateway and PostgreSQL, all its events done:
  # 300 reports each opening a new case, then 300 joining the hot case, at 30 a second.
  cost_pids=("${service_pids[0]}" "${service_pids[1]}" "${service_pids[2]}" "${service_pids[4]}")
  report_cost() {
    local before after
    before=$(( $(cpu_ticks "${cost_pids[@]}") + $(cpu_ticks $(postgres_pids)) ))
    "$bin/pingan-bench" "$@" >/dev/null
    drained
    after=$(( $(cpu_ticks "${cost_pids[@]}") + $(cpu_ticks $(postgres_pids)) ))
    awk -v ticks=$((after - before)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.0f", ticks / hz * 1e6 / 300 }'
  }
  drained
  sink_stop
  new_cost=$(report_cost flow --url "$gw" --token "$token" --grid "$GRID_ID" --member "$MEMBER_ID" \
    --receiver-port "$RECEIVER_PORT" --concurrency 64 --rate 30 --seconds 10)
  sink_start
  hot_cost=$(report_cost reports --url "$gw" --token "$token" --grid "$GRID_ID" --member "$MEMBER_ID" \
    --parties "$hot_a,$hot_b" --rate 30 --seconds 10)
  sink_stop
  printf 'CPU per report, every event done (grid, dispute, risk, notify, PostgreSQL): new case %s µs, joining the hot case %s µs, ratio %s (goal ≤ 2)\n' \
    "$new_cost" "$hot_cost" "$(awk -v a="$hot_cost" -v b="$new_cost" 'BEGIN { printf "%.2f", a / b }')"

  log "other villages' reports at 20 a second for 30 s while the hot case takes $HOT_RATE a second"
  "$bin/pingan-bench" reports --url "$gw" --token "$token" --grid "$GRID_ID" --member "$MEMBER_ID" \
    --parties "$hot_a,$hot_b" --rate "$HOT_RATE" --seconds 30 & hot_pid=$!
  "$bin/pingan-bench" flow --url "$gw" --token "$token" --grid "$GRID_ID" --member "$MEMBER_ID" \
    --receiver-port "$RECEIVER_PORT" --concurrency 256 --rate 20 --seconds 30
  wait "$hot_pid"
  sink_start
  drained
  sink_stop

  # Reading it: GetCase of the hot case beside an ordinary one, side by side at wrk -c8.
  ordinary_case=$("$psql" "$DATABASE_URL" -tAc "SELECT id FROM dispute.cases WHERE incidents = 1 AND village_code = (SELECT village_code FROM dispute.cases WHERE id = '$hot_case') LIMIT 1")
  for which in hot ordinary; do
    id=$([ "$which" = hot ] && echo "$hot_case" || echo "$ordinary_case")
    bytes=$(curl -s -o /dev/null -w '%{size_download}' -H 'Content-Type: application/json' -H "Authorization: Bearer $token" \
      -d "{\"caseId\":\"$id\"}" "$gw/pingan.dispute.v1.DisputeService/GetCase")
    printf 'wrk.method = "POST"\nwrk.body = %s\nwrk.headers["Content-Type"] = "application/json"\nwrk.headers["Authorization"] = "Bearer %s"\n' \
      "'{\"caseId\":\"$id\"}'" "$token" > "$scratch/get-$which.lua"
    log "GetCase of the $which case ($bytes bytes), wrk -t2 -c8 -d10s"
    wrk -t 2 -c 8 -d 10s --latency -s "$scratch/get-$which.lua" "$gw/pingan.dispute.v1.DisputeService/GetCase" \
      | grep -E "Requests/sec|  50%|  99%|Non-2xx|Socket errors" || true
  done
fi

if want anchors; then
  log "anchors: Pingan beside nginx and pgbench, same run, same machine"
  token=$(rpc "$gw" pingan.gateway.v1.AuthService/Login "{\"username\":\"xiaodukou\",\"password\":\"$password\"}" | json_field "['token']")

  # 1. GetDivision through the gateway against nginx in front of the same grid-service.
  nginx_dir="$scratch/nginx"; mkdir -p "$nginx_dir"; chmod 755 "$scratch" "$nginx_dir"
  sed -e "s|@DIR@|$nginx_dir|g" -e "s|@PORT@|$NGINX_PORT|g" -e "s|@UPSTREAM@|127.0.0.1:$((BASE + 1))|g" \
    "$PINGAN_ROOT/deploy/bench/nginx.conf" > "$nginx_dir/nginx.conf"
  "$(command -v nginx || echo /usr/sbin/nginx)" -p "$nginx_dir" -e "$nginx_dir/error.log" -c "$nginx_dir/nginx.conf" \
    2>>"$nginx_dir/error.log" & pids+=($!)
  nginx_pid=$!
  wait_http "http://127.0.0.1:$NGINX_PORT/readyz" 20
  cat > "$scratch/division-nginx.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"code":"430723000000"}'
wrk.headers["Content-Type"] = "application/json"
LUA
  { cat "$scratch/division-nginx.lua"; printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$token"; } > "$scratch/division-gateway.lua"
  # What each proxied call costs the proxy and grid-service, and what grid-service's HTTP
  # server costs for a request that does nothing (GET /healthz): the floor under any
  # gateway built on the same server.
  nginx_pids=("$nginx_pid" $(pgrep -P "$nginx_pid"))
  gateway_pid=${service_pids[5]} grid_pid=${service_pids[0]}
  before=($(cpu_ticks "$gateway_pid") $(cpu_ticks "$grid_pid"))
  wrk_measure division-gateway "$gw/pingan.grid.v1.DivisionService/GetDivision"
  after=($(cpu_ticks "$gateway_pid") $(cpu_ticks "$grid_pid"))
  cpu_gateway=("$(per_call division-gateway "${before[0]}" "${after[0]}")" "$(per_call division-gateway "${before[1]}" "${after[1]}")")
  before=($(cpu_ticks "${nginx_pids[@]}") $(cpu_ticks "$grid_pid"))
  wrk_measure division-nginx "http://127.0.0.1:$NGINX_PORT/pingan.grid.v1.DivisionService/GetDivision"
  after=($(cpu_ticks "${nginx_pids[@]}") $(cpu_ticks "$grid_pid"))
  cpu_nginx=("$(per_call division-nginx "${before[0]}" "${after[0]}")" "$(per_call division-nginx "${before[1]}" "${after[1]}")")
  echo 'wrk.method = "GET"' > "$scratch/healthz.lua"
  before=$(cpu_ticks "$grid_pid")
  wrk_measure healthz "$grid/healthz"
  cpu_floor=$(per_call healthz "$before" "$(cpu_ticks "$grid_pid")")

  # 2. GetCase through the gateway against pgbench -S (a primary-key SELECT) on a scratch database.
  for i in 1 2 3 4 5; do
    rpc "$gw" pingan.grid.v1.GridService/ReportIncident "{\"gridId\":\"$GRID_ID\",\"reporterMemberId\":\"$MEMBER_ID\",
      \"category\":\"INCIDENT_CATEGORY_NEIGHBOUR\",\"description\":\"锚点案件 $i：邻里纠纷\",
      \"parties\":[{\"name\":\"锚$(random_hex 4)\"},{\"name\":\"锚$(random_hex 4)\"}]}" "$token" | json_field "['incident']['id']" >/dev/null
  done
  for i in $(seq 100); do
    rpc "$gw" pingan.dispute.v1.DisputeService/ListCases '{"divisionCode":"430723102000","pageSize":20}' "$token" \
      | python3 -c 'import json,sys; print("\n".join(c["id"] for c in json.load(sys.stdin).get("cases", [])))' > "$scratch/cases"
    [ "$(wc -l < "$scratch/cases")" -ge 5 ] && break
    sleep 0.2
  done
  [ "$(wc -l < "$scratch/cases")" -ge 5 ] || { echo "fewer than 5 cases listed" >&2; exit 1; }
  { printf 'local ids = {'; sed 's/.*/"&",/' "$scratch/cases" | tr -d '\n'; printf '}\n'
    cat <<'LUA'
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
LUA
    printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$token"
    cat <<'LUA'
request = function()
  i = i + 1
  return wrk.format(nil, nil, nil, '{"caseId":"' .. ids[i % #ids + 1] .. '"}')
end
LUA
  } > "$scratch/get-case.lua"
  dispute_pid=${service_pids[1]} pg_pids=($(postgres_pids))
  before=($(cpu_ticks "$gateway_pid") $(cpu_ticks "$dispute_pid") $(cpu_ticks "${pg_pids[@]}"))
  wrk_measure get-case "$gw/pingan.dispute.v1.DisputeService/GetCase"
  after=($(cpu_ticks "$gateway_pid") $(cpu_ticks "$dispute_pid") $(cpu_ticks "${pg_pids[@]}"))
  cpu_case=()
  for i in 0 1 2; do cpu_case+=("$(per_call get-case "${before[$i]}" "${after[$i]}")"); done
  anchor_db=$(cluster_url bench "$PG_PORT" pgbench_anchor)
  PGOPTIONS="-c client_min_messages=warning" "$psql" "$(cluster_url bench "$PG_PORT" postgres)" -q \
    -c "DROP DATABASE IF EXISTS pgbench_anchor WITH (FORCE)" -c "CREATE DATABASE pgbench_anchor"
  log "pgbench -i -s $PGBENCH_SCALE"
  "$(pg_bin)/pgbench" -i -q -s "$PGBENCH_SCALE" "$anchor_db" > "$scratch/init.pgbench" 2>&1 \
    || { cat "$scratch/init.pgbench" >&2; exit 1; }
  pgbench_measure select -S -c 16 -j 2

  # 3. ReportIncident through the gateway, every relay running behind it, against pgbench -N.
  # Each request names new parties (so each opens its own case) and no threat (so none warns:
  # no webhook is due to a receiver that is not listening).
  { printf 'local run = "%s"\n' "$(random_hex 4)"
    printf 'local grid, member = "%s", "%s"\n' "$GRID_ID" "$MEMBER_ID"
    printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$token"
    cat <<'LUA'
local threads, n, prefix = 0, 0, ""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
function setup(thread) threads = threads + 1; thread:set("id", threads) end
function init(args) prefix = "锚" .. run .. "-" .. tostring(id) .. "-" end
request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, '{"gridId":"' .. grid .. '","reporterMemberId":"' .. member ..
    '","category":"INCIDENT_CATEGORY_NEIGHBOUR","description":"锚点压测：邻里纠纷","parties":[{"name":"' ..
    prefix .. n .. '"}]}')
end
LUA
  } > "$scratch/report-incident.lua"
  wrk_measure report-incident "$gw/pingan.grid.v1.GridService/ReportIncident"
  # 4. Resident memory of each service right after the load.
  rss=()
  for i in "${!service_pids[@]}"; do
    rss+=("${service_names[$i]}=$(awk '/^VmRSS:/ { print $2 }' "/proc/${service_pids[$i]}/status")")
  done
  pgbench_measure write -N -c 16 -j 2
  "$psql" "$(cluster_url bench "$PG_PORT" postgres)" -qc "DROP DATABASE IF EXISTS pgbench_anchor WITH (FORCE)"

  python3 - "$(wrk_figure division-gateway)" "$(wrk_figure division-nginx)" "$(wrk_figure get-case)" \
    "$(cat "$scratch/select.tps")" "$(wrk_figure report-incident)" "$(cat "$scratch/write.tps")" "${rss[@]}" \
    "$ANCHOR_CONNECTIONS" "$ANCHOR_SECONDS" <<'PY'
import sys
gd_gw, gd_nginx, gc, sel, ri, wr, *rest = sys.argv[1:]
connections, seconds = rest[-2:]
rss = [item.split("=", 1) for item in rest[:-2]]
def rate(text): return float(text.split()[0]) if text.strip() else float("nan")
def cell(text, unit):
    if not text.strip(): return "failed"
    figure, *errors = text.split()
    return f"{float(figure):,.0f} {unit}" + (f" ({errors[0]} errors)" if errors and errors[0] != "0" else "")
rows = []
for figure, pingan, anchor, unit, goal in [
    (f"`GetDivision` (JSON) through the gateway / nginx (1 worker, keep-alive upstream) to the same grid-service; wrk -t2 -c{connections} -d{seconds}s",
     gd_gw, gd_nginx, "req/s", 1.0),
    (f"`GetCase` through the gateway (wrk -t2 -c{connections}) / `pgbench -S -c16 -j2 -T{seconds}`, same cluster",
     gc, sel, "tps", 0.25),
    (f"`ReportIncident` through the gateway, whole flow running (wrk -t2 -c{connections}) / `pgbench -N -c16 -j2 -T{seconds}`, same cluster, fsync on",
     ri, wr, "tps", 0.25)]:
    ratio = rate(pingan) / rate(anchor)
    rows.append((figure, cell(pingan, "req/s"), cell(anchor, unit), f"{ratio:.2f}", f"≥ {goal:.2f}: {'met' if ratio >= goal else 'NOT met'}"))
for name, kib in rss:
    mib = int(kib) / 1024
    rows.append((f"RSS of {name} after the load", f"{mib:.1f} MiB", "", "", f"< 150 MiB: {'met' if mib < 150 else 'NOT met'}"))
print()
print("| figure | Pingan | anchor, same run | ratio | goal |")
print("|---|---|---|---|---|")
for row in rows: print("| " + " | ".join(row) + " |")
PY
  printf '\n| CPU per `GetDivision` call, µs (user + system, from /proc) | through the gateway | through nginx |\n|---|---|---|\n'
  printf '| the proxy | %s | %s |\n' "${cpu_gateway[0]}" "${cpu_nginx[0]}"
  printf '| grid-service behind it | %s | %s |\n' "${cpu_gateway[1]}" "${cpu_nginx[1]}"
  printf '| grid-service answering `GET /healthz` (its HTTP server alone) | %s | |\n' "$cpu_floor"
  printf '\n| CPU per `GetCase` call, µs | gateway | dispute-service | PostgreSQL |\n|---|---|---|---|\n| | %s | %s | %s |\n' \
    "${cpu_case[0]}" "${cpu_case[1]}" "${cpu_case[2]}"
fi
