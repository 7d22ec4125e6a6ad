#!/usr/bin/env bash
# Checks that the release at OLD_REF keeps serving while this tree's migrations run against
# its database, as a rolling update does it (docs/operating.md, "Migrations while the previous
# release serves"):
#
#   1. builds OLD_REF's six executables once (from `git archive OLD_REF`, in
#      $PINGAN_OLD_BUILD/<commit>, default /tmp/pingan-old-build; reused when present);
#   2. starts a fresh PostgreSQL cluster, the old mesh on it (one role per service, as run.sh),
#      and puts a short story through the old gateway: sign-in, a grid report that becomes a case
#      and a warning pushed to a webhook, a rung started, a day's screening, the month's index;
#   3. while the old mesh serves (and a prober signs in, reads and files reports through it all
#      the time), starts each NEW service once, in the upgrade order, on its own port against
#      the same database, so it applies its migrations, and stops it again;
#   4. checks the old mesh afterwards: readiness, sign-in, the cases written before, a new
#      report through to a case, a warning and a push, a mediation step, an acknowledgement,
#      a screening, the index, the access log, parked events, handler errors; and says whether
#      an old executable would start again on the migrated schema (it should not: roll forward only).
#
# PINGAN_OLD_BIN names a folder of OLD_REF's executables built elsewhere, instead of building.
# The new executables are this tree's debug build ($PINGAN_NEW_BIN, default .build/debug):
# run `swift build` first. A new executable that lacks a migration its source declares stops
# the check (PINGAN_ALLOW_STALE_NEW=1 checks the executables as they are).
# Exits non-zero, naming what failed, if any step fails. PINGAN_KEEP=1 keeps the cluster's
# directory and the logs (kept anyway after a failure).
#
#   deploy/scripts/check-rolling-upgrade.sh 6ba6d75    # the release before this tree's migrations
set -euo pipefail

if [ $# -ne 1 ] || [ "${1:0:1}" = - ]; then
  echo "usage: $0 OLD_REF   (a git ref of this repository: the release that serves during the upgrade)" >&2
  exit 2
fi
OLD_REF=$1
# A fresh cluster every run: lib.sh keeps its clusters under PINGAN_STATE.
PINGAN_STATE=$(mktemp -d "${TMPDIR:-/tmp}/pingan-rolling-XXXXXX")
export PINGAN_STATE PINGAN_PG_FSYNC=off
source "$(dirname "$0")/lib.sh"

OLD_BUILD_ROOT=${PINGAN_OLD_BUILD:-/tmp/pingan-old-build}
NEW_BIN=${PINGAN_NEW_BIN:-$PINGAN_ROOT/.build/debug}
SERVICES=(gateway grid dispute risk index notify)
# The upgrade order (docs/operating.md, Upgrades): consumers of events before their producers.
UPGRADE_ORDER=(notify risk dispute grid index gateway)
exe() { if [ "$1" = gateway ]; then echo gateway; else echo "$1-service"; fi; }

failures=()
fail() { failures+=("$*"); printf '\033[31mFAIL\033[0m %s\n' "$*" >&2; }
pass() { printf '\033[32mPASS\033[0m %s\n' "$*" >&2; }

pids=()
# forget PID: takes a process that has ended out of `pids`.
forget() {
  local kept=() p
  for p in "${pids[@]}"; do [ "$p" = "$1" ] || kept+=("$p"); done
  pids=("${kept[@]}")
}
cleanup() {
  local status=$?
  if [ ${#pids[@]} -gt 0 ]; then kill "${pids[@]}" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  stop_cluster rolling
  if [ ! -d "$PINGAN_STATE/rolling" ] || { [ "$status" = 0 ] && [ ${#failures[@]} = 0 ] && [ -z "${PINGAN_KEEP:-}" ]; }; then
    rm -rf "$PINGAN_STATE"
  else
    echo "logs and the stopped cluster are in $PINGAN_STATE" >&2
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# A base port with base..base+5 and base+1000 free, for lib.sh's mesh_start.
free_mesh_base() {
  python3 - <<'PY'
import random, socket
def free(port):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port)); return True
    except OSError:
        return False
    finally:
        s.close()
for _ in range(500):
    base = random.randrange(20000, 29000)
    if all(free(p) for p in [*range(base, base + 6), base + 1000]):
        print(base); break
else:
    raise SystemExit("no free block of ports")
PY
}

# ---------------------------------------------------------------------------- 1. the old build

# Builds OLD_REF's six executables once; sets OLD_BIN and OLD_SHA.
build_old() {
  OLD_SHA=$(git -C "$PINGAN_ROOT" rev-parse --verify "$OLD_REF^{commit}")
  if [ -n "${PINGAN_OLD_BIN:-}" ]; then
    OLD_BIN=$PINGAN_OLD_BIN
    log "using the executables in $OLD_BIN as $OLD_REF's (PINGAN_OLD_BIN)"
    return
  fi
  local dir="$OLD_BUILD_ROOT/$OLD_SHA" product start
  mkdir -p "$OLD_BUILD_ROOT"
  # One build at a time per commit, however many checks start.
  exec 9>"$dir.lock"
  flock 9
  if [ -f "$dir/built" ] && [ -x "$(cat "$dir/built")/gateway" ]; then
    OLD_BIN=$(cat "$dir/built")
    log "reusing the build of $OLD_REF ($OLD_SHA) in $OLD_BIN"
    exec 9>&-
    return
  fi
  if [ ! -d "$dir/src" ]; then
    rm -rf "$dir/src.new"; mkdir -p "$dir/src.new"
    git -C "$PINGAN_ROOT" archive "$OLD_SHA" | tar -x -C "$dir/src.new"
    # Package.resolved is not committed: with the same Package.swift, build against the
    # dependency versions this tree resolved, so the old release differs only in its own code.
    if [ ! -f "$dir/src.new/Package.resolved" ] && [ -f "$PINGAN_ROOT/Package.resolved" ] \
      && cmp -s "$dir/src.new/Package.swift" "$PINGAN_ROOT/Package.swift"; then
      cp "$PINGAN_ROOT/Package.resolved" "$dir/src.new/"
    fi
    mv "$dir/src.new" "$dir/src"
  fi
  # Seed the scratch path with this tree's dependency checkouts and clones, so nothing is
  # fetched (18 s instead of 25 s to resolve, measured). Build products are not copied: they
  # are keyed by absolute path, so they would be compiled again anyway (and a copied module
  # cache breaks the build).
  if [ ! -d "$dir/scratch/checkouts" ] && [ -d "$PINGAN_ROOT/.build/checkouts" ]; then
    mkdir -p "$dir/scratch"
    cp -a "$PINGAN_ROOT/.build/checkouts" "$PINGAN_ROOT/.build/repositories" "$dir/scratch/"
    cp -a "$PINGAN_ROOT/.build/workspace-state.json" "$dir/scratch/" 2>/dev/null || true
  fi
  log "building $OLD_REF ($OLD_SHA) in $dir (debug; the first build takes many minutes; log in $dir/build.log)"
  start=$SECONDS
  for product in "${SERVICES[@]}"; do
    if ! (cd "$dir/src" && nice -n 10 swift build --scratch-path "$dir/scratch" --product "$(exe "$product")") >>"$dir/build.log" 2>&1; then
      tail -n 30 "$dir/build.log" >&2
      echo "the build of $OLD_REF failed (log: $dir/build.log)" >&2
      exit 1
    fi
  done
  OLD_BIN=$(cd "$dir/src" && swift build --scratch-path "$dir/scratch" --show-bin-path)
  echo "$OLD_BIN" > "$dir/built"
  log "built $OLD_REF in $((SECONDS - start)) s"
  exec 9>&-
}

# The highest migration version each service's source in this tree declares.
source_version() {
  grep -hoE '\(version: *[0-9]+' "$PINGAN_ROOT"/Services/"$1"/Sources/*Migrations.swift | grep -oE '[0-9]+$' | sort -n | tail -n 1
}

# Early: a new executable that lacks a migration its source declares (by the migration's name
# in the binary) has not been rebuilt since the migration was written.
check_new_binaries() {
  local s b name stale=()
  for s in "${SERVICES[@]}"; do
    b="$NEW_BIN/$(exe "$s")"
    if [ ! -x "$b" ]; then
      echo "no new executable $b: build this tree first (swift build)" >&2
      exit 1
    fi
    while IFS= read -r name; do
      # Literals of 15 bytes or fewer may be compiled into the code, not stored as text.
      [ "$(printf '%s' "$name" | wc -c)" -ge 16 ] || continue
      grep -qaF -- "$name" "$b" || stale+=("$s: \"$name\"")
    done < <(grep -hoE 'name: "[^"]+"' "$PINGAN_ROOT"/Services/"$s"/Sources/*Migrations.swift | sed 's/^name: "//; s/"$//')
  done
  if [ ${#stale[@]} -gt 0 ]; then
    printf 'the new executables lack migrations their source declares (build this tree: swift build):\n' >&2
    printf '  %s\n' "${stale[@]}" >&2
    if [ -z "${PINGAN_ALLOW_STALE_NEW:-}" ]; then exit 1; fi
    log "PINGAN_ALLOW_STALE_NEW is set: checking the new executables as they are"
  fi
}

# ------------------------------------------------------------------------- the story, in Python

write_driver() {
  cat > "$PINGAN_STATE/drive.py" <<'PY'
"""Drives the old mesh through its gateway with plain Connect JSON (no generated code)."""
import datetime, http.server, json, sys, threading, time, urllib.error, urllib.request, uuid
from pathlib import Path

# 小渡口镇 and a generated village in it: the story. 梦溪镇 and a village: the prober's reports, kept
# apart so that their number (a cluster warning to the county) does not hold back the story's pushes.
TOWN, VILLAGE = "430723102000", "430723102201"
PROBE_TOWN, PROBE_VILLAGE = "430723103000", "430723103201"
CHINA = datetime.timezone(datetime.timedelta(hours=8))
failed = []


def call(gw, path, body, token=None, timeout=30):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(f"{gw}/{path}", data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            return error.code, json.loads(raw or b"{}")
        except ValueError:
            return error.code, {"raw": raw.decode(errors="replace")[:300]}
    except Exception as error:  # noqa: BLE001 - a refused connection is a failed call too
        return 0, {"error": repr(error)}


def check(ok, what, detail=""):
    if ok:
        print(f"PASS {what}", flush=True)
    else:
        print(f"FAIL {what}: {detail}", flush=True)
        failed.append(what)
    return ok


def ok(gw, path, body, token, what):
    status, answer = call(gw, path, body, token)
    if not check(status == 200, what, f"{status} {json.dumps(answer, ensure_ascii=False)[:400]}"):
        return None
    return answer


def login(gw, user, password):
    status, answer = call(gw, "pingan.gateway.v1.AuthService/Login", {"username": user, "password": password})
    return answer.get("token") if status == 200 else None


def wait_for(what, fetch, seconds=45):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = fetch()
        if found:
            return found
        time.sleep(0.3)
    return None


def cases_by_incident(gw, token, division=TOWN):
    found, page = {}, ""
    while True:
        status, answer = call(gw, "pingan.dispute.v1.DisputeService/ListCases",
                              {"divisionCode": division, "pageSize": 200, "pageToken": page}, token)
        if status != 200:
            return found
        for case in answer.get("cases", []):
            found[case.get("incidentId", "")] = case["id"]
        page = answer.get("nextPageToken", "")
        if not page:
            return found


def warning_for(gw, token, case_id):
    status, answer = call(gw, "pingan.risk.v1.RiskService/ListWarnings", {"centreCode": TOWN, "pageSize": 200}, token)
    if status != 200:
        return None
    return next((w["id"] for w in answer.get("warnings", []) if w.get("caseId") == case_id), None)


def pushed(receiver_log, *ids):
    """Whether a push naming one of `ids` (a warning's, a case's) reached the receiver."""
    path = Path(receiver_log)
    text = path.read_text() if path.exists() else ""
    return any(i and i in text for i in ids)


def report(gw, token, state, names, what, threat=True):
    answer = ok(gw, "pingan.grid.v1.GridService/ReportIncident", {
        "gridId": state["grid"], "reporterMemberId": state["member"], "category": "INCIDENT_CATEGORY_NEIGHBOUR",
        "description": f"{names[0]}和{names[1]}两户因宅基地边界反复争吵" + ("，一方扬言动手" if threat else ""),
        "parties": [{"name": names[0], "phone": "13812345678"}, {"name": names[1]}],
        "threatOfViolence": threat, "repeatIncident": threat, "requestId": str(uuid.uuid4()),
    }, token, what)
    return answer["incident"]["id"] if answer else None


def today():
    return datetime.datetime.now(CHINA).date()


def seed(gw, state_file, password, receiver, receiver_log):
    """The old release's short story, before any new migration."""
    admin, town = login(gw, "city-admin", password), login(gw, "town", password)
    if not check(bool(admin and town), "old gateway: sign-in"):
        return
    ok(gw, "pingan.grid.v1.DivisionService/ImportDivisions", {"csv": "code,name,level,parent_code\n"
       f"{VILLAGE},小渡口一村（生成）,village,{TOWN}\n{PROBE_VILLAGE},梦溪一村（生成）,village,{PROBE_TOWN}\n"},
       admin, "old mesh: import villages")
    probe_grid = ok(gw, "pingan.grid.v1.GridService/CreateGrid", {"villageCode": PROBE_VILLAGE, "name": "第一网格",
                    "requestId": str(uuid.uuid4())}, admin, "old mesh: create the prober's grid")
    probe_member = ok(gw, "pingan.grid.v1.GridService/AddGridMember", {"gridId": (probe_grid or {}).get("grid", {}).get("id", ""),
                      "name": "李小红", "role": "GRID_ROLE_GRID_WORKER", "requestId": str(uuid.uuid4())}, admin,
                      "old mesh: add the prober's grid worker")
    grid = ok(gw, "pingan.grid.v1.GridService/CreateGrid", {"villageCode": VILLAGE, "name": "第一网格", "requestId": str(uuid.uuid4())},
              admin, "old mesh: create a grid")
    if not grid:
        return
    member = ok(gw, "pingan.grid.v1.GridService/AddGridMember", {"gridId": grid["grid"]["id"], "name": "王小明",
                "role": "GRID_ROLE_GRID_WORKER", "requestId": str(uuid.uuid4())}, admin, "old mesh: add a grid worker")
    ok(gw, "pingan.notify.v1.NotifyService/Subscribe", {"centreCode": TOWN, "url": receiver, "secret": "a-shared-secret-of-24-b"},
       town, "old mesh: subscribe a webhook")
    state = {"grid": grid["grid"]["id"], "member": member["member"]["id"] if member else ""}
    incident = report(gw, town, state, ("张三", "李四"), "old mesh: a grid worker reports a threat of violence")
    case = wait_for("case", lambda: cases_by_incident(gw, town).get(incident)) if incident else None
    check(bool(case), "old mesh: the report became a case", "no case within 45 s")
    warning = wait_for("warning", lambda: warning_for(gw, town, case)) if case else None
    check(bool(warning), "old mesh: the case raised a warning", "no warning within 45 s")
    check(bool(wait_for("push", lambda: pushed(receiver_log, warning, case))), "old mesh: the warning was pushed to the webhook",
          "nothing naming it arrived within 45 s")
    rung = ok(gw, "pingan.dispute.v1.DisputeService/StartRung", {"caseId": case, "rung": "RUNG_FINDER", "kind": "MEDIATION_KIND_PEOPLES",
              "lead": "网格员", "participants": ["双方"]}, town, "old mesh: the finder's rung starts") if case else None
    ok(gw, "pingan.grid.v1.GridService/RecordScreening", {"gridId": state["grid"], "reporterMemberId": state["member"],
       "day": (today() - datetime.timedelta(days=1)).isoformat(), "householdsVisited": 12, "disputesFound": 1},
       town, "old mesh: yesterday's screening")
    ok(gw, "pingan.index.v1.IndexService/ComputeMonthlyIndex", {"month": today().strftime("%Y-%m")}, admin,
       "old mesh: the month's index")
    state.update(incident=incident, case=case, warning=warning, attempt=(rung or {}).get("attempt", {}).get("id"),
                 probe_grid=(probe_grid or {}).get("grid", {}).get("id"), probe_member=(probe_member or {}).get("member", {}).get("id"))
    Path(state_file).write_text(json.dumps(state))


def probe(gw, state_file, password, stop_file, out_file, ports, threads=3):
    """Signs in, reads and files reports through the old gateway, and asks the old services'
    /readyz, from `threads` threads at once until told to stop."""
    state = json.loads(Path(state_file).read_text())
    lock = threading.Lock()
    calls, errors, incidents = [], [], []

    def timed(name, action):
        started = time.time()
        status, answer = action()
        ended = time.time()
        with lock:
            calls.append((started, ended))
            if status != 200:
                errors.append(f"{time.strftime('%H:%M:%S', time.localtime(started))} {name}: {status} "
                              f"{json.dumps(answer, ensure_ascii=False)[:200]}")
        return status, answer

    def readyz(port):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=10) as response:
                return response.status, {}
        except urllib.error.HTTPError as error:
            return error.code, {"raw": error.read().decode(errors="replace")[:200]}
        except Exception as error:  # noqa: BLE001
            return 0, {"error": repr(error)}

    def loop(worker):
        rounds = 0
        while not Path(stop_file).exists():
            rounds += 1
            status, answer = timed("Login", lambda: call(gw, "pingan.gateway.v1.AuthService/Login",
                                                         {"username": "town", "password": password}))
            token = answer.get("token")
            if token:
                for name, path, body in [
                    ("GetCase", "pingan.dispute.v1.DisputeService/GetCase", {"caseId": state["case"]}),
                    ("ListCases", "pingan.dispute.v1.DisputeService/ListCases", {"divisionCode": TOWN, "pageSize": 5}),
                    ("ListWarnings", "pingan.risk.v1.RiskService/ListWarnings", {"centreCode": TOWN, "pageSize": 5}),
                ]:
                    timed(name, lambda: call(gw, path, body, token))
            # One thread files a report every third round, as the prober's grid worker.
            if worker == 0 and rounds % 3 == 1:
                status, answer = timed("Login", lambda: call(gw, "pingan.gateway.v1.AuthService/Login",
                                                             {"username": "town-b", "password": password}))
                token = answer.get("token")
                if token:
                    status, answer = timed("ReportIncident", lambda: call(gw, "pingan.grid.v1.GridService/ReportIncident", {
                        "gridId": state["probe_grid"], "reporterMemberId": state["probe_member"], "category": "INCIDENT_CATEGORY_OTHER",
                        "description": f"巡查发现的小事（{worker}-{rounds}）",
                        "parties": [{"name": f"甲{worker}{rounds}"}, {"name": f"乙{worker}{rounds}"}],
                        "requestId": str(uuid.uuid4())}, token))
                    if status == 200:
                        with lock:
                            incidents.append(answer["incident"]["id"])
            for port in ports:
                timed(f"readyz :{port}", lambda: readyz(port))
            time.sleep(0.05)

    workers = [threading.Thread(target=loop, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    Path(out_file).write_text(json.dumps({"calls": calls, "errors": errors, "incidents": incidents, "threads": threads}))


def after(gw, state_file, password, receiver_log, probe_file):
    """The old mesh after the new migrations: what it did before, it still does."""
    state = json.loads(Path(state_file).read_text())
    probed = json.loads(Path(probe_file).read_text())
    admin, town = login(gw, "city-admin", password), login(gw, "town", password)
    if not check(bool(admin and town), "old gateway after the migrations: sign-in"):
        return
    answer = ok(gw, "pingan.dispute.v1.DisputeService/GetCase", {"caseId": state["case"]}, town, "old mesh: reads the case written before")
    if answer:
        check(answer.get("case", {}).get("id") == state["case"] and any(r.get("id") == state["attempt"] for r in answer.get("rungs", [])),
              "old mesh: the case written before has its rung", json.dumps(answer, ensure_ascii=False)[:300])
    check(state["incident"] in cases_by_incident(gw, town), "old mesh: lists the case written before")
    town_b = login(gw, "town-b", password)
    def missing():
        cases = cases_by_incident(gw, town_b, PROBE_TOWN)
        return [i for i in probed["incidents"] if i not in cases]
    wait_for("probe cases", lambda: not missing())
    check(not missing(), f"old mesh: each of the {len(probed['incidents'])} reports filed during the migrations became a case",
          f"{len(missing())} without a case")
    ok(gw, "pingan.risk.v1.RiskService/AcknowledgeWarning", {"warningId": state["warning"]}, town,
       "old mesh: acknowledges the warning raised before")
    ok(gw, "pingan.dispute.v1.DisputeService/EndRung", {"caseId": state["case"], "attemptId": state["attempt"],
       "outcome": "RUNG_OUTCOME_EASED", "note": "双方情绪缓和，约定下周再谈"}, town, "old mesh: ends the rung started before (eased)")
    incident = report(gw, town, state, ("王五", "赵六"), "old mesh: files a new report")
    case = wait_for("case", lambda: cases_by_incident(gw, town).get(incident)) if incident else None
    check(bool(case), "old mesh: the new report became a case", "no case within 45 s")
    if case:
        warning = wait_for("warning", lambda: warning_for(gw, town, case))
        check(bool(warning), "old mesh: the new case raised a warning", "none within 45 s")
        check(bool(wait_for("push", lambda: pushed(receiver_log, warning, case))), "old mesh: the new warning was pushed",
              "nothing naming it arrived within 45 s")
        ok(gw, "pingan.dispute.v1.DisputeService/StartRung", {"caseId": case, "rung": "RUNG_FINDER", "kind": "MEDIATION_KIND_PEOPLES",
           "lead": "网格员", "participants": ["双方"]}, town, "old mesh: starts a rung of the new case")
    ok(gw, "pingan.grid.v1.GridService/RecordScreening", {"gridId": state["grid"], "reporterMemberId": state["member"],
       "day": today().isoformat(), "householdsVisited": 9, "disputesFound": 0}, town, "old mesh: today's screening")
    ok(gw, "pingan.index.v1.IndexService/ComputeMonthlyIndex", {"month": today().strftime("%Y-%m")}, admin,
       "old mesh: computes the month's index again")


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with open(self.server.log, "a") as log:
            log.write(json.dumps({"path": self.path, "body": body.decode(errors="replace")[:8000]}, ensure_ascii=False) + "\n")
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def receiver(port, log):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), Receiver)
    server.log = log
    server.serve_forever()


if __name__ == "__main__":
    phase, args = sys.argv[1], sys.argv[2:]
    if phase == "receiver":
        receiver(*args)
    elif phase == "probe":
        probe(*args[:5], [int(p) for p in args[5:]])
    else:
        {"seed": seed, "after": after}[phase](*args)
    sys.exit(1 if failed else 0)
PY
}

# ------------------------------------------------------------------------------- the database

psql_admin() { "$(pg_bin)/psql" "$ADMIN_URL" -qAtX -v ON_ERROR_STOP=1 "$@"; }

# Every schema's applied migrations, one "schema #version name" a line.
applied_migrations() {
  local s sql=""
  for s in "${SERVICES[@]}"; do
    [ -n "$sql" ] && sql+=" UNION ALL "
    sql+="SELECT '$s', version, name FROM $s.schema_migrations"
  done
  psql_admin -F ' ' -c "SELECT * FROM ($sql) m ORDER BY 1, 2" | sed -E 's/^([a-z]+) ([0-9]+) /\1 #\2 /'
}

# The tables and columns of the six schemas (partitions left out: their parent stands for them).
schema_shape() {
  psql_admin -F ' ' -c "
    SELECT n.nspname || '.' || c.relname || CASE WHEN c.relkind = 'p' THEN ' (partitioned)' ELSE '' END,
           coalesce(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END, '')
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    WHERE n.nspname IN ('gateway', 'grid', 'dispute', 'risk', 'index', 'notify')
      AND c.relkind IN ('r', 'p') AND NOT c.relispartition
    ORDER BY 1, 2"
}

# ------------------------------------------------------------------------------------ the run

main() {
  local logs="$PINGAN_STATE/logs" s b i port url pid started ready migrated_at
  mkdir -p "$logs/old" "$logs/new"
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { echo "PostgreSQL is not installed (deploy/scripts/run.sh installs it)" >&2; exit 1; }
  check_new_binaries
  build_old
  write_driver

  # A fresh cluster and one role per service, as run.sh and production have it.
  PG_PORT=$(free_port)
  start_cluster rolling "$PG_PORT"
  ADMIN_URL=$(cluster_url rolling "$PG_PORT")
  local role_env=() password
  for s in "${SERVICES[@]}"; do
    password=$(random_hex 16)
    role_env+=("${s^^}_DB_PASSWORD=$password")
    printf -v "${s^^}_DATABASE_URL" 'postgresql://pingan_%s:%s@127.0.0.1:%s/pingan' "$s" "$password" "$PG_PORT"
  done
  (export "${role_env[@]}"; psql_admin -f "$PINGAN_ROOT/deploy/postgres/roles.sql" >/dev/null)

  MESH_SECRET=$(random_hex 32) TOKEN_SECRET=$(random_hex 32)
  export MESH_SECRET TOKEN_SECRET HOST=127.0.0.1 BCRYPT_COST=4 LOG_LEVEL=${LOG_LEVEL:-notice} DB_POOL_SIZE=4
  password="rolling-$(random_hex 8)"
  local receiver_port; receiver_port=$(free_port)
  export WEBHOOK_ALLOWED_HOSTS=127.0.0.1:$receiver_port
  python3 "$PINGAN_STATE/drive.py" receiver "$receiver_port" "$logs/webhooks.log" >>"$logs/receiver.log" 2>&1 & pids+=($!)

  # 2. The old mesh, and the old release's story.
  local base; base=$(free_mesh_base)
  log "starting the old mesh ($OLD_REF) on 127.0.0.1:$base-$((base + 5)), PostgreSQL on $PG_PORT"
  if ! mesh_start "$OLD_BIN" "$logs/old" "$base"; then
    tail -n 20 "$logs"/old/*.log >&2
    fail "the old mesh did not start"; exit 1
  fi
  for i in "city-admin 430700000000 admin,staff,leader,mediator" "town 430723102000 staff,mediator,grid_worker,leader,admin" \
           "town-b 430723103000 staff,mediator,grid_worker,leader,admin"; do
    set -- $i
    PINGAN_PASSWORD=$password PORT=0 DATABASE_URL=$GATEWAY_DATABASE_URL "$OLD_BIN/gateway" add-user "$1" "$2" "$3" >/dev/null
  done
  local gw="http://127.0.0.1:$base" state="$PINGAN_STATE/story.json"
  log "the old release's story through its gateway"
  if ! python3 "$PINGAN_STATE/drive.py" seed "$gw" "$state" "$password" "http://127.0.0.1:$receiver_port/hook" "$logs/webhooks.log"; then
    fail "the old release's story did not run before the migrations (a setup failure, not an upgrade finding)"; exit 1
  fi
  applied_migrations > "$PINGAN_STATE/migrations.before"
  schema_shape > "$PINGAN_STATE/shape.before"

  # 3. The new release's migrations while the old mesh serves and is probed.
  local sizes=()
  for s in "${SERVICES[@]}"; do sizes+=("$(stat -c %s "$logs/old/$(exe "$s").log")"); done
  python3 "$PINGAN_STATE/drive.py" probe "$gw" "$state" "$password" "$PINGAN_STATE/probe.stop" "$PINGAN_STATE/probe.json" \
    $(seq "$base" $((base + 5))) >>"$logs/probe.log" 2>&1 & local probe_pid=$!; pids+=($probe_pid)
  sleep 2
  log "starting each new service once against the old release's schema, in the upgrade order: ${UPGRADE_ORDER[*]}"
  for s in "${UPGRADE_ORDER[@]}"; do
    port=$(free_port); url=${s^^}_DATABASE_URL; b=$(exe "$s")
    started=$SECONDS
    if [ "$s" = gateway ]; then
      PORT=$port DATABASE_URL=${!url} "$NEW_BIN/$b" >>"$logs/new/$b.log" 2>&1 & pid=$!
    else
      PORT=$port DATABASE_URL=${!url} env -u TOKEN_SECRET "$NEW_BIN/$b" >>"$logs/new/$b.log" 2>&1 & pid=$!
    fi
    pids+=($pid)
    ready=""
    for ((i = 0; i < 1200; i++)); do
      if curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null; then ready=1; break; fi
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if [ -n "$ready" ]; then
      pass "new $b migrated its schema and is ready ($((SECONDS - started)) s)"
    else
      fail "new $b did not become ready against the old release's schema: $(tail -n 3 "$logs/new/$b.log" | tr '\n' ' ')"
    fi
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
    forget "$pid"
  done
  migrated_at=$(psql_admin -c "SELECT now()")
  sleep 3
  touch "$PINGAN_STATE/probe.stop"; wait "$probe_pid" || true
  forget "$probe_pid"
  applied_migrations > "$PINGAN_STATE/migrations.after"
  schema_shape > "$PINGAN_STATE/shape.after"

  local added; added=$(grep -vxF -f "$PINGAN_STATE/migrations.before" "$PINGAN_STATE/migrations.after" || true)
  if [ -z "$added" ]; then
    log "no schema difference: the new executables add no migration to $OLD_REF's"
  else
    log "the new release's migrations, applied while $OLD_REF served:"
    printf '%s\n' "$added" | sed 's/^/    /' >&2
    log "what they changed (tables and columns; + added, - gone):"
    diff "$PINGAN_STATE/shape.before" "$PINGAN_STATE/shape.after" | grep -E '^[<>]' | sed 's/^</    -/; s/^>/    +/' >&2 || true
  fi
  # Each new executable applied every migration its source declares (else it is stale).
  local want have msg
  for s in "${SERVICES[@]}"; do
    want=$(source_version "$s")
    have=$(grep -E "^$s #" "$PINGAN_STATE/migrations.after" | sed -E 's/^[a-z]+ #([0-9]+) .*/\1/' | sort -n | tail -n 1)
    if [ "${have:-0}" -lt "${want:-0}" ]; then
      msg="new $(exe "$s") applied migrations up to #$have but its source declares #$want: the executable is older than the tree (swift build)"
      if [ -n "${PINGAN_ALLOW_STALE_NEW:-}" ]; then log "note: $msg"; else fail "$msg"; fi
    fi
  done

  # During: the prober's calls, and how many were in flight while a migration's transaction ran.
  psql_admin -F ' ' -c "$(for s in "${SERVICES[@]}"; do printf "SELECT extract(epoch FROM applied_at) FROM %s.schema_migrations UNION ALL " "$s"; done) SELECT NULL WHERE false" \
    > "$PINGAN_STATE/migrations.applied_at"
  python3 - "$PINGAN_STATE/probe.json" "$PINGAN_STATE/migrations.applied_at" "$(grep -c . <<<"$added" || true)" <<'PY' \
    || fail "the old mesh during the migrations (above)"
import json, sys
p = json.load(open(sys.argv[1]))
instants = [float(line) for line in open(sys.argv[2]) if line.strip()]
new = int(sys.argv[3])
# applied_at is the start of a migration's transaction: the new ones are the last `new` of them.
instants = sorted(instants)[-new:] if new else []
overlap = sum(1 for start, end in p["calls"] if any(start <= t <= end for t in instants))
head = (f"old mesh during the migrations: {len(p['calls'])} calls from {p['threads']} threads (sign-in, GetCase, ListCases, "
        f"ListWarnings, {len(p['incidents'])} reports filed, /readyz of the six), "
        f"slowest {max((e - s for s, e in p['calls']), default=0) * 1000:.0f} ms, {overlap} in flight as a migration began")
if p["errors"]:
    print(f"\033[31mFAIL\033[0m {head}: {len(p['errors'])} failed", *p["errors"][:20], sep="\n  ", file=sys.stderr)
    sys.exit(1)
print(f"\033[32mPASS\033[0m {head}; none failed", file=sys.stderr)
PY

  # 4. The old mesh after the migrations (mesh_start's ports: the gateway, then grid ... notify).
  for i in "${!SERVICES[@]}"; do
    b=$(exe "${SERVICES[$i]}"); port=$((base + i))
    if curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz"; then pass "old $b stays ready (/readyz) on the new schema"
    else fail "old $b is not ready on the new schema: $(curl -sS "http://127.0.0.1:$port/readyz" 2>&1)"; fi
  done
  python3 "$PINGAN_STATE/drive.py" after "$gw" "$state" "$password" "$logs/webhooks.log" "$PINGAN_STATE/probe.json" \
    || fail "the old mesh after the migrations (above)"
  sleep 1.5  # the access log is written once a second
  local written; written=$(psql_admin -c "SELECT count(*) FROM gateway.access_log WHERE at > '$migrated_at'" 2>&1 || true)
  if [[ "$written" =~ ^[0-9]+$ ]] && [ "$written" -gt 0 ]; then pass "old gateway writes its access log into the new schema ($written rows since)"
  else fail "old gateway wrote no access log since the migrations: $written"; fi
  local parked; parked=$(psql_admin -c "SELECT sum(n) FROM (
      SELECT count(*) n FROM grid.outbox WHERE parked_at IS NOT NULL UNION ALL SELECT count(*) FROM dispute.outbox WHERE parked_at IS NOT NULL
      UNION ALL SELECT count(*) FROM risk.outbox WHERE parked_at IS NOT NULL UNION ALL SELECT count(*) FROM index.outbox WHERE parked_at IS NOT NULL) p" 2>&1 || true)
  if [ "$parked" = 0 ]; then pass "no event parked in any outbox"; else fail "parked events: $parked"; fi
  local errors warnings clean=1
  for i in "${!SERVICES[@]}"; do
    b=$(exe "${SERVICES[$i]}")
    errors=$(tail -c +"$((sizes[i] + 1))" "$logs/old/$b.log" | grep -E '^[^ ]+ (error|critical) ' || true)
    warnings=$(tail -c +"$((sizes[i] + 1))" "$logs/old/$b.log" | grep -cE '^[^ ]+ warning ' || true)
    [ "$warnings" = 0 ] || log "note: old $b logged $warnings warnings since the migrations began (in $logs/old/$b.log)"
    if [ -n "$errors" ]; then
      clean=""; fail "old $b logged $(grep -c . <<<"$errors") errors since the migrations began: $(head -n 2 <<<"$errors" | tr '\n' ' ')"
    fi
  done
  [ -z "$clean" ] || pass "old logs: no error since the migrations began"

  # The docs' way back: an old executable does not start again on a schema it is older than
  # (roll forward only). Said, not failed on.
  for s in "${SERVICES[@]}"; do
    grep -qE "^$s #" <<<"$added" || continue
    b=$(exe "$s"); port=$(free_port); url=${s^^}_DATABASE_URL
    PORT=$port DATABASE_URL=${!url} timeout 30 "$OLD_BIN/$b" >"$logs/old/$b.restart.log" 2>&1 & pid=$!
    pids+=($pid)
    for ((i = 0; i < 300; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null && break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "note: a restarted old $b starts on the migrated schema"
      kill "$pid" 2>/dev/null
    else
      log "as documented (roll forward only), a restarted old $b refuses the migrated schema: $(grep -oE 'the database has migration [^;]*' "$logs/old/$b.restart.log" | head -n 1)"
    fi
    wait "$pid" 2>/dev/null || true
    forget "$pid"
  done

  echo >&2
  if [ ${#failures[@]} -gt 0 ]; then
    printf '\033[31m%s of the checks failed\033[0m (OLD_REF %s, new executables in %s):\n' "${#failures[@]}" "$OLD_REF" "$NEW_BIN" >&2
    printf '  - %s\n' "${failures[@]}" >&2
    exit 1
  fi
  printf '\033[32mthe old release %s kept serving while the new migrations ran, and after (%s new migrations)\033[0m\n' \
    "$OLD_REF" "$(grep -c . <<<"$added" || true)" >&2
}

main
