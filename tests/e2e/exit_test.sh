#!/usr/bin/env bash
# Exit codes and signals (DESIGN.md §4): a closed stdout ends sluice quietly, write
# errors and usage errors, --help/--version, SIGTERM/SIGINT drain (complete and timed
# out), a second signal, SIGHUP reopening the outputs.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

APP="$SAMPLES/app.ndjson"

step "sluice BIG | head -1: one line, nothing on stderr, exit 0, the file not read to its end"
"$GEN_LOGS" --bytes 200M --seed 11 >"$T/big.ndjson"
big_size="$(size_of "$T/big.ndjson")"
set +o pipefail
"$SLUICE" --stats --stats-file "$T/head.stats" "$T/big.ndjson" 2>"$T/head.err" | head -n 1 >"$T/head.out"
codes=("${PIPESTATUS[@]}")
set -o pipefail
assert_eq "${codes[0]}" 0 "sluice exit status"
assert_eq "${codes[1]}" 0 "head exit status"
assert_same_file "$T/head.out" <(head -n 1 "$T/big.ndjson") "the one line is the first input line"
if [[ -s "$T/head.err" ]]; then show "$T/head.err"; fail "sluice wrote to stderr"; fi
ok "nothing on stderr"
bytes_in="$(final_stats "$T/head.stats" | jq .reader.bytes_in)"
[[ -n "$bytes_in" && "$bytes_in" != null ]] || { show "$T/head.stats"; fail "no final stats after EPIPE"; }
assert_le "$bytes_in" $((big_size / 10)) "reader.bytes_in of a $big_size-byte file"
rm -f "$T/big.ndjson"

step "-o /dev/full: exit 1, the message names the output"
if [[ -w /dev/full ]]; then
  rc=0
  "$SLUICE" -o /dev/full "$APP" >"$T/full.out" 2>"$T/full.err" || rc=$?
  assert_eq "$rc" 1 "exit status"
  assert_contains "$T/full.err" "/dev/full" "stderr names /dev/full"
  rc=0
  "$SLUICE" "$APP" >/dev/full 2>"$T/full2.err" || rc=$?
  assert_eq "$rc" 1 "exit status (stdout is /dev/full)"
  [[ -s "$T/full2.err" ]] || fail "no message for a full stdout"
  ok "a message for a full stdout"
else
  echo "    skip: /dev/full not writable"
fi

step "usage errors: exit 2 and exactly one line on stderr"
bad_flags=(
  "--no-such-flag"
  "--read-ahead 0"
  "--read-ahead -1"
  "--parse-tokens 0"
  "--sink-tokens -3"
  "--on-full maybe"
  "--rate x"
  "--rate 10/fortnight"
  "--batch-bytes 1Q"
  "--burst 3"
  "--format xml"
  "--dead-letter-format csv"
  "--log-level loud"
)
for flags in "${bad_flags[@]}"; do
  rc=0
  # shellcheck disable=SC2086  # the flags are split on purpose
  "$SLUICE" $flags "$APP" >"$T/usage.out" 2>"$T/usage.err" </dev/null || rc=$?
  [[ "$rc" == 2 ]] || { show "$T/usage.err"; fail "'$flags': exit status $rc, expected 2"; }
  n="$(lines_of "$T/usage.err")"
  [[ "$n" == 1 ]] || { show "$T/usage.err"; fail "'$flags': $n lines on stderr, expected 1"; }
  if [[ -s "$T/usage.out" ]]; then fail "'$flags': wrote to stdout"; fi
  ok "'$flags' -> 2: $(cat "$T/usage.err")"
done

step "--help exits 0 and lists the flags of DESIGN.md §3 that exist"
rc=0
"$SLUICE" --help >"$T/help.out" 2>"$T/help.err" || rc=$?
assert_eq "$rc" 0 "exit status"
for flag in --max-line-bytes --parse-threads --unordered --batch-bytes --read-ahead --parse-tokens \
  --sink-tokens --rate --rate-bytes --burst --on-full --drain-timeout --output --format --dead-letter \
  --dead-letter-format --stats --stats-file --log-level --version --help; do
  grep -Eq -- "(^|[ ,])$flag([ =,:]|$)" "$T/help.out" || { show "$T/help.out"; fail "--help does not list $flag"; }
done
ok "all flags listed"
rc=0
"$SLUICE" -h >"$T/help2.out" 2>&1 || rc=$?
assert_eq "$rc" 0 "exit status (-h)"
assert_same_file "$T/help2.out" "$T/help.out" "-h prints the same help"

step "--version prints the version line"
rc=0
"$SLUICE" --version >"$T/version.out" 2>"$T/version.err" || rc=$?
assert_eq "$rc" 0 "exit status"
assert_eq "$(lines_of "$T/version.out")" 1 "lines"
assert_contains "$T/version.out" '^sluice [0-9]+\.[0-9]+\.[0-9]+' "version line"
rc=0
"$SLUICE" -V >"$T/version2.out" 2>&1 || rc=$?
assert_eq "$rc" 0 "exit status (-V)"
assert_same_file "$T/version2.out" "$T/version.out" "-V prints the same"

# numbered_lines N FILE: N small distinct JSON lines.
numbered_lines() { seq 1 "$1" | awk '{ printf "{\"i\":%d}\n", $1 }' >"$2"; }

# start_on_fifo NAME ARGS...: run sluice on a fresh fifo, keep the fifo open on fd 3
# (so sluice never sees the end of its input), stats every 0.2 s in $T/NAME.stats,
# output in $T/NAME.out, stderr in $T/NAME.err. Sets PID.
start_on_fifo() {
  local name="$1"
  shift
  rm -f "$T/$name.fifo"
  mkfifo "$T/$name.fifo"
  "$SLUICE" --stats=0.2 --stats-file "$T/$name.stats" "$@" <"$T/$name.fifo" >"$T/$name.out" 2>"$T/$name.err" &
  PID=$!
  track_pid "$PID"
  exec 3>"$T/$name.fifo"
}

# reader_has STATS BYTES: the latest stats object reports reader.bytes_in == BYTES.
reader_has() {
  [[ -f "$1" ]] || return 1
  local b
  b="$(grep '^{.*}$' "$1" | tail -n 1 | jq .reader.bytes_in 2>/dev/null)" || return 1
  [[ "$b" == "$2" ]]
}

# wait_all_read NAME BYTES: wait until sluice has read BYTES bytes of its input.
wait_all_read() {
  wait_until 10 reader_has "$T/$1.stats" "$2" || { show "$T/$1.stats"; fail "sluice did not read $2 bytes"; }
}

for sig in TERM INT; do
  step "SIG$sig: stop reading, deliver everything read (rate 2000/s, drain timeout 10 s), exit 0"
  numbered_lines 5000 "$T/d.in"
  start_on_fifo "drain$sig" --rate 2000/s --drain-timeout 10 -o "$T/drain$sig.ndjson"
  cat "$T/d.in" >&3
  wait_lines "$T/drain$sig.ndjson" 1 10
  wait_all_read "drain$sig" "$(size_of "$T/d.in")"
  at_signal="$(lines_of "$T/drain$sig.ndjson")"
  kill -"$sig" "$PID"
  wait_exit "$PID" 15
  exec 3>&-
  echo "    $at_signal of 5000 lines were written when SIG$sig was sent"
  assert_eq "$EXIT_CODE" 0 "exit status"
  assert_same_file "$T/drain$sig.ndjson" "$T/d.in" "all 5000 lines delivered, in order"
  s="$(final_stats "$T/drain$sig.stats")"
  assert_eq "$(echo "$s" | jq .sink.undelivered_events)" 0 "final sink.undelivered_events"
  assert_eq "$(echo "$s" | jq .sink.events_out)" 5000 "final sink.events_out"
  if [[ -s "$T/drain$sig.out" ]]; then fail "stdout written although -o was given"; fi
done

step "SIGTERM with a drain that times out (20000 lines, rate 1000/s, drain timeout 1 s): exit 1, undelivered count printed"
numbered_lines 20000 "$T/t.in"
# Enough tokens that the whole input (about 200 KB) is read before the signal.
start_on_fifo timeout --rate 1000/s --drain-timeout 1 --read-ahead 8 --parse-tokens 8 --sink-tokens 8 \
  -o "$T/timeout.ndjson"
cat "$T/t.in" >&3
wait_lines "$T/timeout.ndjson" 1 10
wait_all_read timeout "$(size_of "$T/t.in")"
kill -TERM "$PID"
wait_exit "$PID" 10
exec 3>&-
assert_eq "$EXIT_CODE" 1 "exit status"
delivered="$(lines_of "$T/timeout.ndjson")"
undelivered=$((20000 - delivered))
echo "    delivered $delivered, so $undelivered undelivered"
[[ "$undelivered" -gt 0 ]] || fail "everything was delivered; the drain could not time out"
grep -Eq "(^|[^0-9])$undelivered([^0-9]|$)" "$T/timeout.err" ||
  { show "$T/timeout.err"; fail "stderr does not give the number of undelivered events ($undelivered)"; }
ok "stderr gives the number of undelivered events: $(grep -E "(^|[^0-9])$undelivered([^0-9]|$)" "$T/timeout.err" | head -n 1)"
assert_same_file "$T/timeout.ndjson" <(head -n "$delivered" "$T/t.in") "the delivered lines are the first ones, whole"
s="$(final_stats "$T/timeout.stats")"
assert_eq "$(echo "$s" | jq .sink.undelivered_events)" "$undelivered" "final sink.undelivered_events"
assert_eq "$(echo "$s" | jq .sink.events_out)" "$delivered" "final sink.events_out (= lines in the output)"

for sig in TERM INT; do
  code=$((128 + $(kill -l "$sig")))
  step "a second SIG$sig exits at once with $code"
  numbered_lines 20000 "$T/s.in"
  start_on_fifo "second$sig" --rate 100/s --drain-timeout 60 -o "$T/second$sig.ndjson"
  cat "$T/s.in" >&3
  wait_lines "$T/second$sig.ndjson" 1 10
  kill -"$sig" "$PID"
  # Standard signals do not queue: repeat until one arrives after the first was taken.
  deadline=$((SECONDS + 10))
  while ! is_dead "$PID" && ((SECONDS < deadline)); do
    kill -"$sig" "$PID" 2>/dev/null || true
    wait_until 0 is_dead "$PID" || true
  done
  wait_exit "$PID" 1
  exec 3>&-
  assert_eq "$EXIT_CODE" "$code" "exit status"
  assert_le "$(lines_of "$T/second$sig.ndjson")" 19999 "lines written (the drain of 200 s was cut short)"
done

# sighup_taken PID: SIGHUP (signal 1, bit 0 of the masks) is pending neither for the
# process nor for any of its threads.
sighup_taken() {
  local f mask m
  for f in "/proc/$1/status" "/proc/$1"/task/*/status; do
    mask="$(awk '$1 == "ShdPnd:" || $1 == "SigPnd:" { print $2 }' "$f" 2>/dev/null)" || continue
    for m in $mask; do
      (((16#$m & 1) == 0)) || return 1
    done
  done
}

step "SIGHUP reopens -o and --dead-letter (logrotate: mv, then HUP)"
start_on_fifo hup -o "$T/hup.log" --dead-letter "$T/hup.dl"
printf '{"batch":1,"i":1}\n{"batch":1,"i":2}\nnot json 1\n{"batch":1,"i":3}\n' >&3
wait_lines "$T/hup.log" 3 10
wait_lines "$T/hup.dl" 1 10
mv "$T/hup.log" "$T/hup.log.1"
mv "$T/hup.dl" "$T/hup.dl.1"
# sluice may reopen at once or before its next write; either way the lines sent after
# it has taken the signal must go to the new files. It has taken a SIGHUP when the signal
# is no longer pending; it has finished handling the first when it has taken a second.
for _ in 1 2; do
  kill -HUP "$PID"
  wait_until 10 sighup_taken "$PID" || fail "SIGHUP still pending after 10 s"
done
ok "SIGHUP taken"
printf '{"batch":2,"i":1}\nnot json 2\n{"batch":2,"i":2}\n' >&3
wait_lines "$T/hup.log" 2 10
wait_lines "$T/hup.dl" 1 10
exec 3>&-
wait_exit "$PID" 10
assert_eq "$EXIT_CODE" 0 "exit status"
assert_same_file "$T/hup.log.1" <(printf '{"batch":1,"i":1}\n{"batch":1,"i":2}\n{"batch":1,"i":3}\n') "rotated output holds batch 1"
assert_same_file "$T/hup.log" <(printf '{"batch":2,"i":1}\n{"batch":2,"i":2}\n') "new output holds batch 2"
assert_same_file "$T/hup.dl.1" <(printf 'not json 1\n') "rotated dead letter holds batch 1's bad line"
assert_same_file "$T/hup.dl" <(printf 'not json 2\n') "new dead letter holds batch 2's bad line"

echo "$E2E_NAME: PASS"
