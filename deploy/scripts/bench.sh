#!/usr/bin/env bash
# Measures a running mesh (release build, its own fresh database) and prints figures; nothing
# here is a test. CONCURRENCY and REQUESTS set the read load; FLOW_CONCURRENCY and
# FLOW_REQUESTS the incident flow. SECTIONS picks what runs (default: all of them, in this
# order): division flow sustained ladder scan index hotcase anchors; `cityyear` and `cityflow` run only when named (below). `anchors` ends the run with Pingan's figures
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
# goal: report -> webhook p99 at most 1 s at 300 a second for 60 s, nothing lost). The flows
# (flow, sustained, hotcase's other villages, cityflow) report from grids spread over every
# township in turn, as a city's would arrive, so that each report's own webhook is what is
# timed; after each, what became of every report whose webhook did not arrive, and the
# cluster warnings the run raised (flow_accounting).
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

# cityyear (issue 26, "fast at full size"; not in the default SECTIONS): a generated year of
# the city (CITY_PRESET: city, or demo for the small end of the curve; seed CITY_SEED, ending
# on the last day of the previous month, generated once into CITY_CACHE) on a PostgreSQL
# cluster of its own (bench-city, CITY_PG_PORT) and a mesh of its own (CITY_BASE and the five
# ports after it). It measures (1) each import's rows a second beside a raw COPY of the same
# rows into a fresh copy of the same schema, (2) ComputeMonthlyIndex for the whole city for
# one month beside the services' own fact statements run in psql, and every month of the
# history computed and recomputed, (3) EXPLAIN (ANALYZE, BUFFERS) of ListCases at a deep page
# and of GetRanking, ListCases p50/p95 (page 1 and page CITY_DEEP_PAGE) over CITY_LOOPS curl
# calls each, and the dashboard's first pages (today for the city, a county and a township, a
# case, the index page for the city and the township, the grid report page) p50/p95 over CITY_LOOPS requests each with EXPLAIN (ANALYZE, BUFFERS) of
# every statement each page sent (deploy/bench/pages.py), (4) each schema's size on disk and
# each service's RSS. CITY_YEARS (city only) generates and loads that many years of history
# instead of one, in a database of its own (year_city_3y for 3), for the cost curve. CITY_BIN runs other binaries than
# the release build (say so beside every figure). ComputeMonthlyIndex is timed once as the
# month's first computation and then CITY_INDEX_RUNS times again, each time followed by its
# facts as plain SQL; the ratio is of the medians.
# CITY_REUSE=1 keeps a year already loaded: when bench-city's database year_$CITY_PRESET holds
# as many grids, screening days and cases as the generated year's manifest, step (1) (the
# imports and the raw COPY, about ten minutes for the city) is skipped and only the index's
# computations are emptied (TRUNCATE of index.scores, months, actions and outbox), so every
# computation below is timed as on a freshly loaded year; otherwise the year is loaded as
# without it, and the next run with CITY_REUSE=1 finds it. The database is kept either way.
CITY_PRESET=${CITY_PRESET:-city}
CITY_SEED=${CITY_SEED:-26}
CITY_PG_PORT=${CITY_PG_PORT:-27555}
CITY_BASE=${CITY_BASE:-18380}
CITY_CACHE=${CITY_CACHE:-$PINGAN_STATE/cityyear-cache}
CITY_LOOPS=${CITY_LOOPS:-200}
CITY_DEEP_PAGE=${CITY_DEEP_PAGE:-50}
CITY_PAGE_SIZE=${CITY_PAGE_SIZE:-20}
CITY_INDEX_RUNS=${CITY_INDEX_RUNS:-5}
CITY_REUSE=${CITY_REUSE:-0}
CITY_YEARS=${CITY_YEARS:-1}
# The generated history's name: the preset, and its years when more than one (city-3y); its
# cache directory and database are named after it.
city_key() { if [ "$CITY_YEARS" = 1 ]; then echo "$CITY_PRESET"; else echo "$CITY_PRESET-${CITY_YEARS}y"; fi; }
# city_end: the generated history's last day, the last of the previous month in China.
city_end() { TZ=Asia/Shanghai date -d "$(TZ=Asia/Shanghai date +%Y-%m-01) -1 day" +%F; }
# pick_binaries DIR SETTING: sets bin to DIR when it is given (run where they are: copy them
# aside first if a build might relink them mid-run; SETTING names the variable that gave it, to
# say beside every figure), else to the release build, built first.
pick_binaries() {
  if [ -n "$1" ]; then
    bin=$1
    log "binaries: $bin ($2)"
  else
    log "building (release)"
    release_build >/dev/null
    bin=$(release_build --show-bin-path)
  fi
}
# year_counts MANIFEST_DIR / loaded_counts DATABASE_URL: grids, screening days and cases as the
# generated history's manifest says and as a database holds them; equal when it is loaded.
year_counts() { python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(m["grids"], m["screenings"], m["cases"])' "$1/manifest.json" 2>/dev/null || true; }
loaded_counts() { "$(pg_bin)/psql" "$1" -tAXc "SELECT (SELECT count(*) FROM grid.grids) || ' ' || (SELECT count(*) FROM grid.screenings) || ' ' || (SELECT count(*) FROM dispute.cases)" 2>/dev/null || true; }

# flow_accounting PSQL DATABASE_URL SINCE MISSING_FILE: after `pingan-bench flow --missing`,
# what became of each report whose own webhook did not arrive (no case, no warning, held back
# by a cluster warning of the same centre, delivered too late for the receiver, still pending
# in notify's ledger, never queued), and the cluster warnings raised and joined since SINCE
# (risk-service's clock), so that no report leaves the figure unaccounted for. A report held
# back by a cluster was folded into the cluster's push, as risk-service's rules say: not lost.
flow_accounting() {
  local psql=$1 url=$2 since=$3 missing=$4
  "$psql" "$url" -qAtX -v ON_ERROR_STOP=1 -F ' ' <<SQL
CREATE TEMP TABLE missing (incident_id uuid);
\\copy missing FROM '$missing'
WITH m AS (
    SELECT m.incident_id, r.case_id, w.id AS warning_id, w.held_by,
           (SELECT bool_or(d.delivered_at IS NOT NULL) FROM notify.deliveries d WHERE d.subject_id = w.id) AS delivered
    FROM missing m
    LEFT JOIN dispute.case_reports r ON r.incident_id = m.incident_id
    LEFT JOIN risk.warnings w ON w.case_id = r.case_id AND w.raised_at >= '$since'
)
SELECT format('  not arrived at the receiver: %s (no case: %s; case but no warning: %s; held back by a cluster warning of the same centre: %s; '
              'delivered after the receiver stopped waiting: %s; pending in notify: %s; never queued: %s)',
              count(*), count(*) FILTER (WHERE case_id IS NULL), count(*) FILTER (WHERE case_id IS NOT NULL AND warning_id IS NULL),
              count(*) FILTER (WHERE held_by IS NOT NULL), count(*) FILTER (WHERE held_by IS NULL AND delivered),
              count(*) FILTER (WHERE held_by IS NULL AND NOT delivered), count(*) FILTER (WHERE warning_id IS NOT NULL AND held_by IS NULL AND delivered IS NULL))
FROM m;
SELECT format('  since the run began: %s case warnings raised, %s of them held back by a cluster; %s cluster warnings raised (%s), %s cases joined clusters',
              count(*) FILTER (WHERE case_id IS NOT NULL), count(*) FILTER (WHERE held_by IS NOT NULL), count(*) FILTER (WHERE case_id IS NULL),
              coalesce(string_agg(DISTINCT rule || ' → ' || centre_code, ', ') FILTER (WHERE case_id IS NULL), 'none'),
              (SELECT count(*) FROM risk.cluster_members WHERE joined_at >= '$since'))
FROM risk.warnings WHERE raised_at >= '$since';
SQL
}

# backlog_start PSQL DATABASE_URL FILE / backlog_stop: while a flow runs, every 5 s, the events
# waiting in grid's, dispute's and risk's outboxes and the pushes waiting in notify's ledger
# (the stages a report passes on its way to its webhook), so that a growing delay shows where
# it builds up; backlog_stop prints them on one line.
backlog_start() {
  local psql=$1 url=$2 file=$3
  : > "$file"
  while :; do
    "$psql" "$url" -qAtX -F ' ' -c "SELECT (SELECT count(*) FROM grid.outbox WHERE delivered_at IS NULL AND parked_at IS NULL),
      (SELECT count(*) FROM dispute.outbox WHERE delivered_at IS NULL AND parked_at IS NULL),
      (SELECT count(*) FROM risk.outbox WHERE delivered_at IS NULL AND parked_at IS NULL),
      (SELECT count(*) FROM notify.deliveries WHERE delivered_at IS NULL)" >> "$file" 2>/dev/null || true
    sleep 5
  done &
  backlog_pid=$!
  backlog_file=$file
  pids+=("$backlog_pid")
}
backlog_stop() {
  kill "$backlog_pid" 2>/dev/null; wait "$backlog_pid" 2>/dev/null || true
  awk 'BEGIN { printf "  waiting every 5 s (grid outbox / dispute outbox / risk outbox / notify pushes):" }
       { printf "%s %ds %s/%s/%s/%s", (NR == 1 ? "" : ";"), (NR - 1) * 5, $1, $2, $3, $4 } END { print "" }' "$backlog_file"
}

# share_start CLUSTER PID... / share_stop: the CPU the mesh (the PIDs given and the cluster's
# PostgreSQL processes) used from one to the other, beside what the whole machine used and
# had: on the shared cores, how much of them the flow got. The load generator counts with
# the rest of the machine.
mesh_ticks() {
  local main
  main=$(head -1 "$PINGAN_STATE/$share_cluster/postmaster.pid")
  local pid files=()
  for pid in "${share_pids[@]}" "$main" $(pgrep -P "$main"); do files+=("/proc/$pid/stat"); done
  awk '{ sub(/^.*\) /, ""); ticks += $12 + $13 } END { print ticks + 0 }' "${files[@]}" 2>/dev/null
}
machine_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
share_start() {
  share_cluster=$1; shift
  share_pids=("$@")
  share_began=$(date +%s.%N) share_mesh=$(mesh_ticks) share_machine=$(machine_ticks)
}
share_stop() {
  awk -v mesh=$(($(mesh_ticks) - share_mesh)) -v busy=$(($(machine_ticks) - share_machine)) -v hz="$(getconf CLK_TCK)" \
    -v wall="$(seconds_since "$share_began")" -v cores="$(nproc)" \
    'BEGIN { printf "  CPU over the %.0f s from the first report to the last webhook or the end of the wait: the six services and PostgreSQL %.1f s, everything else (the load generator included) %.1f s, idle %.1f s, of %.1f s on %d cores\n",
             wall, mesh / hz, (busy - mesh) / hz, wall * cores - busy / hz, wall * cores, cores }'
}

# seconds_since START: wall-clock seconds since START (date +%s.%N), two decimals.
seconds_since() { awk -v a="$(date +%s.%N)" -v b="$1" 'BEGIN { printf "%.2f", a - b }'; }
# median: the median of the numbers on stdin (whitespace-separated).
median() { tr -s ' \n' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# ratio A B [DECIMALS]: A / B.
ratio() { awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN { if (b == 0) print "n/a"; else printf "%.*f", d, a / b }'; }

cityyear() {
  local psql pg_dump bin end dir db url copy_url admin_url logs password gw started status kind
  local month months admin i page deep_token log_file log_offset scratch_city
  psql=$(pg_bin)/psql pg_dump=$(pg_bin)/pg_dump
  end=$(city_end)
  dir="$CITY_CACHE/$(city_key)-$CITY_SEED-$end"
  if [ ! -f "$dir/manifest.json" ]; then
    log "generating the $CITY_PRESET preset ($CITY_YEARS year(s), seed $CITY_SEED, ending $end) into $dir"
    started=$(date +%s.%N)
    rm -rf "$dir.tmp"; mkdir -p "$CITY_CACHE"
    python3 "$PINGAN_ROOT/deploy/scripts/generate-year.py" --preset "$CITY_PRESET" --years "$CITY_YEARS" --seed "$CITY_SEED" --end "$end" --out "$dir.tmp" >/dev/null
    mv "$dir.tmp" "$dir"
    echo "generated in $(seconds_since "$started") s"
  fi
  python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print("{preset}: {villages:,} villages, {grids:,} grids, {members:,} members, {screenings:,} screening days, {cases:,} cases, {first_day} to {last_day}".format(**m))' "$dir/manifest.json"

  cd "$PINGAN_ROOT"
  pick_binaries "${CITY_BIN:-}" CITY_BIN

  start_cluster bench-city "$CITY_PG_PORT"
  db=year_$(city_key | tr - _)
  admin_url=$(cluster_url bench-city "$CITY_PG_PORT" postgres)
  url=$(cluster_url bench-city "$CITY_PG_PORT" "$db")
  copy_url=$(cluster_url bench-city "$CITY_PG_PORT" year_copy)
  # CITY_REUSE=1: keep the loaded year when its counts are the manifest's.
  local reuse="" loaded wanted
  if [ "$CITY_REUSE" = 1 ]; then
    wanted=$(year_counts "$dir")
    loaded=$(loaded_counts "$url")
    if [ "$loaded" = "$wanted" ]; then
      reuse=1
      log "CITY_REUSE=1: $db already holds the year ($wanted grids, screening days, cases); skipping the imports, emptying the index's computations"
      "$psql" "$url" -qX -v ON_ERROR_STOP=1 -c "DO \$\$ BEGIN
        IF to_regclass('index.scores') IS NOT NULL THEN TRUNCATE index.scores, index.months, index.actions, index.outbox; END IF; END \$\$"
    else
      log "CITY_REUSE=1: $db does not hold the year (${loaded:-no such database} against $wanted); loading it"
    fi
  fi
  if [ -z "$reuse" ]; then
    "$psql" "$admin_url" -qX -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" \
      -c "DROP DATABASE IF EXISTS year_copy WITH (FORCE)" -c "CREATE DATABASE year_copy"
  fi
  scratch_city=$(mktemp -d)
  pids=()
  trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; stop_cluster bench-city; rm -rf "$scratch_city"' EXIT
  local -x DATABASE_URL=$url MESH_SECRET=$(random_hex 32) TOKEN_SECRET=$(random_hex 32) LOG_LEVEL=warning BCRYPT_COST=10
  echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, shared; PostgreSQL $("$psql" "$url" -tAXc 'SHOW server_version'), fsync ${PINGAN_PG_FSYNC:-on}; binaries $bin"

  if [ -z "$reuse" ]; then
    # 1. The imports, each timed, then a raw COPY of the same rows into a fresh copy of the schema.
    log "1. imports (grid-service import, dispute-service import cases), then raw COPY of the same rows"
    declare -A import_seconds=() import_rows=()
    # import_timed SERVICE KIND FILE: one import, timed; prints its summary line.
    import_timed() {
      local service=$1 kind=$2 file=$3 started out status=0 seconds imported
      started=$(date +%s.%N)
      out=$("$bin/$service" import "$kind" "$file" --by bench-cityyear 2>&1) || status=$?
      seconds=$(seconds_since "$started")
      imported=$(printf '%s\n' "$out" | tail -n 1 | sed -n 's/.*imported \([0-9]*\).*/\1/p')
      import_seconds[$kind]=$seconds import_rows[$kind]=${imported:-0}
      printf '%s import %s %s: %s s, exit %s: %s\n' "$service" "$kind" "$(basename "$file")" "$seconds" "$status" "$(printf '%s\n' "$out" | tail -n 1)"
      if [ "$status" != 0 ]; then
        echo "  refused lines (first 10):"; printf '%s\n' "$out" | grep -m 10 '^line ' | sed 's/^/    /' || true
      fi
    }
    import_timed grid-service divisions "$PINGAN_ROOT/Services/grid/Sources/Data/changde-divisions.csv"
    import_timed grid-service divisions "$dir/divisions.csv"
    for kind in grids members screening; do import_timed grid-service "$kind" "$dir/$kind.ndjson"; done
    import_timed dispute-service cases "$dir/cases.ndjson"
    "$psql" "$url" -qXc "ANALYZE"

    # The same rows, dumped (untimed) as COPY ... FROM stdin, loaded (timed) into a fresh copy of
    # the schemas (pg_dump --schema-only: the same tables, partitions, keys, indexes and checks).
    "$pg_dump" --schema-only -n grid -n dispute "$url" | "$psql" -qX -v ON_ERROR_STOP=1 "$copy_url" >/dev/null
    "$pg_dump" --data-only -t grid.divisions "$url" | "$psql" -qX -v ON_ERROR_STOP=1 "$copy_url" >/dev/null
    "$pg_dump" --data-only -t grid.grids "$url" > "$scratch_city/grids.sql"
    "$pg_dump" --data-only -t grid.members "$url" > "$scratch_city/members.sql"
    "$pg_dump" --data-only --load-via-partition-root -t 'grid.screenings*' "$url" > "$scratch_city/screening.sql"
    "$pg_dump" --data-only -n dispute "$url" > "$scratch_city/cases.sql" 2> "$scratch_city/cases.dump.err" || cat "$scratch_city/cases.dump.err"
    declare -A copy_seconds=() copy_rows=()
    for kind in grids members screening cases; do
      copy_rows[$kind]=$(awk '/^COPY .* FROM stdin;$/ { on = 1; next } /^\\\.$/ { on = 0 } on { n++ } END { print n + 0 }' "$scratch_city/$kind.sql")
      started=$(date +%s.%N); status=0
      "$psql" -qX -v ON_ERROR_STOP=1 -f "$scratch_city/$kind.sql" "$copy_url" >/dev/null 2> "$scratch_city/$kind.err" || status=$?
      copy_seconds[$kind]=$(seconds_since "$started")
      [ "$status" = 0 ] || { echo "raw COPY of $kind failed:"; head -5 "$scratch_city/$kind.err"; }
    done
    printf '\n| import | rows | service import | rows/s | raw COPY of the same rows | rows/s | ratio (goal ≥ 0.5) |\n|---|---|---|---|---|---|---|\n'
    local svc_rate copy_rate
    for kind in grids members screening cases; do
      svc_rate=$(ratio "${import_rows[$kind]}" "${import_seconds[$kind]}" 0)
      if [ "$kind" = cases ]; then
        # The raw COPY loads every row of every dispute table the import filled; rates in cases.
        copy_rate=$(ratio "${import_rows[$kind]}" "${copy_seconds[$kind]}" 0)
        printf '| cases (with their %s rows in all dispute tables) | %s | %s s | %s cases/s | %s s | %s cases/s (%s rows/s) | %s |\n' \
          "${copy_rows[$kind]}" "${import_rows[$kind]}" "${import_seconds[$kind]}" "$svc_rate" "${copy_seconds[$kind]}" "$copy_rate" \
          "$(ratio "${copy_rows[$kind]}" "${copy_seconds[$kind]}" 0)" "$(ratio "${copy_seconds[$kind]}" "${import_seconds[$kind]}")"
      else
        copy_rate=$(ratio "${copy_rows[$kind]}" "${copy_seconds[$kind]}" 0)
        printf '| %s | %s | %s s | %s | %s s (%s rows) | %s | %s |\n' "$kind" "${import_rows[$kind]}" "${import_seconds[$kind]}" "$svc_rate" \
          "${copy_seconds[$kind]}" "${copy_rows[$kind]}" "$copy_rate" "$(ratio "$svc_rate" "$copy_rate")"
      fi
    done
    echo
    "$psql" "$admin_url" -qXc "DROP DATABASE IF EXISTS year_copy WITH (FORCE)"
  else
    echo "1. imports: skipped (CITY_REUSE=1, the year loaded by an earlier run)"
  fi

  # 2. The index, with the year loaded and the mesh running.
  logs="$PINGAN_STATE/bench-city-logs"; rm -rf "$logs"
  mesh_start "$bin" "$logs" "$CITY_BASE"
  local city_pids=("${pids[@]}") city_names=(grid-service dispute-service risk-service index-service notify-service gateway)
  gw="http://127.0.0.1:$CITY_BASE"
  password=bench-$(random_hex 6)
  PINGAN_PASSWORD=$password "$bin/gateway" add-user admin 430700000000 admin,staff,leader,mediator >/dev/null
  admin=$(rpc "$gw" pingan.gateway.v1.AuthService/Login "{\"username\":\"admin\",\"password\":\"$password\"}" | json_field "['token']")
  months=$(python3 - "$dir/manifest.json" <<'PY'
import datetime, json, sys
m = json.load(open(sys.argv[1]))
d, last = datetime.date.fromisoformat(m["first_day"]), datetime.date.fromisoformat(m["last_day"])
y, mo = d.year, d.month
while (y, mo) <= (last.year, last.month):
    print(f"{y:04d}-{mo:02d}"); y, mo = (y + 1, 1) if mo == 12 else (y, mo + 1)
PY
)
  month=$(tail -n 1 <<<"$months")
  log "2. ComputeMonthlyIndex for the whole city, $month, through the gateway as admin"
  # compute_month MONTH: one ComputeMonthlyIndex; prints "SECONDS HTTP_CODE" and keeps the answer.
  compute_month() {
    curl -sS -o "$scratch_city/compute.json" -w '%{time_total} %{http_code}' -H 'Content-Type: application/json' \
      -H "Authorization: Bearer $admin" -d "{\"month\":\"$1\",\"reason\":\"bench cityyear\"}" \
      "$gw/pingan.index.v1.IndexService/ComputeMonthlyIndex"
  }
  # outbox_drained: waits (at most 300 s) until index-service has handed every notice its
  # computations queued (an action's, a frozen month's) to notify-service, so that the next
  # figure times computations, not the delivery of the last ones' notices; prints the wait.
  outbox_drained() {
    local started i
    started=$(date +%s.%N)
    for ((i = 0; i < 3000; i++)); do
      [ "$("$psql" "$url" -tAXc "SELECT count(*) FROM index.outbox WHERE delivered_at IS NULL AND parked_at IS NULL")" = 0 ] && break
      sleep 0.1
    done
    seconds_since "$started"
  }
  local index_one
  index_one=$(compute_month "$month")
  echo "ComputeMonthlyIndex $month (its first computation, which creates the month's actions): ${index_one% *} s (HTTP ${index_one#* }): $(head -c 300 "$scratch_city/compute.json")"
  echo "index-service's outbox handed the month's notices to notify-service in $(outbox_drained) s"

  # The same facts as the services read them: their statements, for the whole city and the month.
  local start_ts end_ts first_day last_day
  start_ts="$month-01 00:00:00+08"
  end_ts="$(TZ=Asia/Shanghai date -d "$month-01 +1 month" +%Y-%m-01) 00:00:00+08"
  first_day=$month-01
  last_day=$(TZ=Asia/Shanghai date -d "$month-01 +1 month -1 day" +%F)
  cat > "$scratch_city/facts.sql" <<SQL
\\set root '430700000000'
\\set last '430799999999'
\\set s '$start_ts'
\\set e '$end_ts'
\\timing on
-- grid-service: GridStore.countIncidents
SELECT village_code, count(*) FROM grid.incidents
WHERE village_code BETWEEN :'root' AND :'last' AND reported_at >= :'s' AND reported_at < :'e'
GROUP BY village_code ORDER BY village_code;
-- grid-service: GridStore.screeningFacts. Plain SQL writes the days as date literals; grid binds
-- them as text cast to date (\$4::date), which PostgreSQL prunes to the month's partition only
-- at execution, so its plan costs every partition and is JIT-compiled: 193-275 ms against 81-90
-- ms for these literals or for date-typed parameters (EXPLAIN ANALYZE on the city, 2026-12-07).
WITH grids AS (
    SELECT village_code, count(*) AS grids FROM grid.grids
    WHERE village_code BETWEEN :'root' AND :'last' AND created_at < :'e'
    GROUP BY village_code
), screened AS (
    SELECT village_code, count(*) AS days, count(*) FILTER (WHERE disputes_found = 0) AS nothing,
           sum(households_visited) AS households, sum(disputes_found) AS found
    FROM grid.screenings
    WHERE village_code BETWEEN :'root' AND :'last' AND day BETWEEN '$first_day'::date AND '$last_day'::date
    GROUP BY village_code
)
SELECT coalesce(g.village_code, s.village_code), coalesce(g.grids, 0), coalesce(s.days, 0), coalesce(s.nothing, 0),
       coalesce(s.households, 0)::bigint, coalesce(s.found, 0)::bigint
FROM grids g FULL JOIN screened s ON s.village_code = g.village_code
ORDER BY 1;
-- dispute-service: PostgresCaseReports.facts (six statements)
SELECT village_code,
       count(*) FILTER (WHERE opened_at >= :'s' AND opened_at < :'e'),
       count(*) FILTER (WHERE resolved_at >= :'s' AND resolved_at < :'e'),
       count(*) FILTER (WHERE opened_at >= :'s' AND opened_at < :'e' AND violence_occurred)
FROM dispute.cases
WHERE village_code BETWEEN :'root' AND :'last' AND opened_at < :'e' AND (resolved_at IS NULL OR resolved_at >= :'s' OR opened_at >= :'s')
GROUP BY village_code;
SELECT c.village_code, count(*), count(*) FILTER (WHERE a.outcome = 'settled'), count(*) FILTER (WHERE a.ended_at <= a.due_at)
FROM dispute.rung_attempts a JOIN dispute.cases c ON c.id = a.case_id
WHERE c.village_code BETWEEN :'root' AND :'last' AND a.ended_at >= :'s' AND a.ended_at < :'e'
GROUP BY c.village_code;
SELECT c.village_code,
       count(*) FILTER (WHERE s.fed_back_at >= :'s' AND s.fed_back_at < :'e'),
       count(*) FILTER (WHERE (s.reported_at >= :'s' AND s.reported_at < :'e' AND s.reported_at > s.report_due)
                          OR (s.fed_back_at >= :'s' AND s.fed_back_at < :'e' AND s.fed_back_at > s.feedback_due))
FROM dispute.summons s JOIN dispute.cases c ON c.id = s.case_id
WHERE c.village_code BETWEEN :'root' AND :'last'
  AND ((s.reported_at >= :'s' AND s.reported_at < :'e') OR (s.fed_back_at >= :'s' AND s.fed_back_at < :'e'))
GROUP BY c.village_code;
SELECT c.village_code, count(*), count(*) FILTER (WHERE v.outcome = 'confirmed')
FROM dispute.return_visits v JOIN dispute.cases c ON c.id = v.case_id
WHERE c.village_code BETWEEN :'root' AND :'last' AND v.visited_at >= :'s' AND v.visited_at < :'e' AND v.visited_by <> 'dispute-service'
GROUP BY c.village_code;
SELECT c.village_code, count(*) FILTER (WHERE t.kind = 'overdue'), count(*) FILTER (WHERE t.kind IN ('incident_joined', 'reopened')),
       count(*) FILTER (WHERE t.kind = 'reopened')
FROM dispute.timeline t JOIN dispute.cases c ON c.id = t.case_id
WHERE c.village_code BETWEEN :'root' AND :'last' AND t.at >= :'s' AND t.at < :'e' AND t.kind IN ('overdue', 'incident_joined', 'reopened')
GROUP BY c.village_code;
SELECT village_code, count(*), count(*) FILTER (WHERE rating >= 4)
FROM dispute.resident_requests
WHERE village_code BETWEEN :'root' AND :'last' AND rated_at >= :'s' AND rated_at < :'e'
GROUP BY village_code;
-- risk-service: PostgresRiskStore.facts (WarningFacts)
SELECT village_code, count(*), count(*) FILTER (WHERE status <> 'raised'),
       count(*) FILTER (WHERE status <> 'raised' AND NOT EXISTS (
           SELECT 1 FROM risk.warning_steps s WHERE s.warning_id = w.id AND s.kind = 'escalated'))
FROM risk.warnings w
WHERE village_code BETWEEN :'root' AND :'last' AND raised_at >= :'s' AND raised_at < :'e' AND case_id IS NOT NULL
GROUP BY village_code ORDER BY village_code;
SQL
  # Writing the month's scores as plain SQL, for scale (not in the goal's ratio): the rows the
  # service just stored, copied back in as one more version inside a transaction rolled back.
  cat > "$scratch_city/write.sql" <<SQL
\\copy (SELECT month, version + 1000000, code, name, parent_code, score, rank, rank_low, rank_high, enough_data, coalesce(indicators_json, indicators::json), computed_at FROM index.scores WHERE (month, version) = (SELECT month, max(version) FROM index.months WHERE month = '$month' GROUP BY month)) TO '$scratch_city/scores.copy'
\\timing on
BEGIN;
INSERT INTO index.months SELECT month, version + 1000000, status, catalogue_version, computed_at, computed_by, reason FROM index.months WHERE month = '$month' ORDER BY version DESC LIMIT 1;
\\copy index.scores (month, version, code, name, parent_code, score, rank, rank_low, rank_high, enough_data, indicators_json, computed_at) FROM '$scratch_city/scores.copy'
ROLLBACK;
SQL
  # Each recomputation (a new version of the frozen month), then its facts in psql: the two
  # alternate, so both see the same machine.
  local run again_s=() sql_runs=() write_runs=() out index_median sql_median write_median
  for ((run = 1; run <= CITY_INDEX_RUNS; run++)); do
    out=$(compute_month "$month")
    [ "${out#* }" = 200 ] || echo "ComputeMonthlyIndex $month: HTTP ${out#* }: $(head -c 300 "$scratch_city/compute.json")"
    again_s+=("${out% *}")
    "$psql" "$url" -X -v ON_ERROR_STOP=1 -o /dev/null -f "$scratch_city/facts.sql" > "$scratch_city/facts.out" 2>&1 || cat "$scratch_city/facts.out"
    sql_runs+=("$(awk '/^Time: / { t += $2 } END { printf "%.1f", t }' "$scratch_city/facts.out")")
    [ "$run" = 1 ] && echo "the same facts in psql (\\timing; grid's incidents and screening, dispute's six and risk's statements, whole city, $month), run 1: ${sql_runs[0]} ms ($(awk '/^Time: / { printf "%s%s", sep, $2; sep = " + " }' "$scratch_city/facts.out") ms)"
    "$psql" "$url" -X -v ON_ERROR_STOP=1 -o /dev/null -f "$scratch_city/write.sql" > "$scratch_city/write.out" 2>&1 || cat "$scratch_city/write.out"
    write_runs+=("$(awk '/^Time: / { t += $2 } END { printf "%.1f", t }' "$scratch_city/write.out")")
  done
  index_median=$(printf '%s\n' "${again_s[@]}" | median)
  sql_median=$(printf '%s\n' "${sql_runs[@]}" | median)
  write_median=$(printf '%s\n' "${write_runs[@]}" | median)
  echo "ComputeMonthlyIndex $month again (a new version each), $CITY_INDEX_RUNS runs: ${again_s[*]} s; median $index_median s"
  echo "the same facts in psql, $CITY_INDEX_RUNS runs (each after one of the above): ${sql_runs[*]} ms; median $sql_median ms"
  printf 'ComputeMonthlyIndex / plain SQL (medians): %s; first computation / median plain SQL: %s; goal ≤ 1.5\n' \
    "$(ratio "$(awk -v s="$index_median" 'BEGIN { print s * 1000 }')" "$sql_median" 2)" \
    "$(ratio "$(awk -v s="${index_one% *}" 'BEGIN { print s * 1000 }')" "$sql_median" 2)"
  echo "for scale, not in the goal: writing the month's $(head -c 200 "$scratch_city/compute.json" | sed -n 's/.*"divisionsScored":\([0-9]*\).*/\1/p') scores as plain SQL (INSERT of the version, COPY of its rows, rolled back): ${write_runs[*]} ms, median $write_median ms; ComputeMonthlyIndex / (facts + writing) in plain SQL: $(ratio "$(awk -v s="$index_median" 'BEGIN { print s * 1000 }')" "$(awk -v a="$sql_median" -v b="$write_median" 'BEGIN { print a + b }')" 2)"

  local pass codes m
  local count_months
  count_months=$(wc -w <<<"$months")
  for pass in "first computation of the $((count_months - 1)) other months" "all $count_months recomputed"; do
    echo "(index-service's outbox drained in $(outbox_drained) s before this pass)"
    started=$(date +%s.%N); codes=""
    for m in $months; do
      [ "$pass" != "all $count_months recomputed" ] && [ "$m" = "$month" ] && continue
      codes+=" $(compute_month "$m" | cut -d' ' -f2)"
    done
    echo "ComputeMonthlyIndex, $pass: $(seconds_since "$started") s (HTTP codes:$(tr ' ' '\n' <<<"$codes" | sort | uniq -c | awk 'NF == 2 { printf " %s×%s", $1, $2 }'))"
  done

  # 3. ListCases at a deep page and GetRanking: their statements as the services send them
  # (caught in the server log), then EXPLAIN (ANALYZE, BUFFERS) of each.
  log "3. ListCases (whole city, page size $CITY_PAGE_SIZE) page 1 and page $CITY_DEEP_PAGE; GetRanking"
  list_cases() {
    curl -sS -o "$scratch_city/list.json" -w '%{time_total} %{http_code}' -H 'Content-Type: application/json' \
      -H "Authorization: Bearer $admin" -d "{\"divisionCode\":\"430700000000\",\"pageSize\":$CITY_PAGE_SIZE${1:+,\"pageToken\":\"$1\"}}" \
      "$gw/pingan.dispute.v1.DisputeService/ListCases"
  }
  deep_token=""
  for ((page = 1; page < CITY_DEEP_PAGE; page++)); do
    list_cases "$deep_token" >/dev/null
    deep_token=$(json_field ".get('nextPageToken', '')" < "$scratch_city/list.json")
    [ -n "$deep_token" ] || { echo "ListCases: no next page after page $page: $(head -c 300 "$scratch_city/list.json")"; break; }
  done
  # The township whose villages GetRanking ranks: 小渡口镇 when the preset has it, else the first.
  local township
  township=$("$psql" "$url" -tAXc "SELECT coalesce(min(left(village_code, 9)) FILTER (WHERE village_code LIKE '430723102%'), min(left(village_code, 9))) || '000' FROM grid.grids")
  log_file="$PINGAN_STATE/bench-city/server.log"
  log_offset=$(as_pg stat -c %s "$log_file")
  "$psql" "$url" -qX -c "ALTER SYSTEM SET log_min_duration_statement = 0" -c "SELECT pg_reload_conf()" >/dev/null; sleep 1
  list_cases "" >/dev/null; list_cases "$deep_token" >/dev/null
  rpc "$gw" pingan.index.v1.IndexService/GetRanking "{\"parentCode\":\"430700000000\",\"month\":\"$month\"}" "$admin" > "$scratch_city/ranking-city.json"
  rpc "$gw" pingan.index.v1.IndexService/GetRanking "{\"parentCode\":\"$township\",\"month\":\"$month\"}" "$admin" > "$scratch_city/ranking-township.json"
  sleep 1
  "$psql" "$url" -qX -c "ALTER SYSTEM RESET log_min_duration_statement" -c "SELECT pg_reload_conf()" >/dev/null
  echo "GetRanking answers: the city's $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1])).get("scores", [])))' "$scratch_city/ranking-city.json") counties, $township's $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1])).get("scores", [])))' "$scratch_city/ranking-township.json") villages"
  as_pg tail -c +$((log_offset + 1)) "$log_file" > "$scratch_city/statements.log"
  python3 - "$scratch_city/statements.log" "$scratch_city" <<'PY'
import re, sys
text, out = open(sys.argv[1], encoding="utf-8", errors="replace").read(), sys.argv[2]
entries = re.split(r"\n(?=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", text)
found = {}
for i, entry in enumerate(entries):
    m = re.search(r"LOG:\s+duration: [0-9.]+ ms\s+execute [^:]*:\s(.*)", entry, re.S)
    if not m: continue
    sql = m.group(1).strip()
    params = {}
    if i + 1 < len(entries) and "DETAIL:  parameters:" in entries[i + 1]:
        for n, v in re.findall(r"\$(\d+) = (NULL|'(?:[^']|'')*')", entries[i + 1]): params[n] = v
    if "FROM dispute.cases c" in sql and "ORDER BY c.opened_at DESC, c.id DESC" in sql:
        name = "listcases-deep" if params.get("3", "NULL") != "NULL" else "listcases-first"
    elif "FROM index.scores s" in sql and "LEFT JOIN LATERAL" in sql:
        name = "ranking-city" if params.get("2") == "'430700000000'" else "ranking-township"
    else: continue
    bound = re.sub(r"\$(\d+)", lambda g: params.get(g.group(1), "NULL"), sql)
    found[name] = (sql, bound, params)
for name, (sql, bound, params) in found.items():
    with open(f"{out}/{name}.sql", "w") as f:
        f.write(f"-- as sent: {' '.join(sql.split())}\n-- parameters: {params}\nEXPLAIN (ANALYZE, BUFFERS) {bound};\n")
print("statements caught in the server log:", ", ".join(sorted(found)) or "none")
PY
  local name
  for name in listcases-first listcases-deep ranking-city ranking-township; do
    [ -f "$scratch_city/$name.sql" ] || { echo "$name: statement not caught"; continue; }
    echo; echo "EXPLAIN (ANALYZE, BUFFERS) $name:"
    sed -n '1,2p' "$scratch_city/$name.sql" | cut -c 1-400 | sed 's/^/    /'
    if grep -v '^--' "$scratch_city/$name.sql" | grep -qiw 'offset'; then echo "    (the statement has an OFFSET)"; else echo "    (no OFFSET in the statement)"; fi
    "$psql" "$url" -X -f "$scratch_city/$name.sql" 2>&1 | sed 's/^/    /'
  done

  # p50/p95 of ListCases, page 1 and the deep page, CITY_LOOPS curl calls each, one at a time.
  local which tok
  for which in first deep; do
    tok=""; [ "$which" = deep ] && tok=$deep_token
    : > "$scratch_city/times-$which"
    for ((i = 0; i < CITY_LOOPS; i++)); do list_cases "$tok" >> "$scratch_city/times-$which"; echo >> "$scratch_city/times-$which"; done
    python3 - "$scratch_city/times-$which" "$which" "$CITY_DEEP_PAGE" "$CITY_PAGE_SIZE" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
t = sorted(float(r[0]) * 1000 for r in rows); bad = sum(1 for r in rows if r[1] != "200")
q = lambda p: t[min(len(t) - 1, int(round(p * (len(t) - 1))))]
page = "page 1" if sys.argv[2] == "first" else f"page {sys.argv[3]}"
print(f"ListCases {page} (size {sys.argv[4]}, whole city) through the gateway, {len(t)} curl calls one at a time: "
      f"p50 {q(.5):.1f} ms, p95 {q(.95):.1f} ms, max {t[-1]:.1f} ms, non-200 {bad}")
PY
  done

  # The dashboard's first pages, as the city's administrator opens them: how long each takes
  # and every statement each sends, explained.
  log "3. the dashboard's pages: today (city, ${township:0:6}000000, $township), a case, the index (city, $township), the grid report page"
  python3 "$PINGAN_ROOT/deploy/bench/pages.py" --gateway "$gw" --token "$admin" --township "$township" --month "$month" \
    --psql "$psql" --url "$url" --log-file "$log_file" --loops "$CITY_LOOPS" --out "$scratch_city/pages" \
    || echo "the pages' measurement failed"

  # 4. Size on disk per schema, and each service's RSS after these runs.
  log "4. size on disk per schema; RSS of each service"
  "$psql" "$url" -X -c "SELECT n.nspname AS schema, pg_size_pretty(sum(pg_total_relation_size(c.oid))) AS size,
      sum(pg_total_relation_size(c.oid)) AS bytes
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
    GROUP BY 1 ORDER BY 3 DESC" -c "SELECT pg_size_pretty(pg_database_size(current_database())) AS database"
  for i in "${!city_pids[@]}"; do
    printf 'RSS %s: %s MiB\n' "${city_names[$i]}" "$(ps -o rss= -p "${city_pids[$i]}" | awk '{ printf "%.1f", $1 / 1024 }')"
  done

  kill "${pids[@]}" 2>/dev/null; wait "${pids[@]}" 2>/dev/null || true
  pids=()
  stop_cluster bench-city
  rm -rf "$scratch_city"
  trap - EXIT
}

# cityflow (issue 26; not in the default SECTIONS; after cityyear when both are named): report
# -> signed webhook with the city's year loaded. Needs the year a cityyear run loaded into
# bench-city (CITY_PRESET, CITY_PG_PORT; CITY_REUSE=1 keeps it there). The flow runs on a
# copy of that database (CREATE DATABASE ... TEMPLATE, dropped afterwards), so the year stays
# exactly as loaded for the next CITY_REUSE=1 run; a mesh of its own (CITY_BASE, the receiver
# on CITY_BASE + 10) starts on the copy. The reporters are the year's own: the first grid of
# every village with one of its grid workers, the lines in turn over the townships, each
# township subscribed to its warnings; they report as admin. FLOW_RATE reports a second for
# FLOW_SECONDS (open loop, at most 512 in flight), then what became of each report, and each
# service's RSS.
cityflow() {
  local psql bin end dir db url admin_url flow_db flow_url started logs gw password admin since wanted loaded i
  psql=$(pg_bin)/psql
  end=$(city_end)
  dir="$CITY_CACHE/$(city_key)-$CITY_SEED-$end"
  cd "$PINGAN_ROOT"
  pick_binaries "${CITY_BIN:-}" CITY_BIN
  start_cluster bench-city "$CITY_PG_PORT"
  db=year_$(city_key | tr - _) flow_db=year_flow
  admin_url=$(cluster_url bench-city "$CITY_PG_PORT" postgres)
  url=$(cluster_url bench-city "$CITY_PG_PORT" "$db")
  flow_url=$(cluster_url bench-city "$CITY_PG_PORT" "$flow_db")
  wanted=$(year_counts "$dir")
  loaded=$(loaded_counts "$url")
  if [ -z "$wanted" ] || [ "$loaded" != "$wanted" ]; then
    echo "cityflow: bench-city (port $CITY_PG_PORT) does not hold the $CITY_PRESET year (${loaded:-no database $db} against ${wanted:-no manifest in $dir}); run SECTIONS=cityyear first" >&2
    stop_cluster bench-city
    return 1
  fi
  log "copying $db to $flow_db (the flow's reports land in the copy, which is dropped afterwards)"
  started=$(date +%s.%N)
  "$psql" "$admin_url" -qX -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $flow_db WITH (FORCE)" \
    -c "CREATE DATABASE $flow_db TEMPLATE $db STRATEGY FILE_COPY"
  echo "copied in $(seconds_since "$started") s"
  scratch_flow=$(mktemp -d)
  pids=()
  trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; "$(pg_bin)/psql" "$(cluster_url bench-city "$CITY_PG_PORT" postgres)" -qXc "DROP DATABASE IF EXISTS year_flow WITH (FORCE)" 2>/dev/null; stop_cluster bench-city; rm -rf "$scratch_flow"' EXIT
  local receiver_port=$((CITY_BASE + 10))
  local -x DATABASE_URL=$flow_url MESH_SECRET=$(random_hex 32) TOKEN_SECRET=$(random_hex 32) LOG_LEVEL=warning BCRYPT_COST=10 \
    WEBHOOK_ALLOWED_HOSTS=127.0.0.1:$receiver_port
  logs="$PINGAN_STATE/bench-cityflow-logs"; rm -rf "$logs"
  mesh_start "$bin" "$logs" "$CITY_BASE"
  local flow_pids=("${pids[@]}") flow_names=(grid-service dispute-service risk-service index-service notify-service gateway)
  gw="http://127.0.0.1:$CITY_BASE"
  password=bench-$(random_hex 6)
  PINGAN_PASSWORD=$password "$bin/gateway" add-user admin 430700000000 admin,staff,leader,mediator >/dev/null
  admin=$(rpc "$gw" pingan.gateway.v1.AuthService/Login "{\"username\":\"admin\",\"password\":\"$password\"}" | json_field "['token']")
  echo "machine: $(nproc) cores, shared; load average $(cut -d' ' -f1-3 /proc/loadavg); binaries $bin"
  "$psql" "$flow_url" -qAtX -F ' ' -c "SELECT DISTINCT ON (g.village_code) g.village_code, g.id, m.id
      FROM grid.grids g JOIN grid.members m ON m.grid_id = g.id AND m.role = 'grid_worker'
      ORDER BY g.village_code, g.id, m.id" \
    | sort -k1,1 | awk '{ n[substr($1, 1, 9)]++; print n[substr($1, 1, 9)], $0 }' | sort -k1,1n -k2,2 | cut -d' ' -f2- > "$scratch_flow/villages"
  "$bin/pingan-bench" seed --url "$gw" --token "$admin" --villages "$scratch_flow/villages" \
    --receiver "http://127.0.0.1:$receiver_port/hook" --secret "$(random_hex 16)" --out "$scratch_flow/grids" --concurrency 8
  log "report -> signed webhook with the $CITY_PRESET year loaded: $FLOW_RATE reports a second for $FLOW_SECONDS s (open loop, at most 512 in flight)"
  since=$("$psql" "$flow_url" -qAtX -c "SELECT now()")
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  backlog_start "$psql" "$flow_url" "$scratch_flow/backlog"
  share_start bench-city "${flow_pids[@]}"
  "$bin/pingan-bench" flow --url "$gw" --token "$admin" --grids "$scratch_flow/grids" --receiver-port "$receiver_port" \
    --concurrency 512 --rate "$FLOW_RATE" --seconds "$FLOW_SECONDS" --missing "$scratch_flow/missing"
  share_stop
  backlog_stop
  echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
  flow_accounting "$psql" "$flow_url" "$since" "$scratch_flow/missing"
  for i in "${!flow_pids[@]}"; do
    printf 'RSS %s: %s MiB\n' "${flow_names[$i]}" "$(ps -o rss= -p "${flow_pids[$i]}" | awk '{ printf "%.1f", $1 / 1024 }')"
  done

  kill "${pids[@]}" 2>/dev/null; wait "${pids[@]}" 2>/dev/null || true
  pids=()
  "$psql" "$admin_url" -qXc "DROP DATABASE IF EXISTS $flow_db WITH (FORCE)"
  stop_cluster bench-city
  rm -rf "$scratch_flow"
  trap - EXIT
}

if want cityyear; then
  cityyear
  SECTIONS=$(tr ' ' '\n' <<<"$SECTIONS" | grep -v '^cityyear$' | tr '\n' ' ' || true)
  [ -n "${SECTIONS// /}" ] || exit 0
fi
if want cityflow; then
  cityflow
  SECTIONS=$(tr ' ' '\n' <<<"$SECTIONS" | grep -v '^cityflow$' | tr '\n' ' ' || true)
  [ -n "${SECTIONS// /}" ] || exit 0
fi
start_cluster bench "$PG_PORT"
psql=$(pg_bin)/psql
"$psql" "$(cluster_url bench "$PG_PORT" postgres)" -qc "DROP DATABASE IF EXISTS bench WITH (FORCE)" -c "CREATE DATABASE bench"
cd "$PINGAN_ROOT"
# BENCH_BIN runs other binaries than the release build, where they are (say so beside every figure).
pick_binaries "${BENCH_BIN:-}" BENCH_BIN

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
webhook_secret=$(random_hex 16)
eval "$(demo_seed "$bin" "$gw" "http://127.0.0.1:$RECEIVER_PORT/hook" "$password" "$webhook_secret")"
token=$(rpc "$gw" pingan.gateway.v1.AuthService/Login "{\"username\":\"xiaodukou\",\"password\":\"$password\"}" | json_field "['token']")
# The flows' reporters, spread as a city's are: a grid with a grid worker in every generated
# village (three under each township), each township subscribed to its warnings, the lines
# in turn over the townships so that consecutive reports come from different ones. They
# report as admin (the city's staff may report in any grid).
admin_token=$(rpc "$gw" pingan.gateway.v1.AuthService/Login "{\"username\":\"admin\",\"password\":\"$password\"}" | json_field "['token']")
spread="$scratch/spread-grids"
"$psql" "$DATABASE_URL" -qAtX -c "SELECT code FROM grid.divisions WHERE level = 'village' AND name LIKE '%（生成）'
  ORDER BY row_number() OVER (PARTITION BY left(code, 9) ORDER BY code), code" > "$scratch/spread-villages"
"$bin/pingan-bench" seed --url "$gw" --token "$admin_token" --villages "$scratch/spread-villages" \
  --receiver "http://127.0.0.1:$RECEIVER_PORT/hook" --secret "$webhook_secret" --out "$spread" --concurrency 8

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

# spread_flow ARGS...: pingan-bench flow from the spread reporters, then flow_accounting.
spread_flow() {
  local since
  since=$("$psql" "$DATABASE_URL" -qAtX -c "SELECT now()")
  backlog_start "$psql" "$DATABASE_URL" "$scratch/backlog"
  share_start bench "${service_pids[@]}"
  "$bin/pingan-bench" flow --url "$gw" --token "$admin_token" --grids "$spread" --receiver-port "$RECEIVER_PORT" \
    --missing "$scratch/missing" "$@"
  share_stop
  backlog_stop
  flow_accounting "$psql" "$DATABASE_URL" "$since" "$scratch/missing"
  echo "  load average: $(cut -d' ' -f1-3 /proc/loadavg)"
}

if want flow; then
  log "incident flow, unloaded: 50 high-risk reports one at a time through the gateway"
  spread_flow --concurrency 1 --requests 50
  log "incident flow, loaded: $FLOW_REQUESTS high-risk reports at concurrency $FLOW_CONCURRENCY through the gateway"
  spread_flow --concurrency "$FLOW_CONCURRENCY" --requests "$FLOW_REQUESTS"
fi

if want sustained; then
  log "incident flow, sustained: $FLOW_RATE high-risk reports a second for $FLOW_SECONDS s through the gateway (open loop, at most 512 in flight)"
  spread_flow --concurrency 512 --rate "$FLOW_RATE" --seconds "$FLOW_SECONDS"
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
  new_cost=$(report_cost flow --url "$gw" --token "$admin_token" --grids "$spread" \
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
  since=$("$psql" "$DATABASE_URL" -qAtX -c "SELECT now()")
  "$bin/pingan-bench" flow --url "$gw" --token "$admin_token" --grids "$spread" \
    --receiver-port "$RECEIVER_PORT" --concurrency 256 --rate 20 --seconds 30 --missing "$scratch/missing"
  wait "$hot_pid"
  flow_accounting "$psql" "$DATABASE_URL" "$since" "$scratch/missing"
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
  # no webhook is due to a receiver that is not listening); the requests come from the spread
  # reporters in turn, as the flows' do, reported as admin.
  { printf 'local run = "%s"\n' "$(random_hex 4)"
    printf 'local grids = {'; awk '{ printf "{\"%s\",\"%s\"},", $1, $2 }' "$spread"; printf '}\n'
    printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$admin_token"
    cat <<'LUA'
local threads, n, prefix = 0, 0, ""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
function setup(thread) threads = threads + 1; thread:set("id", threads) end
function init(args) prefix = "锚" .. run .. "-" .. tostring(id) .. "-" end
request = function()
  n = n + 1
  local reporter = grids[(n * 2 + id) % #grids + 1]
  return wrk.format(nil, nil, nil, '{"gridId":"' .. reporter[1] .. '","reporterMemberId":"' .. reporter[2] ..
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
