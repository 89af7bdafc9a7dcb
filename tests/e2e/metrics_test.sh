#!/usr/bin/env bash
# --metrics: /metrics in the Prometheus text format (valid lines, counters monotonic,
# values agreeing with the final --stats), /healthz 200 while healthy and 503 when the
# output is stalled, a bare port on loopback, bad addresses rejected.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

metrics_port() {  # ERRFILE: the port sluice says it serves on
  grep -o 'metrics at http://[^ ]*' "$1" | sed -E 's#.*:([0-9]+)/metrics#\1#' | tail -n 1
}
metric() {  # SCRAPE NAME [LABELS]: the value of one sample
  awk -v n="$2${3:-}" '$1 == n { print $2 }' "$1"
}

step "a bare port binds loopback only"
mkfifo "$T/in"
"$SLUICE" --metrics 0 --log-level info --stats --stats-file "$T/stats.json" <"$T/in" >"$T/out" 2>"$T/err" &
pid=$!
track_pid "$pid"
exec 3>"$T/in"
wait_until 10 has_lines_matching "$T/err" 'metrics at' 1 || fail "no 'metrics at' line"
assert_contains "$T/err" 'metrics at http://127\.0\.0\.1:[0-9]+/metrics' "bound address"
port="$(metrics_port "$T/err")"
listening="$(ss -Hltn "sport = :$port" 2>/dev/null | awk '{ print $4 }' || true)"
if [[ -n "$listening" ]]; then
  assert_eq "$listening" "127.0.0.1:$port" "listening socket"
fi

step "/healthz is 200 while idle, waiting for input"
assert_eq "$(curl -s -o "$T/h" -w '%{http_code}' "http://127.0.0.1:$port/healthz")" 200 "healthz status"

step "/metrics: every line is valid exposition format"
cat "$SAMPLES/app.ndjson" >&3
wait_lines "$T/out" 395 10
curl -sf "http://127.0.0.1:$port/metrics" >"$T/scrape1"
[[ -s "$T/scrape1" ]] || fail "empty scrape"
bad="$(grep -Evc '^(# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+|[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*\})? -?[0-9.eE+-]+)$' "$T/scrape1" || true)"
assert_eq "$bad" 0 "lines not in exposition format"
# Every family has HELP and TYPE; every counter's name ends in _total.
grep '^# TYPE' "$T/scrape1" | awk '$4 == "counter" && $3 !~ /_total$/ { print; n++ } END { exit n > 0 }' ||
  fail "a counter not named *_total"
for name in $(grep -v '^#' "$T/scrape1" | sed -E 's/[{ ].*//' | sort -u); do
  grep -q "^# TYPE $name " "$T/scrape1" || fail "no TYPE line for $name"
  grep -q "^# HELP $name " "$T/scrape1" || fail "no HELP line for $name"
done
ok "HELP and TYPE for every family; counters end in _total"
assert_eq "$(metric "$T/scrape1" sluice_events_out_total '{stage="sink"}')" 395 "sink events out"
assert_eq "$(metric "$T/scrape1" sluice_invalid_lines_total)" 3 "invalid lines"
assert_eq "$(metric "$T/scrape1" sluice_tokens_limit '{stage="sink"}')" 4 "sink token limit"

step "counters are monotonic between two scrapes"
cat "$SAMPLES/app.ndjson" >&3
wait_lines "$T/out" 790 10
curl -sf "http://127.0.0.1:$port/metrics" >"$T/scrape2"
while read -r name value; do
  before="$(awk -v n="$name" '$1 == n { print $2 }' "$T/scrape1")"
  awk -v a="$before" -v b="$value" 'BEGIN { exit !(b + 0 >= a + 0) }' || fail "$name went down: $before -> $value"
done < <(grep -v '^#' "$T/scrape2" | grep '_total')
assert_eq "$(metric "$T/scrape2" sluice_events_out_total '{stage="sink"}')" 790 "sink events out after more input"

step "the last scrape agrees with the final --stats"
exec 3>&-
wait_exit "$pid" 10
assert_eq "$EXIT_CODE" 0 "exit status"
final="$(final_stats "$T/stats.json")"
assert_eq "$(echo "$final" | jq .sink.events_out)" "$(metric "$T/scrape2" sluice_events_out_total '{stage="sink"}')" "events out"
assert_eq "$(echo "$final" | jq .sink.bytes_out)" "$(metric "$T/scrape2" sluice_bytes_out_total '{stage="sink"}')" "bytes out"
assert_eq "$(echo "$final" | jq .parse.invalid)" "$(metric "$T/scrape2" sluice_invalid_lines_total)" "invalid"
assert_eq "$(echo "$final" | jq .reader.bytes_in)" "$(metric "$T/scrape2" sluice_bytes_in_total '{stage="reader"}')" "bytes in"

step "/healthz is 503 with a reason when the output is stalled"
# stdout is a pipe nobody reads: the sink blocks in write() with batches queued.
mkfifo "$T/stuck"
"$GEN_LOGS" --forever 2>/dev/null | "$SLUICE" --metrics 127.0.0.1:0 --stall-timeout 1 --log-level info \
  >"$T/stuck" 2>"$T/err2" &
pid2=$!
track_pid "$pid2"
exec 4<>"$T/stuck"  # opened, never read
wait_until 10 has_lines_matching "$T/err2" 'metrics at' 1 || fail "no 'metrics at' line"
port2="$(metrics_port "$T/err2")"
healthz_is_503() {
  [[ "$(curl -s -o "$T/h2" -w '%{http_code}' "http://127.0.0.1:$port2/healthz")" == 503 ]]
}
wait_until 15 healthz_is_503 || fail "healthz never turned 503: $(cat "$T/h2")"
assert_contains "$T/h2" '^sink stalled: no progress for [0-9]+ s with [0-9]+ batches queued$' "503 reason"
kill -KILL "$pid2" 2>/dev/null || true
exec 4>&-

step "a bad address is a usage error; a taken port a runtime error"
rc=0; "$SLUICE" --metrics 'x:y' "$SAMPLES/app.ndjson" >/dev/null 2>"$T/err3" || rc=$?
assert_eq "$rc" 2 "exit status for --metrics x:y"
assert_eq "$(lines_of "$T/err3")" 1 "stderr lines"

"$SLUICE" --metrics 127.0.0.1:0 --log-level info <"$T/in" >/dev/null 2>"$T/err4" &
pid4=$!
track_pid "$pid4"
exec 5>"$T/in"
wait_until 10 has_lines_matching "$T/err4" 'metrics at' 1 || fail "no 'metrics at' line"
taken="$(metrics_port "$T/err4")"
rc=0; "$SLUICE" --metrics "127.0.0.1:$taken" "$SAMPLES/app.ndjson" >/dev/null 2>"$T/err5" || rc=$?
assert_eq "$rc" 1 "exit status for a port in use"
assert_contains "$T/err5" 'cannot listen on 127\.0\.0\.1' "message"
exec 5>&-
wait_exit "$pid4" 10

echo "$E2E_NAME: all checks passed"
