#!/usr/bin/env bash
# A plain path (not a glob) rotated while sluice is down: at restart the rest of the old
# content is read from its new name (app.log.1) and the new app.log from 0.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

d="$T/logs"
mkdir -p "$d"
for i in $(seq 0 99); do echo "{\"seq\":$i}"; done >"$d/app.log"
step "first run reads 100 lines, saves the checkpoint, stops"
"$SLUICE" -F --from-start --checkpoint "$T/cp.json" "$d/app.log" >"$T/out1" 2>"$T/err1" &
pid=$!
track_pid "$pid"
wait_lines "$T/out1" 100 10
kill -TERM "$pid"
wait_exit "$pid" 10
assert_eq "$EXIT_CODE" 0 "exit status"

step "while it is down: 50 more lines, then rename + create with 30 lines"
for i in $(seq 100 149); do echo "{\"seq\":$i}"; done >>"$d/app.log"
mv "$d/app.log" "$d/app.log.1"
for i in $(seq 150 179); do echo "{\"seq\":$i}"; done >"$d/app.log"

step "restart: the 50 from app.log.1 and the 30 from the new app.log, nothing twice"
"$SLUICE" -F --checkpoint "$T/cp.json" --stats=1.5 --stats-file "$T/stats2" "$d/app.log" >"$T/out2" 2>"$T/err2" &
pid=$!
track_pid "$pid"
wait_lines "$T/out2" 80 10
# A rescan (every second) would have read something twice by now: stop after it.
wait_until 5 grep -q '"stats":"interval"' "$T/stats2"
kill -TERM "$pid"
wait_exit "$pid" 10
assert_eq "$(lines_of "$T/out2")" 80 "lines after the restart"
cat "$T/out1" "$T/out2" | sed -E 's/.*"seq":([0-9]+).*/\1/' | sort -n >"$T/seqs"
seq 0 179 | cmp -s - "$T/seqs" || fail "seqs are not 0..179 exactly once"
ok "seqs 0..179 exactly once"
echo "$E2E_NAME: all checks passed"
