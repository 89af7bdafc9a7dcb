#!/usr/bin/env bash
# Backpressure holds for followed files: with a slow sink (--rate) and a file growing much
# faster, sluice's memory stays bounded (the file is simply read later).
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

: >"$T/app.log"
"$SLUICE" -F --from-start --rate 2000/s --stats=1 --stats-file "$T/stats" "$T/app.log" >"$T/out" 2>"$T/err" &
pid=$!
track_pid "$pid"
"$GEN_LOGS" --bytes 200M --seed 5 >>"$T/app.log"
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
stats_lines() { local n; n=$(grep -c '"stats":"interval"' "$T/stats" 2>/dev/null || true); [[ "${n:-0}" -ge "$1" ]]; }
wait_until 10 stats_lines 2 || fail "no stats"
first=$(rss_kib "$pid")
wait_until 10 stats_lines 4 || fail "no stats"
last=$(rss_kib "$pid")
step "RSS while 200 MiB wait unread behind a 2000 events/s sink"
if [[ -n "${TSAN_OPTIONS:-}${ASAN_OPTIONS:-}" ]]; then
  # Sanitizers add shadow memory of their own: RSS says nothing about sluice's buffers
  # there; the counts below still hold.
  ok "RSS not checked under a sanitizer (RSS ${last} KiB)"
else
  assert_le "$last" $((64 * 1024)) "RSS KiB"
  assert_le "$((last - first))" $((8 * 1024)) "RSS growth KiB over two seconds"
fi
read_bytes=$(grep '"stats":"interval"' "$T/stats" | tail -n 1 | jq .reader.bytes_in)
assert_le "$read_bytes" $((32 * 1024 * 1024)) "bytes read so far (the rest waits in the file)"
final=$(grep '"stats":"interval"' "$T/stats" | tail -n 1)
assert_le "$(echo "$final" | jq .batches_alive.max)" "$(echo "$final" | jq .batches_alive.limit)" "batches alive"
kill -TERM "$pid"
wait_exit "$pid" 15
echo "$E2E_NAME: all checks passed"
