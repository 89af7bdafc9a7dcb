#!/usr/bin/env bash
# --max-open-files: idle followed files beyond the limit are closed, reopened by path when
# they change, and nothing is lost; a renamed parked file's successor is read from 0.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

d="$T/logs"
mkdir -p "$d"
for i in $(seq 1 12); do echo "{\"f\":$i,\"n\":0}" >"$d/f$i.log"; done
open_logs() { find "/proc/$1/fd" -lname "$d/*" 2>/dev/null | wc -l; }
at_most_open() { [[ "$(open_logs "$1")" -le "$2" ]]; }

step "12 idle files, --max-open-files 4: at most 4 stay open"
"$SLUICE" -F --from-start --max-open-files 4 "$d/*.log" >"$T/out" 2>"$T/err" &
pid=$!
track_pid "$pid"
wait_lines "$T/out" 12 10
wait_until 10 at_most_open "$pid" 4 || fail "still $(open_logs "$pid") files open"
ok "open files: $(open_logs "$pid")"

step "appending to every file: each new line comes out once (parked files are reopened)"
for i in $(seq 1 12); do echo "{\"f\":$i,\"n\":1}" >>"$d/f$i.log"; done
wait_lines "$T/out" 24 10
assert_eq "$(grep -c '"n":1' "$T/out")" 12 "second lines"
assert_eq "$(sort "$T/out" | uniq -d | wc -l)" 0 "lines delivered twice"
wait_until 10 at_most_open "$pid" 4 || fail "still $(open_logs "$pid") files open after the appends"
ok "back to $(open_logs "$pid") open files"

step "a parked file renamed away and replaced: the new file is read from its start"
mv "$d/f1.log" "$T/f1.old"
printf '{"f":1,"n":2}\n{"f":1,"n":3}\n' >"$d/f1.log"
wait_lines "$T/out" 26 10
assert_eq "$(grep -c '"f":1,' "$T/out")" 4 "events of f1"
kill -TERM "$pid"
wait_exit "$pid" 10
assert_eq "$EXIT_CODE" 0 "exit status"
rc=0; "$SLUICE" --max-open-files 0 "$d/f2.log" >/dev/null 2>"$T/err2" || rc=$?
assert_eq "$rc" 2 "--max-open-files 0 is a usage error"
echo "$E2E_NAME: all checks passed"
