#!/usr/bin/env bash
# Interleaved A/B of two sluice binaries on the same corpus: each round runs OLD then NEW
# on every case, so a noisy, shared machine slows both alike; prints medians and the
# throughput ratio new/old. Usage:
#   OLD=/path/to/old/sluice NEW=build/sluice [ROUNDS=9] [CORPUS=file] bench/ab.sh
# CORPUS defaults to the 1 GiB corpus bench/run.sh keeps in $BENCH_DIR (seed 1).
set -euo pipefail
: "${OLD:?set OLD to the old binary}" "${NEW:?set NEW to the new binary}"
ROUNDS=${ROUNDS:-9}
BENCH_DIR=${BENCH_DIR:-/tmp/sluice-bench}
CORPUS=${CORPUS:-$BENCH_DIR/logs-1073741824-seed1.ndjson}
[ -s "$CORPUS" ] || { echo "ab: no corpus at $CORPUS (run bench/run.sh throughput once, or set CORPUS)" >&2; exit 1; }
mib=$(( $(stat -c %s "$CORPUS") / 1048576 ))
three='level == "error" and req.method =~ "^(POST|PUT)$" and latency_ms > 250'
secs() { /usr/bin/time -f %e "$@" 2>&1 >/dev/null | tail -n 1; }
declare -A t
for _ in $(seq 1 "$ROUNDS"); do
  for which in old new; do
    bin=$OLD; [ "$which" = new ] && bin=$NEW
    t[$which.file]+="$(secs "$bin" "$CORPUS") "
    t[$which.pipe]+="$( { cat "$CORPUS" | /usr/bin/time -f %e "$bin" >/dev/null; } 2>&1 | tail -n 1) "
    t[$which.where]+="$(secs "$bin" --where 'level == "error"' "$CORPUS") "
    t[$which.where3]+="$(secs "$bin" --where "$three" "$CORPUS") "
  done
done
median() { printf '%s\n' $1 | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
echo "| case | old s | new s | old MiB/s | new MiB/s | new/old throughput |"
echo "|---|---:|---:|---:|---:|---:|"
for c in file pipe where where3; do
  awk -v c="$c" -v o="$(median "${t[old.$c]}")" -v n="$(median "${t[new.$c]}")" -v m="$mib" \
    'BEGIN { printf "| %s | %.3f | %.3f | %.0f | %.0f | %.3f |\n", c, o, n, m / o, m / n, o / n }'
done
