#!/usr/bin/env bash
# cpu-per-process.sh SECONDS: CPU seconds (user + system) each command used during the next
# SECONDS, processes that start or end inside the window included (read from /proc every
# second). Run it beside a benchmark section to see where a report's CPU goes, e.g.
#   SECTIONS=sustained FLOW_SECONDS=20 bash deploy/scripts/bench.sh & deploy/bench/cpu-per-process.sh 55
set -euo pipefail
window=${1:?seconds}
samples=$(mktemp)
trap 'rm -f "$samples"' EXIT
tick=$(getconf CLK_TCK)
end=$((SECONDS + window))
while [ "$SECONDS" -lt "$end" ]; do
  for stat in /proc/[0-9]*/stat; do
    # pid (comm) state ... utime is field 14 and stime 15 of the whole line, 12 and 13 after ") ".
    # A process that ended since the glob: its stat is gone (the redirection's error silenced too).
    { read -r line < "$stat"; } 2>/dev/null || continue
    pid=${line%% *}; comm=${line#*(}; comm=${comm%)*}; rest=${line##*) }
    set -- $rest
    echo "$pid ${comm// /_} $((${12} + ${13}))"
  done >> "$samples"
  sleep 1
done
awk -v tick="$tick" '{ key = $1 " " $2; if (!(key in first)) first[key] = $3; last[key] = $3 }
  END { for (key in last) { split(key, part, " "); used[part[2]] += last[key] - first[key] }
        for (name in used) if (used[name] >= tick / 10) printf "%-24s %7.1f s\n", name, used[name] / tick }' "$samples" | sort -k2 -nr
