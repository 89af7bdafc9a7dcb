#!/usr/bin/env bash
# --checkpoint (DESIGN.md §3, §4, §6): a rerun over finished files outputs only what is
# new; kill -9 while following loses nothing and repeats at most a checkpoint interval;
# SIGTERM then restart repeats nothing; a file rotated while sluice was down is found by
# its first line under its new name; a corrupt checkpoint is exit 1 (never a silent
# restart); --checkpoint with stdin alone is exit 2; a new file on a reused inode is read
# from 0; with --unordered or --on-full drop offsets still move in input order.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/e2e/logwriter.sh
source "$(dirname "${BASH_SOURCE[0]}")/logwriter.sh"
e2e_init
lw_init

# run_once NAME ARGS...: sluice in the foreground, NAME.out/NAME.err; sets RC.
run_once() {
  local name="$1"
  shift
  RC=0
  "$SLUICE" "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null || RC=$?
}

step "(a) plain files: a rerun outputs nothing; after an append, only the new lines"
mkdir -p "$T/a" "$T/acp"
"$LOG_WRITER" --path "$T/a/a.ndjson" --lines 1000 --src a
"$LOG_WRITER" --path "$T/a/b.ndjson" --lines 300 --src b
CP="$T/acp/cp.json"
run_once a1 --checkpoint "$CP" "$T/a/a.ndjson" "$T/a/b.ndjson"
assert_eq "$RC" 0 "first run exit status"
assert_same_file "$T/a1.out" "$(cat "$T/a/a.ndjson" "$T/a/b.ndjson" | snap a1.want)" "first run: both files"
jq -e . "$CP" >/dev/null || { show "$CP"; fail "the checkpoint is not JSON"; }
ok "the checkpoint is JSON"
assert_eq "$(ls -A "$T/acp" | tr '\n' ' ')" "cp.json cp.json.lock " "files next to the checkpoint after a clean exit"
run_once a2 --checkpoint "$CP" "$T/a/a.ndjson" "$T/a/b.ndjson"
assert_eq "$RC" 0 "rerun exit status"
assert_eq "$(size_of "$T/a2.out")" 0 "rerun output bytes"
"$LOG_WRITER" --path "$T/a/a.ndjson" --lines 500 --start 1000 --src a
run_once a3 --checkpoint "$CP" "$T/a/a.ndjson" "$T/a/b.ndjson"
assert_eq "$RC" 0 "run after the append: exit status"
assert_same_file "$T/a3.out" "$(tail -n 500 "$T/a/a.ndjson" | snap a3.want)" "run after the append: the 500 new lines only"
run_once a4 --checkpoint "$CP" "$T/a/a.ndjson" "$T/a/b.ndjson"
assert_eq "$(size_of "$T/a4.out")" 0 "one more rerun: output bytes"

step "(a') --unordered, and --on-full drop behind a slow sink: offsets still move in input order"
mkdir -p "$T/u" "$T/ucp" "$T/dcp"
"$LOG_WRITER" --path "$T/u/u.ndjson" --lines 3000 --src u
run_once u1 --checkpoint "$T/ucp/cp.json" --unordered --batch-bytes 4KiB "$T/u/u.ndjson"
assert_eq "$RC" 0 "--unordered: first run exit status"
assert_same_file "$(sort "$T/u1.out" | snap u1.sorted)" "$(sort "$T/u/u.ndjson" | snap u1.want)" "--unordered: every line once"
run_once u2 --checkpoint "$T/ucp/cp.json" --unordered "$T/u/u.ndjson"
assert_eq "$(size_of "$T/u2.out")" 0 "--unordered: rerun output bytes"
# Dropped batches are finished with (and counted), so the checkpoint moves past them
# once a later batch is written; what follows the last written line is read again.
run_once d1 --checkpoint "$T/dcp/cp.json" --on-full drop --rate 2000/s --batch-bytes 4KiB --stats "$T/u/u.ndjson"
assert_eq "$RC" 0 "--on-full drop: first run exit status"
dropped="$(grep '"final"' "$T/d1.err" | jq -r .sink.dropped_events)"
assert_eq "$(($(lines_of "$T/d1.out") + dropped))" 3000 "--on-full drop: written + dropped"
[[ "$dropped" -gt 0 ]] || fail "--on-full drop: nothing was dropped; the sink was not slow enough"
ok "--on-full drop: $dropped events dropped"
last="$(tail -n 1 "$T/d1.out")"
run_once d2 --checkpoint "$T/dcp/cp.json" "$T/u/u.ndjson"
assert_same_file "$T/d2.out" "$(grep -A 100000 -xF "$last" "$T/u/u.ndjson" | tail -n +2 | snap d2.want)" \
  "--on-full drop: the rerun reads exactly what followed the last written line"

# follow_run NAME DIR CP: sluice -F --from-start --checkpoint CP DIR/app.log, output to
# NAME.out (-o, appended). --from-start makes the empty app.log present at the first start
# read from 0 whatever the timing; at a restart the checkpoint decides.
follow_run() {
  "$SLUICE" -F --from-start --checkpoint "$3" -o "$T/$1.out" "$2/app.log" >"$T/$1.stdout" 2>"$T/$1.err" &
  SLUICE_PID=$!
  track_pid "$SLUICE_PID"
}

RATE=2000
LINES=10000

step "(b) kill -9 while following a file being written at $RATE lines/s, restart: nothing lost, few repeated"
mkdir -p "$T/b"
: >"$T/b/app.log"
"$LOG_WRITER" --path "$T/b/app.log" --lines $LINES --rate $RATE --src k &
wpid=$!
track_pid "$wpid"
follow_run b1 "$T/b" "$T/b.cp.json"
pid=$SLUICE_PID
wait_src "$T/b1.out" k 3000 15
wait_until 10 test -s "$T/b.cp.json" || fail "no checkpoint saved after $(count_src "$T/b1.out" k) events"
# Kill some way past a checkpoint save, not right after one.
wait_src "$T/b1.out" k $(($(count_src "$T/b1.out" k) + 1000)) 10
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
complete_lines "$T/b1.out"
seqs_of "$T/b1.out" k >"$T/b1.seqs"
m="$(tail -n 1 "$T/b1.seqs")"
check_sequence "$T/b1.seqs" 0 "$m" "before the kill"
follow_run b2 "$T/b" "$T/b.cp.json"
pid=$SLUICE_PID
wait_exit "$wpid" 20
assert_eq "$EXIT_CODE" 0 "writer exit status"
wait_until 20 has_distinct "$T/b1.out" "$T/b2.out" k $LINES ||
  echo "    note: $(distinct_src "$T/b1.out" "$T/b2.out" k) of $LINES distinct events after 20 s"
wait_stable "$T/b2.out" 1.5 10
stop_sluice "$pid" "restarted sluice"
seqs_of "$T/b2.out" k >"$T/b2.seqs"
s="$(head -n 1 "$T/b2.seqs")"
[[ -n "$s" ]] || fail "nothing delivered after the restart"
check_sequence "$T/b2.seqs" "$s" $((LINES - 1)) "after the restart"
assert_le "$s" $((m + 1)) "first seq after the restart (none missing: the kill came after seq $m)"
assert_le $((m + 1 - s)) $((RATE * 3)) "events delivered twice (at most ~one checkpoint interval at $RATE/s)"

step "(c) SIGTERM while following, restart: nothing lost, nothing repeated"
mkdir -p "$T/c"
: >"$T/c/app.log"
"$LOG_WRITER" --path "$T/c/app.log" --lines $LINES --rate $RATE --src c &
wpid=$!
track_pid "$wpid"
follow_run c1 "$T/c" "$T/c.cp.json"
pid=$SLUICE_PID
wait_src "$T/c1.out" c 3000 15
stop_sluice "$pid" "first sluice"
follow_run c2 "$T/c" "$T/c.cp.json"
pid=$SLUICE_PID
wait_exit "$wpid" 20
assert_eq "$EXIT_CODE" 0 "writer exit status"
wait_until 20 has_distinct "$T/c1.out" "$T/c2.out" c $LINES ||
  echo "    note: $(distinct_src "$T/c1.out" "$T/c2.out" c) of $LINES distinct events after 20 s"
wait_stable "$T/c2.out" 1.5 10
stop_sluice "$pid" "restarted sluice"
ok "first run delivered $(count_src "$T/c1.out" c), the restart $(count_src "$T/c2.out" c)"
{ seqs_of "$T/c1.out" c; seqs_of "$T/c2.out" c; } >"$T/c.seqs"
check_sequence "$T/c.seqs" 0 $((LINES - 1)) "both runs together (each seq once)"

step "(d) rotated while sluice is down: app.log -> app.log.1 is resumed under its new name, the new app.log read from 0"
mkdir -p "$T/d"
"$LOG_WRITER" --path "$T/d/app.log" --lines 1000 --src d
start_sluice d1 -F --from-start --checkpoint "$T/d.cp.json" "$T/d/app.log*"
pid=$SLUICE_PID
wait_src "$T/d1.out" d 1000 10
stop_sluice "$pid" "first sluice"
assert_same_file "$T/d1.out" "$T/d/app.log" "first run: app.log"
# While down: 500 more lines in app.log, then mv app.log app.log.1, and 500 in a new app.log.
"$LOG_WRITER" --path "$T/d/app.log" --lines 1000 --start 1000 --rotate-every 500 --strategy rename --src d
assert_eq "$(src_lines "$T/d/app.log.1" d | wc -l)" 1500 "lines in app.log.1"
start_sluice d2 -F --from-start --checkpoint "$T/d.cp.json" "$T/d/app.log*"
pid=$SLUICE_PID
wait_until 15 has_src_count "$T/d2.out" d 1000 ||
  echo "    note: $(count_src "$T/d2.out" d) of 1000 events after 15 s"
wait_stable "$T/d2.out" 1.5 10
stop_sluice "$pid" "restarted sluice"
seqs_of "$T/d2.out" d >"$T/d2.seqs"
check_exactly_once "$T/d2.seqs" 1000 1999 "restart: the lines written while down"
check_order_per_gen "$T/d2.out" d "restart"

step "(e) a corrupt checkpoint: exit 1, a message naming it, no output, the file left as it was"
mkdir -p "$T/e"
corrupt_case() {  # NAME: $T/e/NAME.json holds the corrupt content
  local cp="$T/e/$1.json"
  cp "$cp" "$T/e/$1.orig"
  run_once "e-$1" --checkpoint "$cp" "$T/a/a.ndjson"
  assert_eq "$RC" 1 "$1: exit status"
  assert_contains "$T/e-$1.err" "$1\.json" "$1: stderr names the checkpoint"
  assert_eq "$(size_of "$T/e-$1.out")" 0 "$1: output bytes"
  assert_same_file "$cp" "$T/e/$1.orig" "$1: the checkpoint is left as it was"
}
printf 'this is not a checkpoint {\n' >"$T/e/garbage.json"
corrupt_case garbage
head -c $(($(size_of "$CP") / 2)) "$CP" >"$T/e/truncated.json"
corrupt_case truncated
printf '[1,2,3]\n' >"$T/e/array.json"
corrupt_case array
# Following: the same, rather than following from scratch.
cp "$T/e/garbage.json" "$T/e/follow.json"
start_sluice e-follow -F --checkpoint "$T/e/follow.json" "$T/a/a.ndjson"
wait_exit "$SLUICE_PID" 10
assert_eq "$EXIT_CODE" 1 "-F with a corrupt checkpoint: exit status"
assert_contains "$T/e-follow.err" 'follow\.json' "-F: stderr names the checkpoint"

step "(f) --checkpoint with stdin alone: usage error, exit 2, one line"
for args in "" "-"; do
  rc=0
  # shellcheck disable=SC2086  # "" is no argument, "-" is one
  "$SLUICE" --checkpoint "$T/f.cp.json" $args >"$T/f.out" 2>"$T/f.err" <"$T/a/b.ndjson" || rc=$?
  assert_eq "$rc" 2 "'--checkpoint PATH $args': exit status"
  assert_eq "$(lines_of "$T/f.err")" 1 "'--checkpoint PATH $args': stderr lines"
  assert_eq "$(size_of "$T/f.out")" 0 "'--checkpoint PATH $args': output bytes"
  [[ ! -e "$T/f.cp.json" ]] || fail "the checkpoint file was created"
done
ok "no checkpoint file created"

step "(g) a followed file deleted and replaced by a new one (likely the same inode): read from 0"
mkdir -p "$T/g"
"$LOG_WRITER" --path "$T/g/app.log" --lines 200 --src g1
ino1="$(stat -c %i "$T/g/app.log")"
follow_run g1 "$T/g" "$T/g.cp.json"
pid=$SLUICE_PID
wait_src "$T/g1.out" g1 200 10
rm "$T/g/app.log"
# Drained then released: once sluice closed it, the inode is free for the next file.
wait_until 10 no_deleted_open "$pid" || fail "sluice still holds the deleted app.log open after 10 s"
ok "the deleted file was released"
"$LOG_WRITER" --path "$T/g/app.log" --lines 400 --src g2
ino2="$(stat -c %i "$T/g/app.log")"
echo "    inode before $ino1, after $ino2$([[ "$ino1" == "$ino2" ]] && echo " (reused)")"
wait_src "$T/g1.out" g2 400 10
assert_same_file "$(src_lines "$T/g1.out" g2 | snap g1.g2)" "$T/g/app.log" "while following: the new file from its first line"
stop_sluice "$pid" "sluice"
# Now while sluice is down.
rm "$T/g/app.log"
"$LOG_WRITER" --path "$T/g/app.log" --lines 600 --src g3
ino3="$(stat -c %i "$T/g/app.log")"
echo "    inode now $ino3$([[ "$ino2" == "$ino3" ]] && echo " (reused)")"
follow_run g2 "$T/g" "$T/g.cp.json"
pid=$SLUICE_PID
wait_src "$T/g2.out" g3 600 10
wait_stable "$T/g2.out" 1.5 10
stop_sluice "$pid" "restarted sluice"
assert_same_file "$T/g2.out" "$T/g/app.log" "after a restart: the new file from its first line, nothing else"

step "(h) a partial last line at SIGTERM, completed while sluice is down: one whole event after the restart"
mkdir -p "$T/h"
"$LOG_WRITER" --path "$T/h/app.log" --lines 10 --src h
line='{"seq":10,"src":"h","gen":0,"pad":"written-in-two-parts"}'
printf '%s' "${line:0:30}" >>"$T/h/app.log"
start_sluice h1 -F --from-start --checkpoint "$T/h.cp.json" --dead-letter "$T/h1.dead" "$T/h/app.log"
pid=$SLUICE_PID
wait_src "$T/h1.out" h 10 10
stop_sluice "$pid" "first sluice"
assert_eq "$(count_src "$T/h1.out" h)" 10 "events before the restart (the partial line held)"
printf '%s\n' "${line:30}" >>"$T/h/app.log"
"$LOG_WRITER" --path "$T/h/app.log" --lines 5 --start 11 --src h
start_sluice h2 -F --from-start --checkpoint "$T/h.cp.json" --dead-letter "$T/h2.dead" "$T/h/app.log"
pid=$SLUICE_PID
wait_src "$T/h2.out" h 6 10
wait_stable "$T/h2.out" 1.5 10
stop_sluice "$pid" "restarted sluice"
assert_same_file "$(cat "$T/h1.out" "$T/h2.out" | snap h.got)" "$T/h/app.log" "both runs together: the file, the completed line whole"
assert_eq "$(($(lines_of "$T/h1.dead") + $(lines_of "$T/h2.dead")))" 0 "dead-lettered lines"

step "(i) kill -9 twice while app.log is renamed every 1000 lines, 'app.log*': nothing lost"
mkdir -p "$T/i"
: >"$T/i/app.log"
"$LOG_WRITER" --path "$T/i/app.log" --lines 16000 --rate $RATE --rotate-every 1000 --keep 30 --src i &
wpid=$!
track_pid "$wpid"
# A save replaces the checkpoint (temp file, rename): a new inode.
cp_inode() { stat -c %i "$T/i.cp.json" 2>/dev/null || echo none; }
cp_replaced() { [[ "$(cp_inode)" != "$1" ]]; }
for run in 1 2; do
  start_sluice "i$run" -F --from-start --checkpoint "$T/i.cp.json" "$T/i/app.log*"
  pid=$SLUICE_PID
  # Killed after at least one save past the restart's catch-up (the first save follows
  # the start at once, the next one about 2 s later) ...
  saves=0
  last="$(cp_inode)"
  while ((saves < 2)); do
    wait_until 10 cp_replaced "$last" || fail "run $run: no checkpoint save in 10 s"
    last="$(cp_inode)"
    saves=$((saves + 1))
  done
  # ... and some way past that save, so the restart resumes behind the output.
  wait_src "$T/i$run.out" i $(($(count_src "$T/i$run.out" i) + 1000)) 10
  kill -KILL "$pid"
  wait "$pid" 2>/dev/null || true
  complete_lines "$T/i$run.out"
  ok "run $run killed after $(count_src "$T/i$run.out" i) events"
done
start_sluice i3 -F --from-start --checkpoint "$T/i.cp.json" "$T/i/app.log*"
pid=$SLUICE_PID
wait_exit "$wpid" 30
assert_eq "$EXIT_CODE" 0 "writer exit status"
wait_until 20 has_distinct "$T/i1.out" "$T/i2.out" "$T/i3.out" i 16000 ||
  echo "    note: $(distinct_src "$T/i1.out" "$T/i2.out" "$T/i3.out" i) of 16000 distinct events after 20 s"
wait_stable "$T/i3.out" 1.5 10
stop_sluice "$pid" "last sluice"
for run in 1 2 3; do check_order_per_gen "$T/i$run.out" i "run $run"; done
cat "$T/i1.out" "$T/i2.out" "$T/i3.out" >"$T/i.all"
seqs_of "$T/i.all" i >"$T/i.seqs"
missing="$(seq 0 15999 | awk -v f="$T/i.seqs" 'BEGIN { while ((getline l < f) > 0) have[l] = 1 } !($1 in have)')"
[[ -z "$missing" ]] || fail "$(echo "$missing" | wc -l) seqs never delivered: $(echo "$missing" | ranges)"
ok "every seq 0..15999 delivered"
assert_le $(($(lines_of "$T/i.seqs") - 16000)) $((2 * RATE * 3)) "events delivered twice over two kills"

step "(j) SIGTERM while a --rate sink lags and the drain times out, restart: nothing lost, nothing repeated"
# DESIGN.md §4: the drain gives up after --drain-timeout (exit 1, the undelivered count
# printed); §6: the checkpoint is just past the last event written, so the restart
# delivers exactly the rest, even when the drain stopped in the middle of a batch.
mkdir -p "$T/j"
"$LOG_WRITER" --path "$T/j/app.log" --lines 40000 --src j
start_sluice j1 -F --from-start --rate 4000/s --drain-timeout 1 --checkpoint "$T/j.cp.json" "$T/j/app.log"
pid=$SLUICE_PID
wait_src "$T/j1.out" j 4000 10
kill -TERM "$pid"
wait_exit "$pid" 15
assert_eq "$EXIT_CODE" 1 "exit status after a drain that timed out"
assert_contains "$T/j1.err" "deliver" "the message says events were not delivered"
start_sluice j2 -F --from-start --checkpoint "$T/j.cp.json" "$T/j/app.log"
pid=$SLUICE_PID
wait_until 15 has_distinct "$T/j1.out" "$T/j2.out" j 40000 ||
  echo "    note: $(distinct_src "$T/j1.out" "$T/j2.out" j) of 40000 distinct events after 15 s"
wait_stable "$T/j2.out" 1.5 10
stop_sluice "$pid" "restarted sluice"
ok "first run delivered $(count_src "$T/j1.out" j), the restart $(count_src "$T/j2.out" j)"
{ seqs_of "$T/j1.out" j; seqs_of "$T/j2.out" j; } >"$T/j.seqs"
check_sequence "$T/j.seqs" 0 39999 "both runs together (each seq once)"

echo "$E2E_NAME: PASS"
