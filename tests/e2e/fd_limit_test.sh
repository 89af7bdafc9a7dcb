#!/usr/bin/env bash
# -F on more files than the process may open (ulimit -n lowered in a subshell): files that
# get no descriptor wait in turn instead of being taken for missing; every line of every
# file comes out exactly once, the wait is reported, and --max-open-files is checked
# against the limit at start-up (the soft limit raised when the hard one allows).
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

d="$T/logs"
mkdir -p "$d"
for i in $(seq 1 200); do printf '{"f":%d,"n":1}\n{"f":%d,"n":2}\n{"f":%d,"n":3}\n' "$i" "$i" "$i" >"$d/f$i.log"; done

step "200 files under ulimit -n 100, -F --from-start: all 600 lines, each once"
(
  ulimit -n 100
  exec "$SLUICE" -F --from-start --stats=1 --stats-file "$T/stats" "$d/*.log" >"$T/out" 2>"$T/err"
) &
pid=$!
track_pid "$pid"
wait_lines "$T/out" 600 60
assert_contains "$T/err" "read in turns" "the wait for descriptors is reported"
if grep -Eiq "no file matches|no such file" "$T/err"; then show "$T/err"; fail "files waiting for a descriptor were called missing"; fi
ok "no file called missing"

step "one more line appended to every file while descriptors are short: 200 more, each once"
for i in $(seq 1 200); do printf '{"f":%d,"n":4}\n' "$i" >>"$d/f$i.log"; done
wait_lines "$T/out" 800 60
assert_eq "$(sort -u "$T/out" | wc -l | tr -d ' ')" 800 "distinct lines"
assert_eq "$(sort "$T/out" | uniq -d | wc -l | tr -d ' ')" 0 "lines delivered twice"
kill -TERM "$pid"
wait_exit "$pid" 20
assert_eq "$EXIT_CODE" 0 "exit status (every file was read)"
assert_eq "$(final_stats "$T/stats" | jq .reader.inputs_failed)" 0 "inputs_failed"
[[ "$(final_stats "$T/stats" | jq .reader.open_deferred)" -gt 0 ]] || fail "reader.open_deferred does not count the waits"
ok "reader.open_deferred counts the waits"
assert_eq "$(lines_of "$T/out")" 800 "lines in all"

step "--max-open-files beyond the hard limit: a usage error naming both numbers"
rc=0
(
  ulimit -n 100
  exec "$SLUICE" -F --max-open-files 500 "$d/f1.log" >/dev/null 2>"$T/usage.err"
) || rc=$?
assert_eq "$rc" 2 "exit status"
assert_eq "$(wc -l <"$T/usage.err" | tr -d ' ')" 1 "lines of the message"
assert_contains "$T/usage.err" "500.*100" "the message names --max-open-files and the limit"

step "a soft limit under what --max-open-files needs is raised up to the hard limit, and said so"
if [[ "$(ulimit -H -n)" != unlimited && "$(ulimit -H -n)" -lt 400 ]]; then
  ok "skipped: the hard limit $(ulimit -H -n) is too low to raise to"
else
  (
    ulimit -S -n 64
    exec "$SLUICE" -F --from-start --max-open-files 300 --log-level info "$d/f1.log" >"$T/raise.out" 2>"$T/raise.err"
  ) &
  rpid=$!
  track_pid "$rpid"
  wait_lines "$T/raise.out" 4 20
  assert_contains "$T/raise.err" "raised the open-file limit.* from 64 to" "the raise is reported"
  kill -TERM "$rpid"
  wait_exit "$rpid" 20
  assert_eq "$EXIT_CODE" 0 "exit status"
fi
echo "$E2E_NAME: all checks passed"
