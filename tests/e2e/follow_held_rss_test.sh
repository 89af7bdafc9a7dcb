#!/usr/bin/env bash
# Partial lines held by followed files live within the memory budget: 300 files each
# ending in a 900 KB unterminated line are held as offsets in the files, not in memory
# (RSS stays under the budget sluice prints), and each line comes out whole, once, when
# its newline arrives.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

n=300
d="$T/logs"
mkdir -p "$d"
head -c 921600 /dev/zero | tr '\0' x >"$T/pad"
for i in $(seq 1 "$n"); do
  { printf '{"f":%d}\n{"f":%d,"pad":"' "$i" "$i"; cat "$T/pad"; } >"$d/f$i.log"
done
total=$(cat "$d"/*.log | wc -c)

step "$n followed files, each holding a 900 KB partial line"
(
  ulimit -n 1024
  exec "$SLUICE" -F --from-start --log-level debug --stats=1 --stats-file "$T/stats" "$d/*.log" >"$T/out" 2>"$T/err"
) &
pid=$!
track_pid "$pid"
wait_lines "$T/out" "$n" 60
read_all() { [[ "$(grep '"stats":"interval"' "$T/stats" 2>/dev/null | tail -n 1 | jq '.reader.bytes_in // 0')" -ge "$1" ]]; }
# Every byte has been looked at once (the partial lines too), and one more stats line
# after that, so the reader is past its first look at every file.
wait_until 60 read_all "$total" || fail "the reader did not read all $total bytes"
budget_mib=$(grep -Eo 'memory budget: .* ([0-9.]+) MiB' "$T/err" | grep -Eo '[0-9.]+ MiB' | cut -d' ' -f1)
[[ -n "$budget_mib" ]] || fail "no memory budget line on stderr"
rss_kib=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
if [[ -n "${TSAN_OPTIONS:-}${ASAN_OPTIONS:-}" ]]; then
  ok "RSS not checked under a sanitizer (RSS ${rss_kib} KiB)"
else
  assert_le "$rss_kib" "$(awk -v m="$budget_mib" 'BEGIN { printf "%d", m * 1024 }')" "RSS KiB with $n partial lines held (budget $budget_mib MiB)"
fi
assert_eq "$(grep -c pad "$T/out" || true)" 0 "partial lines handed on early"

step "the newlines arrive: every held line comes out whole, once"
for i in $(seq 1 "$n"); do printf '"}\n' >>"$d/f$i.log"; done
wait_lines "$T/out" $((2 * n)) 60
assert_eq "$(awk 'length($0) > 921600' "$T/out" | sort -u | wc -l | tr -d ' ')" "$n" "whole 900 KB lines, distinct"
assert_eq "$(grep -c pad "$T/out")" "$n" "lines with the pad"
kill -TERM "$pid"
wait_exit "$pid" 20
assert_eq "$EXIT_CODE" 0 "exit status"
assert_eq "$(final_stats "$T/stats" | jq .parse.invalid)" 0 "invalid lines"
assert_eq "$(final_stats "$T/stats" | jq .reader.bytes_in)" $((total + 3 * n)) "bytes read, each once"
step "a 10 KB partial line held as an offset goes on when its file is renamed away, and at shutdown"
s="$T/small"
mkdir -p "$s"
{ printf '{"a":1}\n{"a":2,"pad":"'; head -c 10240 "$T/pad"; } >"$s/keep.log"
{ printf '{"b":1}\n{"b":2,"pad":"'; head -c 10240 "$T/pad"; } >"$s/gone.log"
"$SLUICE" -F --from-start --dead-letter "$T/small.dead" "$s/*.log" >"$T/small.out" 2>"$T/small.err" &
spid=$!
track_pid "$spid"
wait_lines "$T/small.out" 2 20
mv "$s/gone.log" "$T/gone.old"
wait_lines "$T/small.dead" 1 20
assert_eq "$(grep -c '"b":2,"pad":"x*$' "$T/small.dead")" 1 "the renamed file's held line, whole"
kill -TERM "$spid"
wait_exit "$spid" 20
assert_eq "$(grep -c '"a":2,"pad":"x*$' "$T/small.dead")" 1 "the held line at shutdown, whole"
assert_eq "$(awk 'length($0) == 10254' "$T/small.dead" | wc -l | tr -d ' ')" 2 "their lengths"
echo "$E2E_NAME: all checks passed"
