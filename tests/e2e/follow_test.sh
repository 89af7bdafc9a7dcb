#!/usr/bin/env bash
# Following files (DESIGN.md §3 -F, --from-start, --poll; §6): files present at start are
# followed from their end unless --from-start; appended lines come out promptly; a partial
# line is held until its newline and comes out as one event; a file that appears later
# under a glob, or at a path that did not exist, is read from 0; --poll=MS works without
# inotify; SIGTERM exits 0.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/e2e/logwriter.sh
source "$(dirname "${BASH_SOURCE[0]}")/logwriter.sh"
e2e_init
lw_init

D="$T/files"
mkdir -p "$D" "$D/glob"

step "a path that does not exist yet: one warning, sluice keeps waiting (checked again at the end)"
start_sluice later -F "$D/later.ndjson"
later_pid=$SLUICE_PID
wait_until 10 has_lines_matching "$T/later.err" 'later\.ndjson' 1 ||
  { show "$T/later.err"; fail "no warning naming later.ndjson on stderr"; }
ok "warned: $(head -n 1 "$T/later.err" | cut -c1-200)"
is_dead "$later_pid" && fail "sluice -F on a missing path exited"
ok "still running"

step "-F FILE: the content present at start is not output, appended lines are"
"$LOG_WRITER" --path "$D/a.ndjson" --lines 100 --src a
start_sluice end -F "$D/a.ndjson"
end_pid=$SLUICE_PID
sync_probe "$D/a.ndjson" "$T/end.out"
ok "following (a probe line came out)"
assert_eq "$(count_src "$T/end.out" a)" 0 "events of the 100 lines present at start"
"$LOG_WRITER" --path "$D/a.ndjson" --lines 50 --start 100 --src a
wait_src "$T/end.out" a 50 10
assert_same_file "$(src_lines "$T/end.out" a | snap end.got)" "$(tail -n 50 "$D/a.ndjson" | snap end.want)" "the 50 appended lines, byte for byte, in order"

step "single-line appends come out one by one (inotify; latency is measured in bench/run.sh follow)"
for i in 0 1 2; do
  "$LOG_WRITER" --path "$D/a.ndjson" --lines 1 --start $((150 + i)) --src a
  wait_src "$T/end.out" a $((51 + i)) 10
done
assert_same_file "$(src_lines "$T/end.out" a | snap end3.got)" "$(tail -n 53 "$D/a.ndjson" | snap end3.want)" "the 53 appended lines, in order"

step "-F --from-start FILE: the content present at start is output, then appended lines"
"$LOG_WRITER" --path "$D/b.ndjson" --lines 100 --src b
start_sluice from -F --from-start --stats=1 --stats-file "$T/from.stats" --dead-letter "$T/from.dead" "$D/b.ndjson"
from_pid=$SLUICE_PID
wait_src "$T/from.out" b 100 10
assert_same_file "$T/from.out" "$D/b.ndjson" "the 100 lines present at start"
"$LOG_WRITER" --path "$D/b.ndjson" --lines 10 --start 100 --src b
wait_src "$T/from.out" b 110 10
assert_same_file "$T/from.out" "$D/b.ndjson" "then the 10 appended"

# reader_saw SIZE: the last periodic stats line says the reader has read SIZE bytes or more.
reader_saw() {
  local n
  n="$(jq -r 'select(.reader != null) | .reader.bytes_in' "$T/from.stats" 2>/dev/null | tail -n 1 || true)"
  [[ -n "$n" && "$n" -ge "$1" ]]
}
# partial_pending WHAT: after a chunk without newline, let sluice see it (its reader stats
# reach the file size, or 3 s pass when the reader does not count a held partial line),
# then check that nothing came out of it.
partial_pending() {
  local size
  size="$(size_of "$D/b.ndjson")"
  if wait_until 3 reader_saw "$size"; then ok "reader has read the $size bytes, partial chunk included"; else
    echo "    note: reader.bytes_in did not reach $size in 3 s (partial bytes not counted); checked after 3 s"
  fi
  assert_eq "$(lines_of "$T/from.out")" 110 "output lines while the last line is $1"
  [[ "$(tail -c 1 "$T/from.out")" == "" ]] || fail "output ends in a partial line"
  assert_eq "$(lines_of "$T/from.dead")" 0 "dead-lettered lines"
}

step "a partial line is held until its newline, then it is one whole event"
full='{"seq":110,"src":"b","gen":0,"pad":"first-half-second-half"}'
printf '%s' "${full:0:28}" >>"$D/b.ndjson"
partial_pending "28 bytes without newline"
printf '%s' "${full:28:12}" >>"$D/b.ndjson"
partial_pending "40 bytes without newline"
printf '%s\n' "${full:40}" >>"$D/b.ndjson"
wait_src "$T/from.out" b 111 10
assert_eq "$(tail -n 1 "$T/from.out")" "$full" "the last event is the whole line"
assert_same_file "$T/from.out" "$D/b.ndjson" "output equals the file"
assert_eq "$(lines_of "$T/from.dead")" 0 "dead-lettered lines"

step "-F 'GLOB': a matching file present at start is followed from its end; one created later is read from 0"
"$LOG_WRITER" --path "$D/glob/x.log" --lines 10 --src x
start_sluice glob -F "$D/glob/*.log"
glob_pid=$SLUICE_PID
sync_probe "$D/glob/x.log" "$T/glob.out"
assert_eq "$(count_src "$T/glob.out" x)" 0 "events of the 10 lines x.log had at start"
"$LOG_WRITER" --path "$D/glob/w.txt" --lines 10 --src w
"$LOG_WRITER" --path "$D/glob/y.log" --lines 20 --src y
wait_src "$T/glob.out" y 20 10
assert_same_file "$(src_lines "$T/glob.out" y | snap glob.y1)" "$D/glob/y.log" "y.log, created later, from its first line"
"$LOG_WRITER" --path "$D/glob/y.log" --lines 5 --start 20 --src y
"$LOG_WRITER" --path "$D/glob/x.log" --lines 5 --start 10 --src x
wait_src "$T/glob.out" y 25 10
wait_src "$T/glob.out" x 5 10
assert_same_file "$(src_lines "$T/glob.out" y | snap glob.y2)" "$D/glob/y.log" "y.log appended"
assert_same_file "$(src_lines "$T/glob.out" x | snap glob.x.got)" "$(src_lines "$D/glob/x.log" x | tail -n 5 | snap glob.x.want)" "x.log appended"
assert_eq "$(count_src "$T/glob.out" w)" 0 "events of w.txt (does not match the glob)"

step "--poll=100: appended lines come out, without inotify"
"$LOG_WRITER" --path "$D/p.ndjson" --lines 10 --src p
start_sluice poll -F --poll=100 "$D/p.ndjson"
poll_pid=$SLUICE_PID
sync_probe "$D/p.ndjson" "$T/poll.out"
assert_eq "$(count_src "$T/poll.out" p)" 0 "events of the 10 lines present at start"
if uses_inotify "$poll_pid"; then fail "sluice --poll=100 holds an inotify instance"; fi
ok "no inotify instance"
"$LOG_WRITER" --path "$D/p.ndjson" --lines 100 --start 10 --rate 1000/s --src p
wait_src "$T/poll.out" p 100 10
assert_same_file "$(src_lines "$T/poll.out" p | snap poll.got)" "$(tail -n 100 "$D/p.ndjson" | snap poll.want)" "the 100 appended lines, in order"
"$LOG_WRITER" --path "$D/p.ndjson" --lines 1 --start 110 --src p
wait_src "$T/poll.out" p 101 10
ok "a single appended line comes out at --poll=100 (latency and idle CPU: bench/run.sh follow)"

step "a deleted file is drained and let go: its unterminated last line comes out then"
printf '{"seq":0,"src":"u","gen":0}\n{"seq":1,"src":"u","gen":0}\n{"seq":2,"src":"u","gen":0,"last":"no newline"}' >"$D/u.ndjson"
start_sluice del -F --from-start --dead-letter "$T/del.dead" "$D/u.ndjson"
del_pid=$SLUICE_PID
wait_src "$T/del.out" u 2 10
assert_eq "$(count_src "$T/del.out" u)" 2 "events while the last line has no newline"
rm "$D/u.ndjson"
wait_src "$T/del.out" u 3 10
assert_eq "$(tail -n 1 "$T/del.out")" '{"seq":2,"src":"u","gen":0,"last":"no newline"}' "the unterminated last line, whole"
wait_until 10 no_deleted_open "$del_pid" || fail "sluice still holds the deleted u.ndjson open after 10 s"
ok "the deleted file was let go"
assert_eq "$(lines_of "$T/del.dead")" 0 "dead-lettered lines"

step "the path that did not exist is read from 0 once created; still one warning"
"$LOG_WRITER" --path "$D/later.ndjson" --lines 30 --src later
wait_src "$T/later.out" later 30 10
assert_same_file "$T/later.out" "$D/later.ndjson" "later.ndjson from its first line"
assert_eq "$(grep -c 'later\.ndjson' "$T/later.err" || true)" 1 "stderr lines naming later.ndjson"

step "SIGTERM: every follower exits 0, having delivered everything"
stop_sluice "$later_pid" "later"
stop_sluice "$end_pid" "end"
stop_sluice "$from_pid" "from-start"
stop_sluice "$glob_pid" "glob"
stop_sluice "$poll_pid" "poll"
stop_sluice "$del_pid" "delete"
assert_same_file "$T/from.out" "$D/b.ndjson" "from-start output after exit"
assert_eq "$(count_src "$T/glob.out" y)" 25 "glob: y events after exit"
assert_eq "$(count_src "$T/end.out" a)" 53 "end: a events after exit"

echo "$E2E_NAME: PASS"
