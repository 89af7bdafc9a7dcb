#!/usr/bin/env bash
# --stats: the final object on stderr and its counts, --stats-file, periodic "interval"
# objects on a slow input, "--stats FILE" taking FILE as an input, the per-stage fields
# of DESIGN.md §5 and the token bounds.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

APP="$SAMPLES/app.ndjson"
APP_BYTES="$(size_of "$APP")"

# json_lines FILE: the lines of FILE that are JSON objects (stats), other lines dropped.
json_lines() { grep '^{' "$1" || true; }

step "--stats prints one final JSON object on stderr, with counts that match the output"
rc=0
"$SLUICE" --stats "$APP" >"$T/out" 2>"$T/err" || rc=$?
assert_eq "$rc" 0 "exit status"
assert_eq "$(lines_of "$T/out")" 395 "output lines"
json_lines "$T/err" >"$T/err.json"
assert_eq "$(lines_of "$T/err.json")" 1 "JSON lines on stderr"
jq -e . "$T/err.json" >/dev/null || { show "$T/err"; fail "the stats line is not JSON"; }
ok "the stats line parses"
s="$(cat "$T/err.json")"
assert_eq "$(echo "$s" | jq -r .stats)" final "stats kind"
assert_eq "$(echo "$s" | jq .sink.events_out)" 395 "sink.events_out (= delivered lines)"
assert_eq "$(echo "$s" | jq .sink.bytes_out)" "$(size_of "$T/out")" "sink.bytes_out (= output bytes)"
assert_eq "$(echo "$s" | jq .parse.events_out)" 395 "parse.events_out"
assert_eq "$(echo "$s" | jq .parse.invalid)" 3 "parse.invalid"
assert_eq "$(echo "$s" | jq .parse.empty)" 2 "parse.empty"
assert_eq "$(echo "$s" | jq .parse.oversize)" 0 "parse.oversize"
assert_eq "$(echo "$s" | jq .parse.filtered)" 0 "parse.filtered"
assert_eq "$(echo "$s" | jq .reader.bytes_in)" "$APP_BYTES" "reader.bytes_in (= input size)"
assert_eq "$(echo "$s" | jq .parse.bytes_in)" "$APP_BYTES" "parse.bytes_in"
assert_eq "$(echo "$s" | jq .sink.dropped_events)" 0 "sink.dropped_events"
assert_eq "$(echo "$s" | jq .sink.undelivered_events)" 0 "sink.undelivered_events"

step "stats fields of DESIGN.md §5 are present in every stage"
for key in reader.bytes_in reader.blocked_ms \
  parse.bytes_in parse.events_out parse.bytes_out parse.invalid parse.oversize parse.filtered parse.blocked_ms \
  sink.events_in sink.events_out sink.bytes_out sink.dropped_events sink.dropped_bytes sink.blocked_ms \
  batches_alive.in_use batches_alive.max batches_alive.limit; do
  echo "$s" | jq -e ".$key | type == \"number\"" >/dev/null || fail "stats: .$key is not a number: $s"
done
ok "all counters present and numeric"
echo "$s" | check_token_bounds

step "token limits in the stats are the flags' values; batches_alive.limit respects guarantee 1"
"$GEN_LOGS" --bytes 8M --seed 5 >"$T/gen.ndjson"
rc=0
"$SLUICE" --stats --read-ahead 3 --parse-tokens 5 --sink-tokens 2 --parse-threads 2 --batch-bytes 16K \
  "$T/gen.ndjson" >"$T/gen.out" 2>"$T/gen.err" || rc=$?
assert_eq "$rc" 0 "exit status"
s="$(final_stats "$T/gen.err")"
[[ -n "$s" ]] || { show "$T/gen.err"; fail "no final stats"; }
assert_eq "$(echo "$s" | jq .reader.tokens.limit)" 3 "reader.tokens.limit (--read-ahead 3)"
assert_eq "$(echo "$s" | jq .parse.tokens.limit)" 5 "parse.tokens.limit (--parse-tokens 5)"
assert_eq "$(echo "$s" | jq .sink.tokens.limit)" 2 "sink.tokens.limit (--sink-tokens 2)"
assert_le "$(echo "$s" | jq .batches_alive.limit)" $((3 + 5 + 2 + 1)) "batches_alive.limit (3+5+2 + 1 source)"
assert_ge "$(echo "$s" | jq .reader.batches_out)" 400 "reader.batches_out (8 MiB in batches of at most 16 KiB)"
echo "$s" | check_token_bounds
assert_eq "$(echo "$s" | jq .sink.events_out)" "$(lines_of "$T/gen.ndjson")" "sink.events_out (= corpus lines)"
assert_same_file "$T/gen.out" "$T/gen.ndjson" "output = corpus"
rm -f "$T/gen.out"

step "--stats-file PATH writes the stats there, not on stderr"
rc=0
"$SLUICE" --stats --stats-file "$T/stats.json" "$APP" >"$T/out2" 2>"$T/err2" || rc=$?
assert_eq "$rc" 0 "exit status"
assert_eq "$(json_lines "$T/err2" | wc -l | tr -d ' ')" 0 "JSON lines on stderr"
assert_eq "$(lines_of "$T/stats.json")" 1 "lines in the stats file"
assert_eq "$(jq -r .stats "$T/stats.json")" final "stats kind in the file"
assert_eq "$(jq .sink.events_out "$T/stats.json")" 395 "sink.events_out in the file"
assert_same_file "$T/out2" "$T/out" "output unchanged by --stats-file"

step "--stats app.ndjson: the word after --stats is an input, not the interval"
rc=0
"$SLUICE" --stats "$APP" --stats-file "$T/stats2.json" >"$T/out3" 2>"$T/err3" || rc=$?
assert_eq "$rc" 0 "exit status"
assert_same_file "$T/out3" "$T/out" "app.ndjson was read"
assert_eq "$(jq -r .stats "$T/stats2.json")" final "only a final object"

step "--stats=1 on a quiet input: interval objects while waiting, then a final one"
mkfifo "$T/in.fifo"
"$SLUICE" --stats=1 --stats-file "$T/slow.json" <"$T/in.fifo" >"$T/slow.out" 2>"$T/slow.err" &
pid=$!
track_pid "$pid"
exec 3>"$T/in.fifo"
cat "$APP" >&3
# The first half reaches the output while the pipe stays open and quiet.
wait_lines "$T/slow.out" 395 10
# Intervals written so far; the next one is written after the 395 lines were out.
seen="$(grep -c '"stats":"interval"' "$T/slow.json" 2>/dev/null || true)"
want=$((seen + 1 > 2 ? seen + 1 : 2))
wait_until 10 has_lines_matching "$T/slow.json" '"stats":"interval"' "$want" ||
  { show "$T/slow.json"; fail "fewer than $want interval objects while the input was quiet"; }
ok "$want interval objects while the input was open"
cat "$APP" >&3
exec 3>&-
wait_exit "$pid" 10
assert_eq "$EXIT_CODE" 0 "exit status"
assert_eq "$(lines_of "$T/slow.out")" 790 "output lines"
jq -e . "$T/slow.json" >/dev/null || { show "$T/slow.json"; fail "stats file holds a line that is not JSON"; }
ok "every stats line is JSON"
n_interval="$(jq -r .stats "$T/slow.json" | grep -cx interval || true)"
assert_ge "$n_interval" 2 "interval objects"
assert_eq "$(jq -r .stats "$T/slow.json" | grep -cx final)" 1 "final objects"
assert_eq "$(tail -n 1 "$T/slow.json" | jq -r .stats)" final "the last object is the final one"
# An interval written after the first half was delivered counts it.
assert_eq "$(jq -r 'select(.stats == "interval") | .sink.events_out' "$T/slow.json" | sed -n "${want}p")" 395 \
  "sink.events_out in interval $want, written while only the first half was sent"
assert_eq "$(tail -n 1 "$T/slow.json" | jq .sink.events_out)" 790 "final sink.events_out"
assert_eq "$(tail -n 1 "$T/slow.json" | jq .reader.bytes_in)" $((2 * APP_BYTES)) "final reader.bytes_in"
# Counters never go backwards from one object to the next.
jq -s -e '[.[].sink.events_out] as $e | all(range(1; $e|length); $e[.] >= $e[. - 1])' "$T/slow.json" >/dev/null ||
  fail "sink.events_out decreases between stats objects: $(jq -c .sink.events_out "$T/slow.json" | tr '\n' ' ')"
ok "sink.events_out never decreases"
while read -r line; do echo "$line" | check_token_bounds >/dev/null; done <"$T/slow.json"
ok "token bounds hold in every stats object"

echo "$E2E_NAME: PASS"
