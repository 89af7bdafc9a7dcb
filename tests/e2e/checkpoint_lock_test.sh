#!/usr/bin/env bash
# One process per --checkpoint (DESIGN.md §6): two sluice processes on one checkpoint
# overwrote each other's saves and shared one temp file (saves failed while both exited
# 0). The second is now refused at start-up, exit 1, with a message naming the holder's
# pid; the first goes on undisturbed; once it is gone the checkpoint is free again.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/e2e/logwriter.sh
source "$(dirname "${BASH_SOURCE[0]}")/logwriter.sh"
e2e_init
lw_init

CP="$T/cp.json"
"$LOG_WRITER" --path "$T/app.log" --lines 100 --src a

step "a follower holds the checkpoint"
start_sluice first -F --from-start --checkpoint "$CP" "$T/app.log"
first=$SLUICE_PID
wait_src "$T/first.out" a 100 10
lock_names() { [[ "$(cat "$CP.lock" 2>/dev/null)" == "$1" ]]; }
wait_until 10 lock_names "$first" || fail "the lock file does not name the holder (pid $first): $(cat "$CP.lock" 2>/dev/null)"
ok "$CP.lock names pid $first"

step "a second sluice on the same checkpoint is refused"
rc=0
"$SLUICE" -F --from-start --checkpoint "$CP" "$T/app.log" >"$T/second.out" 2>"$T/second.err" </dev/null &
second=$!
track_pid "$second"
wait_exit "$second" 15
assert_eq "$EXIT_CODE" 1 "second sluice exit status"
assert_contains "$T/second.err" "in use.*pid $first" "the message names the holder's pid"
assert_eq "$(size_of "$T/second.out")" 0 "second sluice output bytes"
# Without -F too: a one-shot run over the same files is refused the same way.
"$SLUICE" --checkpoint "$CP" "$T/app.log" >"$T/third.out" 2>"$T/third.err" </dev/null || rc=$?
assert_eq "$rc" 1 "one-shot sluice on a held checkpoint: exit status"
assert_contains "$T/third.err" "pid $first" "one-shot: the message names the holder's pid"

step "the holder goes on, and saves as before"
"$LOG_WRITER" --path "$T/app.log" --lines 50 --start 100 --src a
wait_src "$T/first.out" a 150 10
stop_sluice "$first" "first sluice"
jq -e '.files | length == 1' "$CP" >/dev/null || { show "$CP"; fail "the checkpoint is not the holder's"; }
ok "the checkpoint holds the one file"
assert_eq "$(find "$T" -maxdepth 1 -name 'cp.json.tmp*' | wc -l)" 0 "temp files left"

step "once the holder is gone the checkpoint is free: a rerun reads nothing new"
rc=0
"$SLUICE" --checkpoint "$CP" "$T/app.log" >"$T/fourth.out" 2>"$T/fourth.err" </dev/null || rc=$?
assert_eq "$rc" 0 "rerun exit status"
assert_eq "$(size_of "$T/fourth.out")" 0 "rerun output bytes"

echo "$E2E_NAME: PASS"
