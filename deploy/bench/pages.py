#!/usr/bin/env python3
"""The dashboard's pages at size: how long a person waits for each, and what each asks of PostgreSQL.

Used by bench.sh's `cityyear` section with the city's year loaded; runnable by hand against any
mesh whose database the caller may change settings of (a superuser URL):

    python3 deploy/bench/pages.py --gateway http://127.0.0.1:18380 --token "$ADMIN_TOKEN" \
        --township 430723102000 --month 2026-11 --psql "$(pg_bin)/psql" --url "$DB_URL" \
        --log-file "$PINGAN_STATE/bench-city/server.log" --loops 200 --out /tmp/pages

The pages are what the people open first: the city's today page, the township's county's and
the township's (`?centre=`), a case page (the newest case with summons, so its file is full),
the index page for the city and for the township, and the grid report page (as the city's
administrator: the first 200 grids of the city to choose from, each named with its village).
For each:

1. `--loops` requests one after another through the gateway, as the signed-in person (the
   session cookie is the bearer token the gateway issued): p50, p95, max, size, non-200s;
2. once more with `log_min_duration_statement = 0` and `log_line_prefix` naming the
   application, so the server log holds every statement the services sent for that page, with
   its parameters; the relays' and chores' statements that ran meanwhile are told apart by
   their text and left out;
3. `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)` of each read statement with its parameters, in a
   transaction that is rolled back: its time, buffers, the indexes it used and any sequential
   scan with the rows it read. Writes are counted, not explained.

It writes each page's plans as text to `--out` and prints a summary a line per page and one per
statement.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

# Statements that run on their own schedule, not for a page: event relays, partition upkeep,
# replans, the session's own settings.
BACKGROUND = re.compile(
    r"\boutbox\b|\binbox\b|pg_advisory|pg_inherits|DEALLOCATE|^\s*(BEGIN|COMMIT|ROLLBACK|SET|RESET|SAVEPOINT|RELEASE)\b|"
    r"pg_reload_conf|ALTER SYSTEM|\bprocessed_events\b|\bevent_consumers\b|\bfederation_",
    re.I,
)


def fetch(url, token):
    request = urllib.request.Request(url, headers={"Cookie": f"pingan_session={token}"})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            body = answer.read()
            status = answer.status
    except urllib.error.HTTPError as error:
        body, status = error.read(), error.code
    return (time.perf_counter() - started) * 1000, status, len(body)


def quantile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def psql(args, sql):
    done = subprocess.run([args.psql, args.url, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip())
    return done.stdout.strip()


def log_size(path):
    with open(path, "rb") as f:
        f.seek(0, 2)
        return f.tell()


def statements_since(path, offset):
    """The statements the server logged after `offset`, each (application, sql, parameters)."""
    with open(path, "rb") as f:
        f.seek(offset)
        text = f.read().decode("utf-8", "replace")
    entries = re.split(r"\n(?=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", text)
    found = []
    for i, entry in enumerate(entries):
        m = re.search(r"^\S+ \S+ \S+ \[\d+\] (\S*) LOG:\s+duration: [0-9.]+ ms\s+(?:execute [^:]*|statement):\s(.*)", entry, re.S)
        if not m:
            continue
        application, sql = m.group(1), m.group(2).strip()
        params = {}
        if i + 1 < len(entries) and "DETAIL:  parameters:" in entries[i + 1]:
            for n, v in re.findall(r"\$(\d+) = (NULL|'(?:[^']|'')*')", entries[i + 1]):
                params[n] = v
        found.append((application, sql, params))
    return found


def plan_summary(plan):
    """Indexes used, sequential scans with the rows they read, from a JSON plan."""
    indexes, seq = set(), []

    def walk(node):
        kind = node.get("Node Type", "")
        if "Index Name" in node:
            indexes.add(node["Index Name"])
        if kind == "Seq Scan":
            rows = node.get("Actual Rows", 0) * max(1, node.get("Actual Loops", 1)) + node.get("Rows Removed by Filter", 0)
            seq.append(f"{node.get('Relation Name', '?')} ({rows:.0f} rows)")
        for child in node.get("Plans", []):
            walk(child)

    walk(plan["Plan"])
    return sorted(indexes), seq


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gateway", required=True)
    parser.add_argument("--token", required=True, help="a session token of a person acting for the city")
    parser.add_argument("--township", required=True, help="a township's division code, for its today and index pages")
    parser.add_argument("--month", required=True, help="the index page's month, YYYY-MM")
    parser.add_argument("--psql", required=True)
    parser.add_argument("--url", required=True, help="a superuser URL of the mesh's database")
    parser.add_argument("--log-file", required=True, help="the cluster's server log")
    parser.add_argument("--loops", type=int, default=200)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    case_id = psql(args, "SELECT c.id FROM dispute.cases c WHERE EXISTS (SELECT 1 FROM dispute.summons s WHERE s.case_id = c.id) "
                         "ORDER BY c.opened_at DESC LIMIT 1") or psql(args, "SELECT id FROM dispute.cases ORDER BY opened_at DESC LIMIT 1")
    gw = args.gateway.rstrip("/")
    county = args.township[:6] + "000000"
    pages = [
        ("today, the city", f"{gw}/ui/"),
        ("today, a county", f"{gw}/ui/?centre={county}"),
        ("today, a township", f"{gw}/ui/?centre={args.township}"),
        ("a case", f"{gw}/ui/cases/{case_id}"),
        ("index, the city", f"{gw}/ui/index?month={args.month}"),
        ("index, a township", f"{gw}/ui/index?centre={args.township}&month={args.month}"),
        ("report from a grid", f"{gw}/ui/grid"),
    ]
    os.makedirs(args.out, exist_ok=True)

    # 1. Time each page, one request after another.
    for name, url in pages:
        fetch(url, args.token)  # the first request warms the services' prepared statements
        times, bad, size = [], 0, 0
        for _ in range(args.loops):
            ms, status, size = fetch(url, args.token)
            times.append(ms)
            bad += status != 200
        print(f"page {name} ({url.replace(gw, '')}), {args.loops} requests one at a time: p50 {quantile(times, .5):.1f} ms, "
              f"p95 {quantile(times, .95):.1f} ms, max {max(times):.1f} ms, {size:,} bytes, non-200 {bad}")

    # 2. Catch each page's statements in the server log, then 3. explain them.
    psql(args, "ALTER SYSTEM SET log_min_duration_statement = 0")
    psql(args, "ALTER SYSTEM SET log_line_prefix = '%m [%p] %a '")
    psql(args, "SELECT pg_reload_conf()")
    time.sleep(1)
    caught = []
    try:
        for name, url in pages:
            offset = log_size(args.log_file)
            _, status, _ = fetch(url, args.token)
            time.sleep(0.5)
            caught.append((name, status, statements_since(args.log_file, offset)))
    finally:
        psql(args, "ALTER SYSTEM RESET log_min_duration_statement")
        psql(args, "ALTER SYSTEM RESET log_line_prefix")
        psql(args, "SELECT pg_reload_conf()")

    slug = lambda text: re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    for name, status, statements in caught:
        own = [(sql, params) for _, sql, params in statements if not BACKGROUND.search(sql)]
        reads = [(sql, params) for sql, params in own
                 if re.match(r"\s*(WITH|SELECT)\b", sql, re.I) and not re.search(r"\b(INSERT|UPDATE|DELETE)\b", sql, re.I)]
        writes = len(own) - len(reads)
        # Each distinct statement once, with the parameters of its first run, and how often it ran.
        distinct = {}
        for sql, params in reads:
            key = " ".join(sql.split())
            if key in distinct:
                distinct[key][1] += 1
            else:
                distinct[key] = [params, 1]
        total, lines, text_plans = 0.0, [], []
        for key, (params, times) in distinct.items():
            bound = re.sub(r"\$(\d+)\b", lambda g: params.get(g.group(1), "NULL"), key)
            try:
                raw = psql(args, f"BEGIN; EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {bound}; ROLLBACK;")
                plan = json.loads(raw[raw.index("["):raw.rindex("]") + 1])[0]
                text = psql(args, f"BEGIN; EXPLAIN (ANALYZE, BUFFERS) {bound}; ROLLBACK;")
            except (RuntimeError, ValueError) as error:
                lines.append(f"    x{times}: could not explain ({str(error)[:120]}): {key[:160]}")
                continue
            ms = plan.get("Execution Time", 0.0)
            total += ms * times
            indexes, seq = plan_summary(plan)
            buffers = plan["Plan"].get("Shared Hit Blocks", 0) + plan["Plan"].get("Shared Read Blocks", 0)
            lines.append(f"    x{times}: {ms:.2f} ms, {buffers} buffers, indexes {', '.join(indexes) or 'none'}"
                         f"{'; SEQ SCAN ' + ', '.join(seq) if seq else ''}: {key[:160]}")
            text_plans.append(f"-- ran {times} time(s) for the page\n-- {key}\n-- parameters: {params}\n{text}\n")
        with open(f"{args.out}/{slug(name)}.plans.txt", "w") as f:
            f.write("\n".join(text_plans))
        print(f"page {name}: HTTP {status}; {len(reads)} reads ({len(distinct)} distinct statements; "
              f"{total:.2f} ms by EXPLAIN ANALYZE, each counted as often as it ran), {writes} writes (the access log, audits); "
              f"plans in {args.out}/{slug(name)}.plans.txt")
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
