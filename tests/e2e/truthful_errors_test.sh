#!/usr/bin/env bash
# Errors that tell the truth: a stats file that cannot be written fails the run; when the
# drain gives up on an output nobody reads, the message and the final stats count the same
# undelivered events; a write that fails part-way (a file size limit here, as a full disk
# would) leaves only whole events, and the next run never glues a record to a cut one.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

step "--stats-file /dev/full: warned once, the run exits 1"
rc=0
"$SLUICE" --stats=0.05 --stats-file /dev/full "$SAMPLES/app.ndjson" >"$T/full.out" 2>"$T/full.err" || rc=$?
assert_eq "$rc" 1 "exit status"
assert_eq "$(grep -c 'cannot write stats to /dev/full' "$T/full.err")" 1 "warnings"
assert_contains "$T/full.err" "stats line\\(s\\) could not be written to /dev/full" "the final message"
assert_eq "$(lines_of "$T/full.out")" 395 "events delivered all the same"

step "stdout a FIFO nobody reads, SIGTERM, drain 1 s: the message and the final stats agree"
"$GEN_LOGS" --bytes 8M --seed 3 >"$T/gen.in"
mkfifo "$T/stuck.fifo"
exec 3<>"$T/stuck.fifo"  # held open, never read: writes block once the pipe is full
"$SLUICE" --stats --stats-file "$T/stuck.stats" --drain-timeout 1 "$T/gen.in" >"$T/stuck.fifo" 2>"$T/stuck.err" &
pid=$!
track_pid "$pid"
# stuck_enough: a thread of sluice (the sink) is blocked writing into the full pipe.
stuck_enough() { grep -q pipe_write /proc/"$pid"/task/*/wchan 2>/dev/null; }
wait_until 30 stuck_enough || fail "the sink never blocked on the FIFO"
kill -TERM "$pid"
wait_exit "$pid" 30
exec 3<&-
assert_eq "$EXIT_CODE" 1 "exit status"
said="$(grep -Eo '[0-9]+ events read were not delivered' "$T/stuck.err" | grep -Eo '^[0-9]+')" ||
  { show "$T/stuck.err"; fail "no undelivered count in the message"; }
s="$(final_stats "$T/stuck.stats")"
[[ -n "$s" ]] || { show "$T/stuck.stats"; fail "no final stats"; }
assert_eq "$(echo "$s" | jq .sink.undelivered_events)" "$said" "undelivered_events in the final stats"
assert_eq "$(echo "$s" | jq '.sink.events_out + .sink.undelivered_events')" "$(echo "$s" | jq .parse.events_out)" \
  "written + undelivered = events parsed"
# What reached the pipe (it holds 64 KiB or more, about 250 lines) counts as written.
[[ "$(echo "$s" | jq .sink.events_out)" -gt 0 ]] || fail "the events that reached the FIFO are not counted as written"
ok "events that reached the FIFO: $(echo "$s" | jq .sink.events_out)"

step "a write cut short by a file size limit: exit 1, the output ends with a whole event"
rc=0
(
  trap '' XFSZ  # the write fails with EFBIG instead of the signal ending sluice
  ulimit -f 1000  # 1000 KiB: a few batches fit, then one is cut short
  exec "$SLUICE" -o "$T/cut.ndjson" "$T/gen.in" 2>"$T/cut.err"
) || rc=$?
assert_eq "$rc" 1 "exit status"
assert_contains "$T/cut.err" "writing .*cut.ndjson" "the failed write is reported"
[[ -s "$T/cut.ndjson" ]] || fail "nothing was written before the limit"
[[ "$(tail -c 1 "$T/cut.ndjson" | od -An -c | tr -d ' ')" == '\n' ]] || fail "the output ends mid-event"
[[ "$(size_of "$T/cut.ndjson")" -lt $((1000 * 1024)) ]] || fail "the output was not cut back"
jq -c . "$T/cut.ndjson" >/dev/null || fail "the output holds a line that is not a whole event"
ok "only whole events: $(lines_of "$T/cut.ndjson") of them"

step "an output that ends mid-record gets a newline first: the next record is not glued to it"
printf '{"a":1}\n{"cut sh' >"$T/glued.ndjson"
"$SLUICE" -o "$T/glued.ndjson" "$SAMPLES/app.ndjson" 2>"$T/glued.err"
assert_contains "$T/glued.err" "does not end with a newline" "the warning"
assert_eq "$(sed -n 2p "$T/glued.ndjson")" '{"cut sh' "the cut record stays on a line of its own"
assert_eq "$(tail -n +3 "$T/glued.ndjson" | jq -c . | wc -l | tr -d ' ')" 395 "then every event, whole"
step "-o with a scheme no sink takes: a usage error naming what -o takes, nothing created"
rc=0
(cd "$T" && "$SLUICE" -o "nosuch://host/x" "$SAMPLES/app.ndjson" >/dev/null 2>"$T/scheme.err") || rc=$?
assert_eq "$rc" 2 "exit status"
assert_eq "$(wc -l <"$T/scheme.err" | tr -d ' ')" 1 "lines of the message"
assert_contains "$T/scheme.err" "no output takes nosuch:// addresses" "the message"
[[ ! -e "$T/nosuch:" ]] || fail "a file or directory was created for the address"
ok "nothing created"
echo "$E2E_NAME: all checks passed"
