#!/usr/bin/env bash
# Flow control (DESIGN.md §2): with a slow sink the producer blocks on its pipe and
# sluice holds a bounded amount of data (guarantees 1 and 3); with --on-full drop the
# producer never waits and every event read is either delivered or counted as dropped
# (guarantee 4).
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

BATCH=$((256 * 1024))

# last_stats FILE: the last complete stats line of FILE.
last_stats() { grep '^{.*}$' "$1" | tail -n 1; }

step "block (default): gen_logs --forever | sluice --rate 200/s: the producer blocks"
mkfifo "$T/in.fifo"
"$GEN_LOGS" --forever --seed 1 >"$T/in.fifo" 2>"$T/gen.err" &
gen_pid=$!
track_pid "$gen_pid"
"$SLUICE" --rate 200/s --batch-bytes 256K --stats=1 --stats-file "$T/s.json" \
  <"$T/in.fifo" >"$T/out" 2>"$T/err" &
sluice_pid=$!
track_pid "$sluice_pid"
wait_lines "$T/out" 100 10
ok "100 lines delivered"
wait_until 10 has_lines_matching "$T/s.json" '"stats":"interval"' 3 ||
  { show "$T/s.json" "$T/err"; fail "fewer than 3 stats lines after 10 s"; }
ok "3 stats intervals written"
if is_dead "$sluice_pid"; then show "$T/err"; fail "sluice exited"; fi
if is_dead "$gen_pid"; then show "$T/gen.err"; fail "gen_logs exited"; fi

# The producer is asleep in a pipe write (the kernel names the wait channel
# pipe_write, or anon_pipe_write on newer kernels). It wakes briefly whenever sluice
# reads a batch, so wait for the condition rather than sample once.
gen_blocked_in_pipe() {
  local state wchan
  state="$(awk '{ print $3 }' "/proc/$gen_pid/stat")"
  wchan="$(cat "/proc/$gen_pid/wchan" 2>/dev/null || true)"
  [[ "$state" == S && "$wchan" == *pipe* ]]
}
wchan="$(cat "/proc/$gen_pid/wchan" 2>/dev/null || true)"
if [[ -n "$wchan" && "$wchan" != 0 ]]; then
  wait_until 5 gen_blocked_in_pipe ||
    fail "gen_logs is not blocked in a pipe write: state $(awk '{ print $3 }' "/proc/$gen_pid/stat"), wchan $(cat "/proc/$gen_pid/wchan")"
  ok "gen_logs sleeps in $(cat "/proc/$gen_pid/wchan")"
else
  echo "    skip: /proc/PID/wchan not available here; relying on the byte bounds below"
fi

# What the producer has written is bounded by what sluice delivered plus what the pipe
# and the batches alive can hold. Without backpressure it would be hundreds of MB.
gen_written="$(awk '$1 == "wchar:" { print $2 }' "/proc/$gen_pid/io")"
out_bytes="$(size_of "$T/out")"
s="$(last_stats "$T/s.json")"
alive_limit="$(echo "$s" | jq .batches_alive.limit)"
pipe_max="$(cat /proc/sys/fs/pipe-max-size 2>/dev/null || echo $((1024 * 1024)))"
bound=$((out_bytes + pipe_max + (alive_limit + 1) * BATCH + 1024 * 1024))
echo "    gen_logs wrote $gen_written bytes; sluice wrote $out_bytes; batches_alive.limit $alive_limit"
assert_le "$gen_written" "$bound" "bytes written by the producer (delivered + pipe + batches alive + 1 MiB)"
# Inside sluice: read minus written is at most the batches alive.
in_flight=$(($(echo "$s" | jq .reader.bytes_in) - $(echo "$s" | jq .sink.bytes_out)))
assert_le "$in_flight" $((alive_limit * BATCH)) "stats: reader.bytes_in - sink.bytes_out"
assert_eq "$(echo "$s" | jq .sink.dropped_events)" 0 "stats: sink.dropped_events"

step "block: token bounds hold in every stats line"
grep '^{.*}$' "$T/s.json" >"$T/s.complete.json"
n=0
while read -r line; do
  echo "$line" | check_token_bounds >/dev/null
  n=$((n + 1))
done <"$T/s.complete.json"
ok "tokens max <= limit and batches_alive.max <= limit in $n stats lines"
last_stats "$T/s.json" | check_token_bounds

step "block: nothing lost or reordered: the output is a prefix of the generated stream"
kill -KILL "$sluice_pid"
wait_exit "$sluice_pid" 5
wait_exit "$gen_pid" 10 # gen_logs --forever ends when its reader goes away
delivered="$(lines_of "$T/out")"
assert_ge "$delivered" 100 "lines delivered"
head -n "$delivered" "$T/out" >"$T/out.whole"
"$GEN_LOGS" --lines "$delivered" --seed 1 >"$T/expected"
assert_same_file "$T/out.whole" "$T/expected" "the first $delivered generated lines, in order"

step "drop: gen_logs --lines 200000 | sluice --on-full drop --rate 5000/s: every event accounted for"
set +o pipefail
"$GEN_LOGS" --lines 200000 --seed 3 |
  "$SLUICE" --on-full drop --rate 5000/s --stats --stats-file "$T/drop.json" >"$T/drop.out" 2>"$T/drop.err"
codes=("${PIPESTATUS[@]}")
set -o pipefail
assert_eq "${codes[0]}" 0 "gen_logs exit status"
assert_eq "${codes[1]}" 0 "sluice exit status"
s="$(final_stats "$T/drop.json")"
[[ -n "$s" ]] || { show "$T/drop.json" "$T/drop.err"; fail "no final stats"; }
delivered="$(lines_of "$T/drop.out")"
events_out="$(echo "$s" | jq .sink.events_out)"
dropped="$(echo "$s" | jq .sink.dropped_events)"
parsed="$(echo "$s" | jq .parse.events_out)"
echo "    delivered $delivered, dropped $dropped, parsed $parsed"
assert_eq "$events_out" "$delivered" "sink.events_out = lines in the output"
assert_eq "$parsed" 200000 "parse.events_out (every line read and parsed)"
assert_eq "$((events_out + dropped))" "$parsed" "sink.events_out + sink.dropped_events"
[[ "$dropped" -gt 0 ]] || fail "nothing dropped: the sink at 5000/s kept up with 200000 lines"
ok "some events dropped ($dropped)"
assert_ge "$(echo "$s" | jq .sink.dropped_batches)" 1 "sink.dropped_batches"
assert_eq "$(echo "$s" | jq .sink.undelivered_events)" 0 "sink.undelivered_events"
echo "$s" | check_token_bounds
# The delivered lines are input lines, whole, in input order (dropping takes whole batches).
"$GEN_LOGS" --lines 200000 --seed 3 >"$T/drop.in"
LC_ALL=C awk 'NR == FNR { want[++n] = $0; next }
              i < n && $0 == want[i + 1] { i++ }
              END { if (i != n) { print "only " i " of " n " output lines found in order"; exit 1 } }' \
  "$T/drop.out" "$T/drop.in" || fail "the output is not a subsequence of the input"
ok "the output is a subsequence of the input"

step "block: a reader stalled for a whole stats interval reports that time as blocked (--rate 1/s)"
# At 1 event/s the first batch (about 1000 events) takes minutes to write, so once the
# tokens are taken nothing comes back during this step: the reader cannot read.
mkfifo "$T/stall.fifo"
"$GEN_LOGS" --forever --seed 1 >"$T/stall.fifo" 2>/dev/null &
stall_gen=$!
track_pid "$stall_gen"
"$SLUICE" --rate 1/s --stats=1 --stats-file "$T/stall.json" <"$T/stall.fifo" >"$T/stall.out" 2>"$T/stall.err" &
stall_pid=$!
track_pid "$stall_pid"
wait_until 10 has_lines_matching "$T/stall.json" '"stats":"interval"' 3 ||
  { show "$T/stall.json"; fail "fewer than 3 stats lines after 10 s"; }
grep '"stats":"interval"' "$T/stall.json" | sed -n '1p;3p' >"$T/stall.two"
read -r e1 b1 r1 < <(sed -n 1p "$T/stall.two" | jq -r '"\(.elapsed_s) \(.reader.bytes_in) \(.reader.blocked_ms)"')
read -r e3 b3 r3 < <(sed -n 2p "$T/stall.two" | jq -r '"\(.elapsed_s) \(.reader.bytes_in) \(.reader.blocked_ms)"')
echo "    interval 1: elapsed ${e1}s bytes_in $b1 blocked_ms $r1; interval 3: elapsed ${e3}s bytes_in $b3 blocked_ms $r3"
assert_eq "$b3" "$b1" "reader.bytes_in unchanged from interval 1 to 3 (the reader is stalled)"
# The reader waited through the whole span between the two lines (sluice's own clock);
# its blocked time must have grown by at least half of that span.
grew_ms="$(jq -n --argjson a "$r1" --argjson b "$r3" '($b - $a) | floor')"
half_span_ms="$(jq -n --argjson a "$e1" --argjson b "$e3" '(($b - $a) * 500) | floor')"
assert_ge "$grew_ms" "$half_span_ms" "reader.blocked_ms growth (ms) over a stalled span of $(awk -v a="$e1" -v b="$e3" 'BEGIN { printf "%.3f", b - a }') s"
kill -KILL "$stall_pid"
wait_exit "$stall_pid" 5
wait_exit "$stall_gen" 10

echo "$E2E_NAME: PASS"
