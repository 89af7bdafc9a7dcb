#!/usr/bin/env bash
# What -F says about paths it cannot follow, and what it leaves alone: a directory, a FIFO
# or a device is named as such and counted as a failed input (not "no such file yet"); a
# wildcard in a directory name works (watched, new directories picked up); a path deleted
# and recreated again and again is warned about once; sluice's own output (-o,
# --dead-letter), even created later and matching the glob, is not followed.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
ulimit -n 1024

step "-F on a directory, a FIFO, /dev/zero: said what it is, a failed input"
mkdir -p "$T/dir"
mkfifo "$T/fifo"
for p in "$T/dir" "$T/fifo" /dev/zero; do
  rc=0
  timeout 20 "$SLUICE" -F "$p" >/dev/null 2>"$T/kind.err" || rc=$?
  assert_eq "$rc" 1 "exit status for $p"
  assert_contains "$T/kind.err" "is (a directory|a FIFO|a character device)" "$p: what it is"
  if grep -q "no such file" "$T/kind.err"; then show "$T/kind.err"; fail "$p called missing"; fi
done
echo '{"k":1}' >"$T/ok.log"
"$SLUICE" -F --from-start --stats=1 --stats-file "$T/mixed.stats" "$T/dir" "$T/ok.log" >"$T/mixed.out" 2>"$T/mixed.err" &
mpid=$!
track_pid "$mpid"
wait_lines "$T/mixed.out" 1 20
kill -TERM "$mpid"
wait_exit "$mpid" 20
assert_eq "$EXIT_CODE" 1 "exit status with a directory among the paths"
assert_eq "$(final_stats "$T/mixed.stats" | jq .reader.inputs_failed)" 1 "inputs_failed"

step "a wildcard in a directory name: watched, and a new matching directory is picked up"
mkdir -p "$T/g/app1"
echo '{"d":1}' >"$T/g/app1/x.log"
"$SLUICE" -F --from-start "$T/g/app*/x.log" >"$T/glob.out" 2>"$T/glob.err" &
gpid=$!
track_pid "$gpid"
wait_lines "$T/glob.out" 1 20
mkdir -p "$T/g/app2"
echo '{"d":2}' >"$T/g/app2/x.log"
echo '{"d":3}' >>"$T/g/app1/x.log"
wait_lines "$T/glob.out" 3 20
assert_eq "$(sort -u "$T/glob.out" | wc -l | tr -d ' ')" 3 "distinct lines"
if grep -Eiq "cannot watch|no file matches" "$T/glob.err"; then show "$T/glob.err"; fail "the directory wildcard was not watched"; fi
ok "no warning"
kill -TERM "$gpid"
wait_exit "$gpid" 20

step "a path deleted and recreated 3 times: one 'waiting for it to appear'"
"$SLUICE" -F --log-level debug "$T/again.log" >"$T/again.out" 2>"$T/again.err" &
apid=$!
track_pid "$apid"
wait_until 20 has_lines_matching "$T/again.err" 'waiting for it to appear' 1 || fail "no first warning"
for i in 1 2 3; do
  echo "{\"i\":$i}" >"$T/again.log"
  wait_lines "$T/again.out" "$i" 20
  rm "$T/again.log"
  # Let go of once drained and quiet: the next scan finds the path missing again.
  wait_until 20 has_lines_matching "$T/again.err" "let go of .*again\.log" "$i" || fail "deleted file never let go of"
done
echo '{"i":4}' >"$T/again.log"
wait_lines "$T/again.out" 4 20
assert_eq "$(grep -c 'waiting for it to appear' "$T/again.err")" 1 "warnings"
kill -TERM "$apid"
wait_exit "$apid" 20

step "sluice's own outputs rotated into the glob (mv, then SIGHUP): not followed"
# An output that matches the glob at start-up is refused (limits_test); one that comes
# to match it later, when logrotate renames it, is skipped with a warning.
mkdir -p "$T/own"
echo '{"o":1}' >"$T/own/a.log"
"$SLUICE" -F --from-start -o "$T/own/out.txt" --dead-letter "$T/own/dead.txt" "$T/own/*.log" 2>"$T/own.err" &
opid=$!
track_pid "$opid"
wait_lines "$T/own/out.txt" 1 20
echo 'not json' >>"$T/own/a.log"
wait_lines "$T/own/dead.txt" 1 20
mv "$T/own/out.txt" "$T/own/out.1.log"
mv "$T/own/dead.txt" "$T/own/dead.1.log"
kill -HUP "$opid"
wait_until 20 has_lines_matching "$T/own.err" "out\.1\.log is sluice's own output" 1 || { show "$T/own.err"; fail "no warning for out.1.log"; }
wait_until 20 has_lines_matching "$T/own.err" "dead\.1\.log is sluice's own output" 1 || { show "$T/own.err"; fail "no warning for dead.1.log"; }
ok "warned about both rotated outputs"
echo '{"o":2}' >>"$T/own/a.log"
wait_lines "$T/own/out.txt" 1 20
kill -TERM "$opid"
wait_exit "$opid" 20
assert_eq "$(lines_of "$T/own/out.1.log")" 1 "lines in the rotated output (nothing read back)"
assert_eq "$(lines_of "$T/own/out.txt")" 1 "lines in the reopened output"
assert_eq "$(lines_of "$T/own/dead.1.log")" 1 "dead-letter lines (nothing read back)"
echo "$E2E_NAME: all checks passed"
